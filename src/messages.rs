//! The server's own words: the localized messages that tell a refusal from "not available".
//!
//! A portal answers both "you may not do this" and "this method is not available" with the
//! same `403` and the same exception type (`System.InvalidOperationException`); servers up to
//! 3.2.1 answered both with a plain `500`. Only the message differs, and the message is
//! localized in the caller's culture (30 of them). This module holds every translation of the
//! four resource keys the TFA endpoints throw (copied from the server's resource files into
//! `src/messages/server-messages.json`, with their source) plus the literal "Not available.",
//! and recognizes a message in any of them. `docs/server.md` explains where each one is thrown.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

/// The table, compiled into the crate: `{"source", "literal", "keys", "messages": {culture:
/// {key: text}}}`.
const TABLE_JSON: &str = include_str!("messages/server-messages.json");

/// A message of the DocSpace server that this crate recognizes, in whatever culture it came.
///
/// [`Error::recognized_message`](crate::Error::recognized_message) names the one an error
/// carried; the [`ErrorKind`](crate::ErrorKind) is decided from it where the status and the
/// exception type cannot tell (see `docs/server.md` in the repository).
///
/// ```
/// use docspace_tfa::ServerMessage;
///
/// assert_eq!(ServerMessage::recognize("User disabled"), Some(ServerMessage::UserDisabled));
/// assert_eq!(ServerMessage::recognize(" benutzer deaktiviert. "), Some(ServerMessage::UserDisabled));
/// assert_eq!(
///     ServerMessage::recognize("Настройки приложения для аутентификации недоступны"),
///     Some(ServerMessage::TfaAppNotAvailable)
/// );
/// assert_eq!(ServerMessage::recognize("Incorrect code"), None);
/// assert!(ServerMessage::AccessDenied.is_refusal());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ServerMessage {
    /// `ErrorAccessDenied` ("No permissions to perform this action"): the caller may not do
    /// this — name the owner in a policy, unlink another member's app without being the owner.
    AccessDenied,
    /// `ErrorUserDisabled` ("User disabled"): a correct password for a disabled account.
    UserDisabled,
    /// `TfaAppNotAvailable` ("TFA application settings are not available"): the app method is
    /// off, no app is linked, or the app is already linked.
    TfaAppNotAvailable,
    /// `SmsNotAvailable` ("SMS settings are not available"): the portal has no SMS.
    SmsNotAvailable,
    /// The literal "Not available." (never translated): the caller is an outsider or a
    /// terminated user.
    NotAvailable,
}

impl ServerMessage {
    /// Every recognized message.
    pub const ALL: [ServerMessage; 5] = [
        ServerMessage::AccessDenied,
        ServerMessage::UserDisabled,
        ServerMessage::TfaAppNotAvailable,
        ServerMessage::SmsNotAvailable,
        ServerMessage::NotAvailable,
    ];

    /// The server's resource key (`"ErrorAccessDenied"`, …; `"NotAvailable"` for the literal).
    pub fn key(self) -> &'static str {
        match self {
            ServerMessage::AccessDenied => "ErrorAccessDenied",
            ServerMessage::UserDisabled => "ErrorUserDisabled",
            ServerMessage::TfaAppNotAvailable => "TfaAppNotAvailable",
            ServerMessage::SmsNotAvailable => "SmsNotAvailable",
            ServerMessage::NotAvailable => "NotAvailable",
        }
    }

    /// Whether the message refuses the caller ([`ErrorKind::Forbidden`](crate::ErrorKind::Forbidden))
    /// rather than reporting a method that is not available
    /// ([`ErrorKind::NotAvailable`](crate::ErrorKind::NotAvailable)).
    pub fn is_refusal(self) -> bool {
        matches!(
            self,
            ServerMessage::AccessDenied | ServerMessage::UserDisabled
        )
    }

    /// Recognizes a server message in any of the server's 30 cultures. Leading and trailing
    /// whitespace, a trailing full stop and letter case are ignored, and inner runs of
    /// whitespace count as one space. `None` for any other text.
    pub fn recognize(text: &str) -> Option<ServerMessage> {
        let key = normalize(text);
        if key.is_empty() {
            return None;
        }
        table().by_text.get(&key).copied()
    }

    /// The message in a culture (`"de"`, `"pt-BR"`, matched ignoring case), or `None` for a
    /// culture the server has no translation for. The literal "Not available." is the same in
    /// every culture.
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    pub(crate) fn localized(self, culture: &str) -> Option<&'static str> {
        let table = table();
        if self == ServerMessage::NotAvailable {
            return Some(table.literal.as_str());
        }
        table
            .cultures
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(culture.trim()))
            .and_then(|(_, texts)| texts.get(&self))
            .map(String::as_str)
    }

    /// The cultures the table holds, in the order of the server's files.
    #[cfg_attr(not(feature = "emulator"), allow(dead_code))]
    pub(crate) fn cultures() -> impl Iterator<Item = &'static str> {
        table().cultures.iter().map(|(c, _)| c.as_str())
    }

    fn from_key(key: &str) -> Option<ServerMessage> {
        ServerMessage::ALL.into_iter().find(|m| m.key() == key)
    }
}

