//! The QR image of a setup code: a `data:image/png;base64,…` URL.

use base64::engine::general_purpose::STANDARD_PAD_INDIFFERENT;
use base64::{DecodeError, Engine};

use super::otpauth::strip_prefix_ignore_case;
use crate::error::{Error, Result};

/// The eight bytes every PNG file starts with.
pub const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Decodes a `data:image/png;base64,…` URL (the portal's `qrCodeSetupImageUrl`) into the bytes
/// of the PNG image.
///
/// The scheme, the media type and `base64` may be in any case; other parameters (such as
/// `;charset=…`) are ignored; whitespace in the data is skipped and `=` padding is optional.
/// The decoded bytes must start with the PNG signature followed by the `IHDR` chunk every PNG
/// begins with.
///
/// The image encodes the `otpauth://` URI, and therefore the secret: treat the bytes (and any
/// file they are written to) as you would the key.
///
/// ```
/// use docspace_tfa::totp::{decode_png_data_url, PNG_SIGNATURE};
/// use docspace_tfa::ErrorKind;
///
/// // The first bytes of a PNG: the signature and the start of the IHDR chunk.
/// let png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB";
/// assert_eq!(decode_png_data_url(png)?[..8], PNG_SIGNATURE);
///
/// let gif = "data:image/gif;base64,R0lGODlhAQABAAAAACw=";
/// assert_eq!(decode_png_data_url(gif).unwrap_err().kind(), ErrorKind::InvalidInput);
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for every problem with the URL,
/// decoding included: the value came from the portal, but it is checked as input before any
/// use, and nothing was sent or received. The cases: an empty value, a URL that is not a
/// `data:` URL, a media type other than `image/png`, data that is not marked `;base64`,
/// invalid base64, and bytes that are not a PNG. Messages name the position of a bad
/// character, never the data.
pub fn decode_png_data_url(url: &str) -> Result<Vec<u8>> {
    let bad = |reason: String| Error::invalid_input("QR image URL", reason);
    let url = url.trim();
    if url.is_empty() {
        return Err(bad("it is empty".to_owned()));
    }
    let rest = strip_prefix_ignore_case(url, "data:").ok_or_else(|| {
        bad("it is not a data: URL (expected data:image/png;base64,…)".to_owned())
    })?;
    let (header, data) = rest
        .split_once(',')
        .ok_or_else(|| bad("it has no ',' between the media type and the data".to_owned()))?;
    let mut parameters = header.split(';');
    let media_type = parameters.next().unwrap_or_default().trim();
    let is_base64 = parameters.any(|p| p.trim().eq_ignore_ascii_case("base64"));
    if !media_type.eq_ignore_ascii_case("image/png") {
        return Err(bad(format!(
            "its media type is {}, not image/png",
            describe_media_type(media_type)
        )));
    }
    if !is_base64 {
        return Err(bad(
            "its data is not base64 (expected data:image/png;base64,…)".to_owned(),
        ));
    }
    let data: Vec<u8> = data.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if data.is_empty() {
        return Err(bad("it holds no data after the comma".to_owned()));
    }
    let bytes = STANDARD_PAD_INDIFFERENT
        .decode(&data)
        .map_err(|e| bad(describe_base64_error(&e)))?;
    if bytes.get(..8) != Some(&PNG_SIGNATURE[..]) {
        return Err(bad(
            "the decoded data is not a PNG image (it does not start with the PNG signature)"
                .to_owned(),
        ));
    }
    if bytes.get(12..16) != Some(&b"IHDR"[..]) {
        return Err(bad(
            "the decoded data is not a PNG image (no IHDR chunk after the signature)".to_owned(),
        ));
    }
    Ok(bytes)
}

/// The media type for an error message: shown when it is short and plain (it is not secret),
/// described otherwise.
fn describe_media_type(media_type: &str) -> String {
    if media_type.is_empty() {
        "empty (text/plain)".to_owned()
    } else if media_type.len() <= 64
        && media_type
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/+-.".contains(&b))
    {
        media_type.to_owned()
    } else {
        "unreadable".to_owned()
    }
}

/// A base64 error without the offending byte (offsets count non-whitespace characters).
fn describe_base64_error(e: &DecodeError) -> String {
    match e {
        DecodeError::InvalidByte(offset, _) => {
            format!("its data is not valid base64 (a bad character at offset {offset})")
        }
        DecodeError::InvalidLength(_) => {
            "its data is not valid base64 (the length is impossible; truncated?)".to_owned()
        }
        DecodeError::InvalidLastSymbol { offset, .. } => {
            format!("its data is not valid base64 (a bad last character at offset {offset})")
        }
        DecodeError::InvalidPadding => "its data is not valid base64 (bad padding)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_type_descriptions() {
        assert_eq!(describe_media_type(""), "empty (text/plain)");
        assert_eq!(describe_media_type("image/svg+xml"), "image/svg+xml");
        assert_eq!(describe_media_type("image/p\u{0}ng"), "unreadable");
        assert_eq!(describe_media_type(&"a".repeat(65)), "unreadable");
    }
}
