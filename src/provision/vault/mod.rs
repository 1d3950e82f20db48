//! The vault: a JSON-lines file, one [`Record`] per state change of an account. A key is
//! flushed to disk (`fdatasync`) before the request that may link it; other lines are staged
//! and flushed in groups. The latest line of an account is its state; earlier lines stay as
//! history. See `docs/provisioning.md`.

use std::collections::HashMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::hash::{BuildHasherDefault, DefaultHasher, Hasher};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::error::{Error, Result};

mod record;

pub(crate) use record::rfc3339_now;
pub use record::{Record, Status};

/// An open vault: the file (appended to) and where the latest line of each account starts.
///
/// The index maps a 64-bit hash of each lower-cased e-mail to where its latest line starts in
/// the file (16 bytes an account), not the record: [`latest`](Self::latest) reads the line back
/// and checks its e-mail, and looks through the whole file in the (unlikely) case of two
/// e-mails with the same hash. One process writes a vault at a time (run one `provision` per
/// vault).
///
/// [`append`](Self::append) writes a line and flushes it to disk at once;
/// [`stage`](Self::stage) keeps it in memory until the next [`sync`](Self::sync) (or
/// `append`, or the vault is dropped), which writes every staged line with one `write` and
/// flushes them with one `fdatasync`.
pub struct Vault {
    path: PathBuf,
    /// The file, opened for appending. Writes are ordered by `writer`; flushes (`fdatasync`)
    /// run outside that lock, so the flushes of several workers can share one disk commit.
    file: File,
    writer: Mutex<Writer>,
    /// A second handle for reading lines back, with its own position.
    reader: Mutex<File>,
    /// Hash of the lower-cased e-mail → where its latest line starts (16 bytes an account).
    latest: Mutex<HashMap<u64, u64, BuildHasherDefault<Prehashed>>>,
    skipped: usize,
}

/// The index's hasher: its keys are hashes already.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .field("skipped_lines", &self.skipped)
            .finish_non_exhaustive()
    }
}

struct Writer {
    /// The file ends in a torn line (no line break): the next record starts on a new line.
    needs_newline: bool,
    /// The length of the file: where the staged lines will start.
    end: u64,
    /// Lines staged, not yet written: they belong at `end`.
    pending: Vec<u8>,
}