/// The parsed table.
#[cfg_attr(not(feature = "emulator"), allow(dead_code))] // the emulator speaks the cultures
struct Table {
    /// The literal "Not available.".
    literal: String,
    /// Culture → key → text, cultures in file order.
    cultures: Vec<(String, HashMap<ServerMessage, String>)>,
    /// Normalized text → key.
    by_text: HashMap<String, ServerMessage>,
}

#[derive(Deserialize)]
struct RawTable {
    literal: HashMap<String, String>,
    messages: serde_json::Map<String, serde_json::Value>,
}

/// The table, parsed on first use. Data that fails to parse (impossible for the file compiled
/// in, which a test checks) gives an empty table: nothing is recognized, nothing panics.
fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        parse(TABLE_JSON).unwrap_or_else(|| Table {
            literal: "Not available.".to_owned(),
            cultures: Vec::new(),
            by_text: HashMap::new(),
        })
    })
}

fn parse(json: &str) -> Option<Table> {
    let raw: RawTable = serde_json::from_str(json).ok()?;
    let literal = raw.literal.get("NotAvailable")?.clone();
    let mut by_text = HashMap::new();
    by_text.insert(normalize(&literal), ServerMessage::NotAvailable);
    let mut cultures = Vec::new();
    for (culture, texts) in raw.messages {
        let texts: HashMap<String, String> = serde_json::from_value(texts).ok()?;
        let mut map = HashMap::new();
        for (key, text) in texts {
            let message = ServerMessage::from_key(&key)?;
            by_text.insert(normalize(&text), message);
            map.insert(message, text);
        }
        cultures.push((culture, map));
    }
    Some(Table {
        literal,
        cultures,
        by_text,
    })
}

/// The form texts are compared in: trimmed, without a trailing full stop (`.` or `。`),
/// whitespace runs as one space, lower case.
fn normalize(text: &str) -> String {
    let trimmed = text.trim();
    let trimmed = trimmed
        .strip_suffix('.')
        .or_else(|| trimmed.strip_suffix('。'))
        .unwrap_or(trimmed)
        .trim_end();
    trimmed
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compiled_table_parses_completely() {
        let table = parse(TABLE_JSON).expect("the table parses");
        assert_eq!(table.cultures.len(), 30);
        for (culture, texts) in &table.cultures {
            assert_eq!(texts.len(), 4, "{culture}");
        }
        assert_eq!(table.literal, "Not available.");
    }

    #[test]
    fn no_text_means_two_things() {
        let table = table();
        for (culture, texts) in &table.cultures {
            for (message, text) in texts {
                assert_eq!(
                    ServerMessage::recognize(text),
                    Some(*message),
                    "{culture} {text}"
                );
            }
        }
    }

    #[test]
    fn matching_is_forgiving_but_not_loose() {
        use ServerMessage::*;
        assert_eq!(
            ServerMessage::recognize("  no PERMISSIONS to perform\tthis action. "),
            Some(AccessDenied)
        );
        assert_eq!(
            ServerMessage::recognize("Not available"),
            Some(NotAvailable)
        );
        assert_eq!(
            ServerMessage::recognize("not available."),
            Some(NotAvailable)
        );
        assert_eq!(
            ServerMessage::recognize("短信设置不可用。"),
            Some(SmsNotAvailable)
        );
        assert_eq!(ServerMessage::recognize(""), None);
        assert_eq!(ServerMessage::recognize("."), None);
        assert_eq!(ServerMessage::recognize("User disabled for good"), None);
        assert_eq!(ServerMessage::recognize("Access denied"), None);
        assert_eq!(
            AccessDenied.localized("DE"),
            Some("Keine Berechtigung zum Durchführen dieser Aktion")
        );
        assert_eq!(NotAvailable.localized("xx"), Some("Not available."));
        assert_eq!(UserDisabled.localized("xx"), None);
        assert_eq!(ServerMessage::cultures().count(), 30);
    }
}
