//! Writing a secret to a file: a new file readable by its owner only, put in place by a
//! rename, never written through a symbolic link or into an existing file.
//!
//! The QR image encodes the TOTP key. Opening the target with `create + truncate` would
//! follow a symlink planted at that path (writing the key wherever it points) and keep the
//! mode and owner of a file that already exists there (a world-readable one stays so).
//! Instead the bytes go to a new file created exclusively (`O_CREAT|O_EXCL`, mode 0600 on
//! Unix) in the target's folder, which is then renamed over the target: a rename replaces a
//! symlink itself, not what it points to, and the result always has the new file's mode.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` as a new owner-only file (see the module).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    if fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path is a folder",
        ));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    let (temp, mut file) = create_temp(dir, name)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written
}

/// A new, exclusively created, owner-only file beside the target.
fn create_temp(dir: Option<&Path>, name: &std::ffi::OsStr) -> io::Result<(PathBuf, fs::File)> {
    let mut last = None;
    for attempt in 0..16u32 {
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.{attempt}.tmp", std::process::id()));
        let temp = match dir {
            Some(d) => d.join(&temp_name),
            None => PathBuf::from(&temp_name),
        };
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no temporary file name was free")))
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    #[test]
    fn replaces_a_symlink_and_a_readable_file_with_a_private_one() {
        let dir = std::env::temp_dir().join(format!("docspace-tfa-private-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        fs::write(&victim, b"keep me").unwrap();
        let link = dir.join("qr.png");
        symlink(&victim, &link).unwrap();
        write_private(&link, b"PNG").unwrap();
        assert_eq!(
            fs::read(&victim).unwrap(),
            b"keep me",
            "the link was not followed"
        );
        let meta = fs::symlink_metadata(&link).unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);

        let open = dir.join("open.png");
        fs::write(&open, b"old").unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&open, b"new").unwrap();
        assert_eq!(fs::read(&open).unwrap(), b"new");
        assert_eq!(
            fs::metadata(&open).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(write_private(&dir, b"x").is_err());
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        fs::remove_dir_all(&dir).unwrap();
    }
}
