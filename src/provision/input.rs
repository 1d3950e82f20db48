//! The accounts to provision: a CSV file with a header row, or JSON lines.
//!
//! Each account names its `email` and exactly one of `password`, `passwordEnv` (the name of an
//! environment variable holding it) or `passwordFile` (a file holding it, its last line break
//! dropped), so the input file need not hold secrets. A row that cannot be used is a
//! [`BadRow`] with its line number; nothing is ever sent for it.

use std::collections::HashSet;
use std::fmt;
use std::io::Read;
use std::path::Path;

use crate::secret::Secret;

/// The largest password file read: a password is far smaller.
const MAX_PASSWORD_FILE: u64 = 64 * 1024;

/// One account to provision: its e-mail and password, and the input line it came from.
#[derive(Clone)]
pub struct Account {
    /// The login name (e-mail), trimmed.
    pub email: String,
    /// The password, resolved from the row.
    pub password: Secret,
    /// The 1-based line of the input the account came from.
    pub line: usize,
}

impl fmt::Debug for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Account")
            .field("email", &self.email)
            .field("password", &self.password)
            .field("line", &self.line)
            .finish()
    }
}

/// A row of the input that was not used: its 1-based line number and why. The reason never
/// quotes a password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRow {
    /// The 1-based line number in the input.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for BadRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The parsed input: the usable accounts, in input order, and the rows that were not.
#[derive(Debug, Clone, Default)]
pub struct Accounts {
    /// The accounts to provision.
    pub accounts: Vec<Account>,
    /// The rows left out, with their line numbers.
    pub bad_rows: Vec<BadRow>,
}

/// The raw fields of one row, before the password is resolved.
#[derive(Default)]
struct Row {
    email: Option<String>,
    password: Option<String>,
    password_env: Option<String>,
    password_file: Option<String>,
}

/// Parses the accounts from `text`: JSON lines when the first non-blank line starts with `{`,
/// otherwise CSV whose first non-blank line is the header (`email`, `password`,
/// `passwordEnv`, `passwordFile`, in any order and case; other columns are ignored). Blank
/// lines and lines starting with `#` are skipped. Passwords named by `passwordEnv` and
/// `passwordFile` are read now, so a missing one is a bad row before anything is sent. An
/// e-mail listed twice is a bad row the second time.
///
/// ```
/// use docspace_tfa::provision::parse_accounts;
///
/// let csv = "email,password\nbot1@example.com,pw1\nbot2@example.com,\n";
/// let parsed = parse_accounts(csv);
/// assert_eq!(parsed.accounts.len(), 1);
/// assert_eq!(parsed.accounts[0].email, "bot1@example.com");
/// assert_eq!(parsed.bad_rows[0].line, 3);
/// ```
pub fn parse_accounts(text: &str) -> Accounts {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let mut out = Accounts::default();
    let Some((first_no, first)) = lines.next() else {
        return out;
    };
    let mut seen = HashSet::new();
    let mut push = |line: usize, row: Result<Row, String>, out: &mut Accounts| match row
        .and_then(|r| resolve(r, line))
    {
        Ok(account) => {
            if seen.insert(account.email.to_ascii_lowercase()) {
                out.accounts.push(account);
            } else {
                out.bad_rows.push(BadRow {
                    line,
                    reason: format!("{} is listed a second time", account.email),
                });
            }
        }
        Err(reason) => out.bad_rows.push(BadRow { line, reason }),
    };
    if first.trim_start().starts_with('{') {
        for (line, text) in std::iter::once((first_no, first)).chain(lines) {
            push(line, json_row(text), &mut out);
        }
        return out;
    }
    let header = match split_csv(first) {
        Ok(h) => h,
        Err(reason) => {
            out.bad_rows.push(BadRow {
                line: first_no,
                reason: format!("the header row: {reason}"),
            });
            return out;
        }
    };
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (email, password, env, file) = (
        column("email"),
        column("password"),
        column("passwordEnv"),
        column("passwordFile"),
    );
    if email.is_none() {
        out.bad_rows.push(BadRow {
            line: first_no,
            reason: "the header row has no `email` column (a CSV file starts with a header \
                     such as `email,passwordEnv`)"
                .to_owned(),
        });
        return out;
    }
    for (line, text) in lines {
        let row = split_csv(text).map(|fields| {
            let get = |i: Option<usize>| {
                i.and_then(|i| fields.get(i))
                    .map(|s| s.to_owned())
                    .filter(|s| !s.is_empty())
            };
            Row {
                email: get(email),
                password: get(password),
                password_env: get(env),
                password_file: get(file),
            }
        });
        push(line, row, &mut out);
    }
    out
}

/// One JSON-lines row.
fn json_row(text: &str) -> Result<Row, String> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("not a JSON object (column {})", e.column()))?;
    let object = value.as_object().ok_or("not a JSON object")?;
    let field = |name: &str| -> Result<Option<String>, String> {
        match object.get(name) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) if s.is_empty() => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(format!("`{name}` is not a string")),
        }
    };
    Ok(Row {
        email: field("email")?,
        password: field("password")?,
        password_env: field("passwordEnv")?,
        password_file: field("passwordFile")?,
    })
}

/// The fields of one CSV line (RFC 4180 quoting within the line: `"a,b"`, `""` for a quote).
fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                fields.push(finish(&mut field, was_quoted));
                was_quoted = false;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".to_owned());
    }
    fields.push(finish(&mut field, was_quoted));
    Ok(fields)
}

