//! `status`, `logout` and `check-link`: the session's life (`docs/cli.md`).

use docspace_tfa::{Client, ConfirmResult};
use serde_json::json;

use crate::output::{Failure, Out};

type Result<T> = std::result::Result<T, Failure>;

/// `status`: `{"authenticated": bool}`; exit 4 when not signed in.
pub fn status(out: &Out, client: &Client) -> Result<()> {
    let authenticated = client.auth().is_authenticated()?;
    if out.json {
        out.json(&json!({ "authenticated": authenticated }));
    } else if authenticated {
        out.line("signed in");
    } else {
        out.line("not signed in");
    }
    if authenticated {
        Ok(())
    } else {
        Err(Failure::reported(4))
    }
}

/// `logout`: `{"loggedOut": true}`, with `ssoLogoutUrl` for a single-sign-on user.
pub fn logout(out: &Out, client: &Client) -> Result<()> {
    let logged_out = client.auth().logout()?;
    if out.json {
        let mut value = json!({ "loggedOut": true });
        if let Some(url) = &logged_out.sso_logout_url {
            value["ssoLogoutUrl"] = json!(url);
        }
        out.json(&value);
    } else {
        out.line("logged out");
        if let Some(url) = &logged_out.sso_logout_url {
            out.field("single sign-on logout", url);
        }
    }
    Ok(())
}

/// `check-link`: `{"result": "ok"|"invalid"|…}` (with `email` when the portal named one, and
/// `code` for a result this tool does not know); exit 4 unless `ok`.
pub fn check_link(out: &Out, client: &Client, url: &str, key: Option<&str>) -> Result<()> {
    let check = client.auth().check_confirm(url, key)?;
    if out.json {
        let mut value = json!({ "result": check.result.as_str() });
        if let Some(email) = &check.email {
            value["email"] = json!(email);
        }
        if let ConfirmResult::Unknown(code) = check.result {
            value["code"] = json!(code);
        }
        out.json(&value);
    } else {
        let mut line = check.result.as_str().to_owned();
        if let ConfirmResult::Unknown(code) = check.result {
            line.push_str(&format!(" ({code})"));
        }
        out.line(line);
        if let Some(email) = &check.email {
            out.field("email", email);
        }
    }
    if check.result == ConfirmResult::Ok {
        Ok(())
    } else {
        Err(Failure::reported(4))
    }
}

/// Whether a confirm link (or its query) carries a non-empty `key` parameter of its own.
pub fn link_carries_key(link: &str) -> bool {
    let without_fragment = link.split('#').next().unwrap_or_default();
    let query = without_fragment
        .split_once('?')
        .map_or(without_fragment, |(_, q)| q);
    query.split('&').any(|pair| match pair.split_once('=') {
        Some((name, value)) => name.eq_ignore_ascii_case("key") && !value.trim().is_empty(),
        None => false,
    })
}

#[cfg(test)]
mod tests {
    use super::link_carries_key;

    #[test]
    fn a_link_carries_its_key_or_not() {
        assert!(link_carries_key(
            "https://p/confirm/PhoneActivation?type=PhoneActivation&key=1.ab&encemail=e"
        ));
        assert!(link_carries_key("type=EmailChange&Key=1.ab"));
        assert!(!link_carries_key(
            "https://p/confirm/TfaAuth?type=TfaAuth&uid=u"
        ));
        assert!(!link_carries_key("https://p/c?type=T&key=&uid=u#key=x"));
    }
}
