//! `confirm` and `settings`: the caller's confirm data, the portal's methods, and setting the
//! policy (`settings set`, `--with-link`).

use docspace_tfa::{Client, ConfirmTicket, Secret, TfaPolicy};
use serde_json::{json, Value};

use crate::output::{Failure, Out};
use crate::terminal::clean;

type Result<T> = std::result::Result<T, Failure>;

/// `confirm`: the caller's confirm URL and key, or that TFA does not apply.
pub fn confirm(out: &Out, client: &Client) -> Result<()> {
    let data = client.tfa().confirm()?;
    // The key: the cookie's, or the one in the URL (an SMS member's phone link carries it).
    let key = data.as_ref().and_then(|d| {
        ConfirmTicket::from_confirm_data(d)
            .ok()
            .map(|t| t.key().expose().to_owned())
    });
    let value = match &data {
        // `confirmUrl`/`confirmKey` as in `login`'s output; `url`, `cookieName` and
        // `cookieValue` (the server's names) stay as aliases.
        Some(d) => json!({
            "confirmUrl": d.url,
            "confirmKey": key,
            "url": d.url,
            "cookieName": d.cookie_name,
            "cookieValue": d.cookie_value.as_ref().map(Secret::expose),
        }),
        None => Value::Null,
    };
    if out.json {
        out.json(&value);
    } else if let Some(d) = &data {
        out.field("confirmUrl", &d.url);
        if let Some(key) = &key {
            out.field("confirmKey", key);
        }
    } else {
        out.line("TFA does not apply to this user");
    }
    Ok(())
}

/// `settings`: the methods as the server lists them.
pub fn settings(out: &Out, client: &Client) -> Result<()> {
    let methods = client.tfa().methods()?;
    if out.json {
        out.json(&serde_json::to_value(&methods).unwrap_or(Value::Null));
        return Ok(());
    }
    if methods.is_empty() {
        out.line("no TFA methods on this portal");
    }
    for m in &methods {
        out.line(format!(
            "{:<4} enabled={:<5} available={:<5} {}",
            clean(m.id.as_str()),
            m.enabled,
            m.available,
            clean(&m.title)
        ));
        // Exactly what the server sent: a list it omitted is not shown, an empty one is.
        for (label, list) in [
            ("trusted IPs", &m.trusted_ips),
            ("mandatory users", &m.mandatory_users),
            ("mandatory groups", &m.mandatory_groups),
        ] {
            if let Some(list) = list {
                out.line(format!("     {label}: {}", clean(&list.join(", "))));
            }
        }
    }
    Ok(())
}

/// `settings set`: sets the policy; with `--with-link`, prints the caller's confirm URL.
///
/// With `--mandatory-user`, the caller's own id goes with the policy
/// ([`TfaPolicy::caller_id`], from one `GET people/@self`): the portal refuses a policy that
/// names its owner unless it carries the owner's id, so without it the owner could not make
/// TFA mandatory for themselves.
pub fn set_policy(out: &Out, client: &Client, policy: &TfaPolicy, with_link: bool) -> Result<()> {
    let with_caller;
    let policy = if !policy.mandatory_users.is_empty() && policy.id.is_none() {
        with_caller = policy.clone().caller_id(client.people().me()?.id);
        &with_caller
    } else {
        policy
    };
    if with_link {
        let url = client.tfa().set_policy_with_link(policy)?;
        if out.json {
            // `""` as the server answers it: nothing for the caller to confirm (TFA off, or
            // the policy saved while TFA does not apply to the caller).
            out.json(&json!({"url": url.as_deref().unwrap_or_default()}));
        } else {
            match url {
                Some(u) => out.field("confirm URL", u),
                None => out.line("policy set; nothing for the caller to confirm"),
            }
        }
    } else {
        let enabled = client.tfa().set_policy(policy)?;
        if out.json {
            out.json(&json!({"enabled": enabled}));
        } else if enabled {
            out.line("policy set: TFA is on (every session on the portal was signed out)");
        } else {
            out.line("policy set: TFA is off");
        }
    }
    Ok(())
}
