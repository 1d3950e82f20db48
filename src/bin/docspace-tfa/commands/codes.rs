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

/// `unlink`: unlinks the caller's app (printing where to link a new one) or a member's.
pub fn unlink(out: &Out, client: &Client, user: Option<&str>) -> Result<()> {
    let url = match user {
        Some(id) => {
            client.tfa().unlink_user(id)?;
            String::new()
        }
        None => client
            .tfa()
            .unlink_self()?
            .url()
            .unwrap_or_default()
            .to_owned(),
    };
    if out.json {
        out.json(&json!({"url": url}));
    } else if url.is_empty() {
        out.line("unlinked: the member links a new app at the next login");
    } else {
        out.field("unlinked; link a new app at", url);
    }
    Ok(())
}
