//! Line reading and row parsing: each line's CSV or JSON row, its password resolved.

use std::fmt;
use std::io::{BufRead, Read};
use std::path::Path;

use super::{Account, BadRow};
use crate::secret::Secret;

/// The largest password file read: a password is far smaller.
const MAX_PASSWORD_FILE: u64 = 64 * 1024;

/// The raw fields of one row, before the password is resolved.
#[derive(Default)]
struct Row {
    email: Option<String>,
    password: Option<String>,
    password_env: Option<String>,
    password_file: Option<String>,
}

/// The rows of an input, one line at a time: the format is set by the first non-blank line.
#[derive(Default)]
pub(super) struct RowParser {
    format: Format,
}

#[derive(Default)]
enum Format {
    /// Before the first non-blank line.
    #[default]
    Start,
    /// JSON lines.
    Json,
    /// CSV: the columns of `email`, `password`, `passwordEnv`, `passwordFile`.
    Csv([Option<usize>; 4]),
    /// A header that cannot be used: no row is read.
    Dead,
}

impl RowParser {
    /// The account or bad row of line `no` (1-based); `None` for a line that is not a row
    /// (blank, a comment, the header, or after an unusable header).
    pub(super) fn line(&mut self, no: usize, text: &str) -> Option<Result<Account, BadRow>> {
        let text = if no == 1 {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() || text.trim_start().starts_with('#') {
            return None;
        }
        let bad = |reason: String| BadRow { line: no, reason };
        let row = match &self.format {
            Format::Dead => return None,
            Format::Start if text.trim_start().starts_with('{') => {
                self.format = Format::Json;
                json_row(text)
            }
            Format::Start => {
                let header = match split_csv(text) {
                    Ok(h) => h,
                    Err(reason) => {
                        self.format = Format::Dead;
                        return Some(Err(bad(format!("the header row: {reason}"))));
                    }
                };
                let column = |name: &str| {
                    header
                        .iter()
                        .position(|h| h.trim().eq_ignore_ascii_case(name))
                };
                if column("email").is_none() {
                    self.format = Format::Dead;
                    return Some(Err(bad(
                        "the header row has no `email` column (a CSV file \
                                         starts with a header such as `email,passwordEnv`)"
                            .to_owned(),
                    )));
                }
                self.format = Format::Csv([
                    column("email"),
                    column("password"),
                    column("passwordEnv"),
                    column("passwordFile"),
                ]);
                return None;
            }
            Format::Json => json_row(text),
            Format::Csv([email, password, env, file]) => split_csv(text).map(|fields| {
                let get = |i: &Option<usize>| {
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
            }),
        };
        Some(row.and_then(|r| resolve(r, no)).map_err(bad))
    }
}

impl fmt::Debug for RowParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowParser").finish_non_exhaustive()
    }
}

/// A file's lines, one at a time, with their 1-based numbers.
#[derive(Debug)]
pub(super) struct Lines {
    reader: std::io::BufReader<std::fs::File>,
    buf: Vec<u8>,
    pub(super) no: usize,
    shown: String,
}

impl Lines {
    pub(super) fn open(path: &Path) -> crate::Result<Lines> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path)
            .map_err(|e| crate::Error::io(format!("read the accounts {shown}"), e))?;
        Ok(Lines {
            reader: std::io::BufReader::new(file),
            buf: Vec::new(),
            no: 0,
            shown,
        })
    }

    pub(super) fn next_line(&mut self) -> crate::Result<Option<(usize, &str)>> {
        self.buf.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.buf)
            .map_err(|e| crate::Error::io(format!("read the accounts {}", self.shown), e))?;
        if n == 0 {
            return Ok(None);
        }
        self.no += 1;
        let line = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
        let text = std::str::from_utf8(line).map_err(|_| {
            crate::Error::invalid_input(
                "accounts",
                format!("{}: line {} is not UTF-8 text", self.shown, self.no),
            )
        })?;
        Ok(Some((self.no, text)))
    }
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