impl Vault {
    /// Opens the vault at `path`, reading the records already there, or creates it: a new
    /// file, created exclusively (never through a symbolic link or over a file that appears
    /// meanwhile) and readable by its owner only (mode 0600 on Unix).
    ///
    /// Lines that do not parse — a last line torn by a crash, or such a line that later runs
    /// wrote after — are skipped and counted ([`skipped_lines`](Self::skipped_lines)).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be created, opened or
    /// read; [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the path is a
    /// symbolic link or not a file, or (on Unix) the file can be read by its group or others.
    ///
    /// ```
    /// use docspace_tfa::provision::{Record, Status, Vault};
    ///
    /// let path = std::env::temp_dir().join(format!("vault-doc-{}.jsonl", std::process::id()));
    /// # let _ = std::fs::remove_file(&path);
    /// let vault = Vault::open(&path)?;
    /// vault.append(&Record::new("bot@example.com", Status::NotApplicable))?;
    /// let again = Vault::open(&path)?;
    /// assert_eq!(again.latest("bot@example.com").map(|r| r.status), Some(Status::NotApplicable));
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Vault> {
        let path = path.as_ref();
        let shown = path.display().to_string();
        let (file, bytes) = match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                create_new(path).map_err(|e| Error::io(format!("create the vault {shown}"), e))?,
                Vec::new(),
            ),
            Err(e) => return Err(Error::io(format!("open the vault {shown}"), e)),
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(Error::invalid_input(
                    "vault",
                    format!("{shown} is a symbolic link: give the vault's real path"),
                ))
            }
            Ok(meta) if !meta.is_file() => {
                return Err(Error::invalid_input(
                    "vault",
                    format!("{shown} is not a file"),
                ))
            }
            Ok(meta) => {
                check_private(&meta, &shown)?;
                let mut file = OpenOptions::new()
                    .read(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| Error::io(format!("open the vault {shown}"), e))?;
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes)
                    .map_err(|e| Error::io(format!("read the vault {shown}"), e))?;
                (file, bytes)
            }
        };
        let mut latest = HashMap::default();
        let mut skipped = 0;
        for (offset, line) in lines_with_offsets(&bytes) {
            match serde_json::from_slice::<Record>(line) {
                Ok(r) => {
                    latest.insert(email_hash(&r.email), offset);
                }
                Err(_) => skipped += 1,
            }
        }
        let reader = file
            .try_clone()
            .map_err(|e| Error::io(format!("open the vault {shown}"), e))?;
        Ok(Vault {
            path: path.to_owned(),
            file,
            writer: Mutex::new(Writer {
                needs_newline: bytes.last().is_some_and(|&b| b != b'\n'),
                end: bytes.len() as u64,
                pending: Vec::new(),
            }),
            reader: Mutex::new(reader),
            latest: Mutex::new(latest),
            skipped,
        })
    }

    /// Every record in the vault file at `path`, oldest first (the history), and the number
    /// of lines skipped because they do not parse.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be read.
    pub fn read_all(path: impl AsRef<Path>) -> Result<(Vec<Record>, usize)> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| Error::io(format!("read the vault {}", path.display()), e))?;
        let mut records = Vec::new();
        let mut skipped = 0;
        for (_, line) in lines_with_offsets(&bytes) {
            match serde_json::from_slice::<Record>(line) {
                Ok(r) => records.push(r),
                Err(_) => skipped += 1,
            }
        }
        Ok((records, skipped))
    }

    /// Makes room in the index for `accounts` accounts in all, at once (instead of growing it
    /// as lines are added): for a run over a known number of accounts.
    pub fn reserve(&self, accounts: usize) {
        let mut index = lock(&self.latest);
        let more = accounts.saturating_sub(index.len());
        index.reserve(more);
    }

    /// The path of the vault file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lines of the file that were skipped when it was opened (torn by a crash, or damaged).
    pub fn skipped_lines(&self) -> usize {
        self.skipped
    }

    /// The latest record of `email` (compared ignoring ASCII case), read back from the file
    /// (or from the lines staged). `None` when the vault has no line for it (or the line can no
    /// longer be read).
    pub fn latest(&self, email: &str) -> Option<Record> {
        let place = lock(&self.latest).get(&email_hash(email)).copied()?;
        match self.read_line(place) {
            Some(r) if r.email.eq_ignore_ascii_case(email) => Some(r),
            // Another e-mail with the same hash (or a line lost to a failed write): the file
            // says which line is this one's.
            _ => self.scan().remove(&email.to_ascii_lowercase()),
        }
    }

    /// The latest record of every account, in no particular order (reads the whole file).
    pub fn latest_all(&self) -> Vec<Record> {
        self.scan().into_values().collect()
    }

    /// The latest record of each e-mail (lower-cased), from the file and the staged lines.
    fn scan(&self) -> HashMap<String, Record> {
        let mut bytes = Vec::new();
        {
            let writer = lock(&self.writer);
            let mut reader = lock(&self.reader);
            let read = reader
                .seek(SeekFrom::Start(0))
                .and_then(|_| (&mut *reader).take(writer.end).read_to_end(&mut bytes));
            if read.is_err() {
                bytes.clear();
            }
            bytes.extend_from_slice(&writer.pending);
        }
        let mut all = HashMap::new();
        for (_, line) in lines_with_offsets(&bytes) {
            if let Ok(r) = serde_json::from_slice::<Record>(line) {
                all.insert(r.email.to_ascii_lowercase(), r);
            }
        }
        all
    }

    /// The record of the line at `offset` (up to its line break), in the file or staged.
    fn read_line(&self, offset: u64) -> Option<Record> {
        let end = {
            let writer = lock(&self.writer);
            if offset >= writer.end {
                // A staged line.
                let at = usize::try_from(offset - writer.end).ok()?;
                let rest = writer.pending.get(at..)?;
                let line = rest.split(|&b| b == b'\n').next()?;
                return serde_json::from_slice(line).ok();
            }
            writer.end
        };
        let mut line = Vec::new();
        let mut reader = lock(&self.reader);
        reader.seek(SeekFrom::Start(offset)).ok()?;
        let mut chunk = [0u8; 1024];
        let mut at = offset;
        while at < end {
            let want = usize::try_from(end - at).map_or(chunk.len(), |n| n.min(chunk.len()));
            let n = reader.read(&mut chunk[..want]).ok()?;
            if n == 0 {
                break;
            }
            at += n as u64;
            if let Some(i) = chunk[..n].iter().position(|&b| b == b'\n') {
                line.extend_from_slice(&chunk[..i]);
                break;
            }
            line.extend_from_slice(&chunk[..n]);
        }
        drop(reader);
        serde_json::from_slice(&line).ok()
    }

    /// Appends `record` as one line and flushes it to disk (`fdatasync`) before returning,
    /// with every line staged before it: once this returns, the lines survive a crash of the
    /// process or the machine.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the lines cannot be written or flushed.
    pub fn append(&self, record: &Record) -> Result<()> {
        self.stage(record)?;
        self.sync()
    }

    /// Stages `record`: [`latest`](Self::latest) sees it at once, but it is written to the
    /// file only by the next [`sync`](Self::sync) (or [`append`](Self::append), or when the
    /// vault is dropped). A process killed before that loses it; use it for lines the next run
    /// can do without (an outcome whose account the next run finishes from its saved key).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the record cannot be serialized.
    pub fn stage(&self, record: &Record) -> Result<()> {
        let line = serde_json::to_vec(record)
            .map_err(|e| Error::io("write a vault record", std::io::Error::other(e.to_string())))?;
        let mut writer = lock(&self.writer);
        if writer.needs_newline && writer.pending.is_empty() {
            // The file ends in a torn line: the next record starts on a new line.
            writer.pending.push(b'\n');
        }
        let place = writer.end + writer.pending.len() as u64;
        writer.pending.extend_from_slice(&line);
        writer.pending.push(b'\n');
        // Under the writer's lock: the index follows the order of the lines.
        lock(&self.latest).insert(email_hash(&record.email), place);
        Ok(())
    }

    /// Writes the staged lines (one `write`) and flushes the file to disk (`fdatasync`): once
    /// this returns, every line staged or appended before survives a crash of the process or
    /// the machine.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the lines cannot be written or flushed.
    pub fn sync(&self) -> Result<()> {
        let shown = self.path.display();
        let failed = |e| Error::io(format!("write the vault {shown}"), e);
        {
            let mut writer = lock(&self.writer);
            if !writer.pending.is_empty() {
                let start = writer.end;
                let pending = std::mem::take(&mut writer.pending);
                // One write of the whole group, in append mode. If it fails part way, the
                // next line starts on a new line all the same.
                writer.needs_newline = true;
                let written = (&self.file).write_all(&pending);
                // What the file's length is now, whatever was written.
                writer.end = self.file.metadata().map(|m| m.len()).unwrap_or(start);
                written.map_err(failed)?;
                writer.needs_newline = false;
            }
        }
        // Outside the writer's lock: the flushes of several workers can share one commit.
        self.file.sync_data().map_err(failed)
    }
}

