//! Local files holding secrets or trust: the token file and the CA certificate file.

use std::io::Read;
use std::path::Path;

use crate::output::Failure;

/// The largest token file read: a token is well under a kilobyte.
const MAX_TOKEN_BYTES: u64 = 64 * 1024;
/// The largest CA certificate file read.
const MAX_CA_BYTES: u64 = 4 * 1024 * 1024;

/// The token from `--token-file PATH` (`-` = stdin): bounded, with a warning when the file
/// is readable by its group or others, and without the path in messages when the path looks
/// like a token (typed in place of the file name).
pub fn read_token(path: &Path) -> Result<String, Failure> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .lock()
            .take(MAX_TOKEN_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage(format!("cannot read the token from stdin: {e}")))?;
        if text.len() as u64 > MAX_TOKEN_BYTES {
            return Err(Failure::usage(
                "the token on stdin is larger than 64 KiB: not a token",
            ));
        }
        return Ok(text);
    }
    let name = shown_name(path);
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::usage(format!("cannot read the token file {name}: {e}")))?;
    warn_if_shared(&file, &name);
    let mut bytes = Vec::new();
    file.take(MAX_TOKEN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("cannot read the token file {name}: {e}")))?;
    if bytes.len() as u64 > MAX_TOKEN_BYTES {
        return Err(Failure::usage(format!(
            "the token file {name} is larger than 64 KiB: not a token"
        )));
    }
    String::from_utf8(bytes)
        .map_err(|_| Failure::usage(format!("the token file {name} is not UTF-8 text")))
}

/// The PEM text of `--ca-cert FILE` / `DOCSPACE_CA_CERT`, bounded.
pub fn read_ca_cert(path: &Path) -> Result<Vec<u8>, Failure> {
    let what = || format!("cannot read the CA certificate file {}", path.display());
    let file = std::fs::File::open(path).map_err(|e| Failure::usage(format!("{}: {e}", what())))?;
    let mut bytes = Vec::new();
    file.take(MAX_CA_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("{}: {e}", what())))?;
    if bytes.len() as u64 > MAX_CA_BYTES {
        return Err(Failure::usage(format!(
            "the CA certificate file {} is larger than 4 MiB",
            path.display()
        )));
    }
    Ok(bytes)
}

/// The path as messages show it: hidden when it looks like a token rather than a file name
/// (one long component of token characters, with a digit, without an extension).
fn shown_name(path: &Path) -> String {
    let text = path.to_string_lossy();
    let looks_like_token = path.components().count() == 1
        && text.len() >= 16
        && text.bytes().any(|b| b.is_ascii_digit())
        && !text.contains(['.', ' '])
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_+/=~,".contains(&b));
    if looks_like_token {
        "(name not shown: it looks like a token)".to_owned()
    } else {
        text.into_owned()
    }
}

/// Warns on stderr when the token file can be read by its group or others (Unix).
fn warn_if_shared(file: &std::fs::File, name: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = file.metadata() {
            let mode = meta.permissions().mode();
            if meta.is_file() && mode & 0o077 != 0 {
                eprintln!(
                    "warning: the token file {name} can be read by others (mode {:o}); \
                     restrict it with chmod 600",
                    mode & 0o777
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (file, name);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_like_paths_are_not_shown() {
        assert!(shown_name(Path::new("sk-2f0c8a1e9d7b4c3aa6e51f0b9d2c7e84")).contains("not shown"));
        assert_eq!(shown_name(Path::new("token.txt")), "token.txt");
        assert_eq!(
            shown_name(Path::new("/run/secrets/docspace-token")),
            "/run/secrets/docspace-token"
        );
    }
}