fn finish(field: &mut String, quoted: bool) -> String {
    let text = std::mem::take(field);
    if quoted {
        text
    } else {
        text.trim().to_owned()
    }
}

/// The account of a row: an e-mail and exactly one password source, resolved.
fn resolve(row: Row, line: usize) -> Result<Account, String> {
    let email = row
        .email
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
        .ok_or("no `email`")?;
    if !email.contains('@') || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("`email` is not an e-mail address: {email:?}"));
    }
    let password = match (row.password, row.password_env, row.password_file) {
        (Some(p), None, None) => p,
        (None, Some(name), None) => match std::env::var(name.trim()) {
            Ok(p) if !p.is_empty() => p,
            Ok(_) => return Err(format!("the environment variable {name} is empty")),
            Err(_) => return Err(format!("the environment variable {name} is not set")),
        },
        (None, None, Some(path)) => read_password_file(Path::new(path.trim()))?,
        (None, None, None) => {
            return Err("no password: give one of `password`, `passwordEnv`, `passwordFile`".into())
        }
        _ => {
            return Err(
                "more than one of `password`, `passwordEnv`, `passwordFile`: give one".into(),
            )
        }
    };
    Ok(Account {
        email,
        password: Secret::new(password),
        line,
    })
}

/// A password file's text without its last line break.
fn read_password_file(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read the password file {shown}: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_PASSWORD_FILE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the password file {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_PASSWORD_FILE {
        return Err(format!(
            "the password file {shown} is larger than 64 KiB: not a password"
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("the password file {shown} is not UTF-8 text"))?;
    let text = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(&text);
    if text.is_empty() {
        return Err(format!("the password file {shown} is empty"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_table() {
        std::env::set_var("DOCSPACE_TFA_TEST_PROVISION_PW", "from-env");
        let dir = std::env::temp_dir().join(format!("dtfa-prov-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pw_file = dir.join("pw");
        std::fs::write(&pw_file, "from-file\n").unwrap();
        let text = format!(
            "# service accounts\nEmail,Password,passwordEnv,passwordFile,team\n\
             a@example.com,pw-a,,,x\n\
             \"b@example.com\",\"p,w \"\"b\"\"\",,,y\n\
             c@example.com,,DOCSPACE_TFA_TEST_PROVISION_PW,,\n\
             d@example.com,,,{},\n\
             \n\
             e@example.com,,,,\n\
             f@example.com,pw,DOCSPACE_TFA_TEST_PROVISION_PW,,\n\
             g@example.com,,DOCSPACE_TFA_TEST_PROVISION_MISSING,,\n\
             not-an-email,pw,,,\n\
             a@example.com,pw-again,,,\n\
             h@example.com,\"unclosed,,,\n",
            pw_file.display()
        );
        let parsed = parse_accounts(&text);
        let got: Vec<(&str, &str, usize)> = parsed
            .accounts
            .iter()
            .map(|a| (a.email.as_str(), a.password.expose(), a.line))
            .collect();
        assert_eq!(
            got,
            [
                ("a@example.com", "pw-a", 3),
                ("b@example.com", "p,w \"b\"", 4),
                ("c@example.com", "from-env", 5),
                ("d@example.com", "from-file", 6),
            ]
        );
        let bad: Vec<(usize, &str)> = parsed
            .bad_rows
            .iter()
            .map(|b| (b.line, b.reason.as_str()))
            .collect();
        let cases: &[(usize, &str)] = &[
            (8, "no password"),
            (9, "more than one"),
            (10, "is not set"),
            (11, "not an e-mail"),
            (12, "a second time"),
            (13, "not closed"),
        ];
        assert_eq!(bad.len(), cases.len(), "{bad:?}");
        for ((line, reason), (want_line, want)) in bad.iter().zip(cases) {
            assert_eq!(line, want_line);
            assert!(reason.contains(want), "line {line}: {reason}");
            assert!(!reason.contains("pw-again") && !reason.contains("from-env"));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn json_lines_rows_table() {
        let text = "{\"email\":\"a@example.com\",\"password\":\"pw\"}\n\
                    {\"email\":\"b@example.com\",\"password\":7}\n\
                    [1]\n\
                    {\"email\":\"c@example.com\",\"passwordFile\":\"/nonexistent/pw\"}\n\
                    {\"email\":\"d@example.com\",\"password\":\"x\",\"extra\":true}\n";
        let parsed = parse_accounts(text);
        let emails: Vec<_> = parsed.accounts.iter().map(|a| a.email.as_str()).collect();
        assert_eq!(emails, ["a@example.com", "d@example.com"]);
        let lines: Vec<_> = parsed.bad_rows.iter().map(|b| b.line).collect();
        assert_eq!(lines, [2, 3, 4]);
        assert!(parsed.bad_rows[0]
            .reason
            .contains("`password` is not a string"));
        assert!(parsed.bad_rows[2]
            .reason
            .contains("cannot read the password file"));
    }

    #[test]
    fn a_header_without_email_and_an_empty_input() {
        let parsed = parse_accounts("user,password\nx@example.com,pw\n");
        assert!(parsed.accounts.is_empty());
        assert_eq!(parsed.bad_rows[0].line, 1);
        assert!(parse_accounts("\n\n").bad_rows.is_empty());
        let secret = parse_accounts("email,password\na@example.com,hunter2\n");
        assert!(!format!("{:?}", secret.accounts).contains("hunter2"));
    }
}