impl Drop for Vault {
    /// Writes and flushes the staged lines (best effort: an error is lost; call
    /// [`sync`](Vault::sync) to see it).
    fn drop(&mut self) {
        if !lock(&self.writer).pending.is_empty() {
            let _ = self.sync();
        }
    }
}

/// The index's key: a 64-bit hash of the lower-cased e-mail (`DefaultHasher::new()`: the same
/// keys in every instance).
fn email_hash(email: &str) -> u64 {
    let mut h = DefaultHasher::new();
    for b in email.bytes() {
        h.write_u8(b.to_ascii_lowercase());
    }
    h.finish()
}

/// The non-blank lines of `bytes` (without their line breaks), with the byte offset each
/// starts at.
fn lines_with_offsets(bytes: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut offset = 0u64;
    bytes.split(|&b| b == b'\n').filter_map(move |line| {
        let start = offset;
        offset += line.len() as u64 + 1;
        let trimmed = line.strip_suffix(b"\r").unwrap_or(line);
        (!trimmed.iter().all(u8::is_ascii_whitespace)).then_some((start, trimmed))
    })
}

/// A new owner-only file, created exclusively, with its folder entry flushed.
fn create_new(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    // The new name survives a crash too (best effort: not every system can open a folder).
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Ok(d) = File::open(dir.unwrap_or(Path::new("."))) {
        let _ = d.sync_all();
    }
    Ok(file)
}

