//! `codes` and `unlink`: the linked app's backup codes, and unlinking an app (one's own or,
//! for the owner, a member's).

use docspace_tfa::{BackupCode, Client};
use serde_json::{json, Value};

use crate::output::{Failure, Out};
use crate::terminal::clean;

type Result<T> = std::result::Result<T, Failure>;

fn codes_json(codes: &[BackupCode]) -> Value {
    Value::Array(
        codes
            .iter()
            .map(|c| json!({"isUsed": c.is_used, "code": c.code.expose()}))
            .collect(),
    )
}

/// `codes`: lists the backup codes, or replaces them with `--regenerate`.
pub fn codes(out: &Out, client: &Client, regenerate: bool) -> Result<()> {
    let codes = if regenerate {
        client.tfa().regenerate_backup_codes()?
    } else {
        client.tfa().backup_codes()?
    };
    if out.json {
        out.json(&codes_json(&codes));
    } else {
        for c in &codes {
            out.line(format!(
                "{}{}",
                clean(c.code.expose()),
                if c.is_used { "  (used)" } else { "" }
            ));
        }
    }
    Ok(())
}

/// `unlink`: unlinks the caller's app (printing the ticket to link a new one: the URL and its
/// key, under the names `confirm` and `login` use, so that `--confirm-json` reads it) or a
/// member's.
pub fn unlink(out: &Out, client: &Client, user: Option<&str>) -> Result<()> {
    let ticket = match user {
        Some(id) => {
            client.tfa().unlink_user(id)?;
            None
        }
        None => Some(client.tfa().unlink_self()?),
    };
    let url = ticket.as_ref().and_then(|t| t.url()).unwrap_or_default();
    if out.json {
        let mut value = json!({"url": url});
        if let (Some(t), Value::Object(map)) = (&ticket, &mut value) {
            map.insert("confirmUrl".into(), Value::String(url.to_owned()));
            map.insert(
                "confirmKey".into(),
                Value::String(t.key().expose().to_owned()),
            );
        }
        out.json(&value);
    } else if let Some(t) = &ticket {
        out.line("unlinked: link a new app with this ticket");
        out.field("confirmUrl", url);
        out.field("confirmKey", t.key().expose());
    } else {
        out.line("unlinked: the member links a new app at the next login");
    }
    Ok(())
}
