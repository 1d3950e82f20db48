//! The accounts to provision: a CSV file with a header row, or JSON lines.
//!
//! Each account names its `email` and exactly one of `password`, `passwordEnv` (the name of an
//! environment variable holding it) or `passwordFile` (a file holding it, its last line break
//! dropped), so the input file need not hold secrets. A row that cannot be used is a
//! [`BadRow`] with its line number; nothing is ever sent for it.

use std::collections::HashSet;
use std::fmt;
use std::hash::{DefaultHasher, Hasher};
use std::path::Path;

use crate::secret::Secret;

mod rows;

use rows::{Lines, RowParser};

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

/// Parses the accounts from `text`: JSON lines when the first non-blank line starts with `{`,
/// otherwise CSV whose first non-blank line is the header (`email`, `password`,
/// `passwordEnv`, `passwordFile`, in any order and case; other columns are ignored). Blank
/// lines and lines starting with `#` are skipped. Passwords named by `passwordEnv` and
/// `passwordFile` are read now, so a missing one is a bad row before anything is sent. An
/// e-mail listed twice (compared ignoring ASCII case, by a 64-bit hash) is a bad row the second
/// time.
///
/// Every account is kept in memory; [`AccountsFile`] reads a file twice instead (checked
/// first, then read as the accounts are provisioned), so memory does not grow with it.
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
    let mut out = Accounts::default();
    let mut parser = RowParser::default();
    let mut seen = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        match parser.line(i + 1, line) {
            Some(Ok(account)) => match duplicate(&mut seen, account) {
                Ok(account) => out.accounts.push(account),
                Err(bad) => out.bad_rows.push(bad),
            },
            Some(Err(bad)) => out.bad_rows.push(bad),
            None => {}
        }
    }
    out
}

/// The account, or a bad row when its e-mail was seen before.
fn duplicate(seen: &mut HashSet<u64>, account: Account) -> Result<Account, BadRow> {
    if seen.insert(email_key(&account.email)) {
        Ok(account)
    } else {
        Err(BadRow {
            line: account.line,
            reason: format!("{} is listed a second time", account.email),
        })
    }
}

/// A 64-bit hash of the lower-cased e-mail (`DefaultHasher::new()`: the same in every run).
fn email_key(email: &str) -> u64 {
    let mut h = DefaultHasher::new();
    for b in email.bytes() {
        h.write_u8(b.to_ascii_lowercase());
    }
    h.finish()
}

/// An accounts file read twice, so that memory does not grow with the number of accounts:
/// [`open`](Self::open) checks every row (bad rows, duplicates, passwords that cannot be
/// read) and keeps only the bad rows and the count; [`accounts`](Self::accounts) reads the
/// file again and yields the good rows' accounts one at a time, for
/// [`Provisioner::run_iter`](super::Provisioner::run_iter). The format and the rules are those
/// of [`parse_accounts`].
///
/// ```
/// use docspace_tfa::provision::AccountsFile;
///
/// let path = std::env::temp_dir().join(format!("accounts-doc-{}.csv", std::process::id()));
/// std::fs::write(&path, "email,password\nbot1@example.com,pw1\nbot1@EXAMPLE.com,pw\n").unwrap();
/// let file = AccountsFile::open(&path)?;
/// assert_eq!((file.len(), file.bad_rows()[0].line), (1, 3));
/// let emails: Vec<String> = file.accounts()?.filter_map(Result::ok).map(|a| a.email).collect();
/// assert_eq!(emails, ["bot1@example.com"]);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct AccountsFile {
    path: std::path::PathBuf,
    len: usize,
    bad_rows: Vec<BadRow>,
}