/// Refuses a vault its group or others can read (Unix).
fn check_private(meta: &std::fs::Metadata, shown: &str) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::invalid_input(
                "vault",
                format!(
                    "{shown} can be read by others (mode {mode:o}) and holds TOTP keys; \
                     restrict it with `chmod 600 {shown}` first"
                ),
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (meta, shown);
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;

    fn temp(name: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("dtfa-vault-{name}-{}", std::process::id()));
        let _ = std::fs::remove_file(&p);
        p
    }

    #[cfg(unix)]
    #[test]
    fn created_private_latest_wins_torn_lines_skipped() {
        use std::os::unix::fs::PermissionsExt;
        let path = temp("torn");
        let vault = Vault::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let mut saved = Record::new("A@example.com", Status::KeySaved);
        saved.totp_key = Some(Secret::new("JBSWY3DPEHPK3PXP"));
        vault.append(&saved).unwrap();
        let mut linked = saved.clone();
        linked.status = Status::Linked;
        linked.backup_codes = Some(vec![Secret::new("abc123")]);
        vault.append(&linked).unwrap();
        assert!(!format!("{linked:?}").contains("JBSWY3DP"));
        assert!(!format!("{linked:?}").contains("abc123"));
        drop(vault);
        // A crash mid-write: half a line at the end.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"email":"b@example.com","stat"#).unwrap();
        drop(f);
        let vault = Vault::open(&path).unwrap();
        assert_eq!(vault.skipped_lines(), 1);
        assert_eq!(
            vault.latest("a@EXAMPLE.com").unwrap().status,
            Status::Linked
        );
        vault
            .append(&Record::new("b@example.com", Status::Failed))
            .unwrap();
        // Read back through the index: the line after the torn one starts one byte later.
        assert_eq!(
            vault.latest("b@example.com").unwrap().status,
            Status::Failed
        );
        let a = vault.latest("a@example.com").unwrap();
        assert_eq!(a.backup_codes.as_ref().map(Vec::len), Some(1));
        assert_eq!(vault.latest_all().len(), 2);
        drop(vault);
        let (all, skipped) = Vault::read_all(&path).unwrap();
        let statuses: Vec<_> = all.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [Status::KeySaved, Status::Linked, Status::Failed]);
        assert_eq!(
            skipped, 1,
            "the torn line stays skipped, the next one is whole"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = Vault::open(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        let link = temp("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(Vault::open(&link)
            .unwrap_err()
            .to_string()
            .contains("symbolic link"));
        std::fs::remove_file(&link).unwrap();
        std::fs::remove_file(&path).unwrap();
    }
}
