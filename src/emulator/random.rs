//! Randomness from the operating system, in the shapes the portal uses: GUIDs, hex keys,
//! session tokens and backup codes.

use crate::error::{Error, Result};

/// The alphabet of backup codes: `[a-zA-Z0-9_-]`, 64 characters, so one random byte masked to
/// six bits picks a character without bias.
const BACKUP_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// Fills `buf` from the operating system's random source.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<()> {
    getrandom::getrandom(buf).map_err(|e| {
        Error::io(
            "read random bytes for the emulator",
            std::io::Error::other(e.to_string()),
        )
    })
}

/// `n` random bytes as lower-case hex.
pub(crate) fn random_hex(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    fill_random(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A random version-4 GUID in the portal's lower-case form.
pub(crate) fn random_guid() -> Result<String> {
    let mut b = [0u8; 16];
    fill_random(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        h[0..4].concat(),
        h[4..6].concat(),
        h[6..8].concat(),
        h[8..10].concat(),
        h[10..16].concat()
    ))
}

/// A session token: opaque, URL- and cookie-safe.
pub(crate) fn random_token() -> Result<String> {
    let mut bytes = [0u8; 30];
    fill_random(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(BACKUP_ALPHABET[usize::from(b & 63)]))
        .collect())
}

/// A backup code of `len` characters from `[a-zA-Z0-9_-]`.
pub(crate) fn random_backup_code(len: usize) -> Result<String> {
    let mut bytes = vec![0u8; len];
    fill_random(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(BACKUP_ALPHABET[usize::from(b & 63)]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_values_have_the_portal_shapes() {
        let g = random_guid().unwrap();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
        let code = random_backup_code(6).unwrap();
        assert_eq!(code.len(), 6);
        assert!(code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        assert_ne!(random_hex(16).unwrap(), random_hex(16).unwrap());
    }
}