impl AccountsFile {
    /// Reads and checks the file at `path` (its passwords are read and dropped).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when it cannot be read;
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when a line is not UTF-8.
    pub fn open(path: impl AsRef<Path>) -> crate::Result<AccountsFile> {
        let path = path.as_ref();
        // The hashes of the good rows' e-mails (8 bytes each, dropped before the run); a
        // second pass, only when two are equal, finds which rows repeat an e-mail.
        let mut hashes = Vec::new();
        let mut bad_rows = Vec::new();
        let mut lines = Lines::open(path)?;
        let mut parser = RowParser::default();
        while let Some((no, text)) = lines.next_line()? {
            match parser.line(no, text) {
                Some(Ok(account)) => hashes.push(email_key(&account.email)),
                Some(Err(bad)) => bad_rows.push(bad),
                None => {}
            }
        }
        let mut len = hashes.len();
        hashes.sort_unstable();
        let repeated: HashSet<u64> = hashes
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        drop(hashes);
        if !repeated.is_empty() {
            let mut lines = Lines::open(path)?;
            let mut parser = RowParser::default();
            let mut seen = HashSet::new();
            while let Some((no, text)) = lines.next_line()? {
                if let Some(Ok(account)) = parser.line(no, text) {
                    let key = email_key(&account.email);
                    if repeated.contains(&key) {
                        if let Err(bad) = duplicate(&mut seen, account) {
                            bad_rows.push(bad);
                            len -= 1;
                        }
                    }
                }
            }
            bad_rows.sort_by_key(|b| b.line);
        }
        Ok(AccountsFile {
            path: path.to_owned(),
            len,
            bad_rows,
        })
    }

    /// The number of accounts (good rows).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no good row.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The rows left out, with their line numbers.
    pub fn bad_rows(&self) -> &[BadRow] {
        &self.bad_rows
    }

    /// The accounts, read from the file again as the iterator is advanced. A row that has
    /// become unusable since [`open`](Self::open) (a password file removed meanwhile, a line
    /// that can no longer be read) is an `Err` with its line number.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be opened again.
    pub fn accounts(&self) -> crate::Result<AccountsIter> {
        Ok(AccountsIter {
            lines: Some(Lines::open(&self.path)?),
            parser: RowParser::default(),
            bad: self.bad_rows.iter().map(|b| b.line).collect(),
            next_bad: 0,
        })
    }
}

/// The accounts of an [`AccountsFile`], read as they are needed.
#[derive(Debug)]
pub struct AccountsIter {
    lines: Option<Lines>,
    parser: RowParser,
    /// The lines of the bad rows, in order: skipped.
    bad: Vec<usize>,
    next_bad: usize,
}

impl Iterator for AccountsIter {
    type Item = Result<Account, BadRow>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let lines = self.lines.as_mut()?;
            let (no, text) = match lines.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => {
                    self.lines = None;
                    return None;
                }
                Err(e) => {
                    let line = lines.no + 1;
                    self.lines = None;
                    return Some(Err(BadRow {
                        line,
                        reason: e.to_string(),
                    }));
                }
            };
            let row = self.parser.line(no, text);
            while self.bad.get(self.next_bad).is_some_and(|&b| b < no) {
                self.next_bad += 1;
            }
            if self.bad.get(self.next_bad) == Some(&no) {
                continue;
            }
            if let Some(row) = row {
                return Some(row);
            }
        }
    }
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
        assert_same_from_a_file(&text, &parsed, &dir.join("accounts.csv"));
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

    /// [`AccountsFile`] reads the same accounts and bad rows from a file as
    /// [`parse_accounts`] from its text.
    fn assert_same_from_a_file(text: &str, parsed: &Accounts, path: &Path) {
        std::fs::write(path, text).unwrap();
        let file = AccountsFile::open(path).unwrap();
        assert_eq!(file.bad_rows(), parsed.bad_rows.as_slice());
        assert_eq!(file.len(), parsed.accounts.len());
        let streamed: Vec<_> = file.accounts().unwrap().map(Result::unwrap).collect();
        let key = |a: &Account| (a.email.clone(), a.password.expose().to_owned(), a.line);
        assert_eq!(
            streamed.iter().map(key).collect::<Vec<_>>(),
            parsed.accounts.iter().map(key).collect::<Vec<_>>()
        );
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn json_lines_rows_table() {
        let text = "{\"email\":\"a@example.com\",\"password\":\"pw\"}\n\
                    {\"email\":\"b@example.com\",\"password\":7}\n\
                    [1]\n\
                    {\"email\":\"c@example.com\",\"passwordFile\":\"/nonexistent/pw\"}\n\
                    {\"email\":\"d@example.com\",\"password\":\"x\",\"extra\":true}\n";
        let parsed = parse_accounts(text);
        let path = std::env::temp_dir().join(format!("dtfa-prov-jsonl-{}", std::process::id()));
        assert_same_from_a_file(&format!("\u{feff}{text}"), &parsed, &path);
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
