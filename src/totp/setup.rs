//! The authenticator's view of a [`SetupCode`]: its key, its URI and its QR image.

use std::path::Path;

use super::key::{decode_base32, TotpKey};
use super::otpauth::OtpAuthUri;
use super::qr::decode_png_data_url;
use super::scan::read_qr_text;
use crate::config::normalize_base_url;
use crate::error::{Error, Result};
use crate::models::SetupCode;
use crate::secret::Secret;

#[cfg_attr(docsrs, doc(cfg(feature = "totp")))]
impl SetupCode {
    /// The TOTP key of the `manualEntryKey`, parsed as [`TotpKey::from_base32`] does.
    ///
    /// ```
    /// use docspace_tfa::totp::Totp;
    /// use docspace_tfa::SetupCode;
    ///
    /// let setup = SetupCode::new("john.doe@example.com", "GEZDGNBVGY3TQOJQ", "");
    /// let key = setup.totp_key()?;
    /// assert_eq!(key.as_bytes(), b"1234567890");
    /// let code = Totp::docspace().code_at(&key, 1_700_000_000);
    /// assert_eq!(code.expose().len(), 6);
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) (about the "manual entry
    /// key") when the key is empty or not base32; the message never contains the key.
    pub fn totp_key(&self) -> Result<TotpKey> {
        let bytes = decode_base32(self.manual_entry_key.expose())
            .map_err(|reason| Error::invalid_input("manual entry key", reason))?;
        TotpKey::from_bytes(&bytes)
    }

    /// The exact text of the QR image (`qrCodeSetupImageUrl`): the `otpauth://` URI the portal
    /// wrote, byte for byte, read as an authenticator app reads it.
    ///
    /// The portal writes that URI nowhere else, and its issuer is the tenant's domain, which is
    /// not necessarily the host of the base URL (a portal reached by IP or by another name, a
    /// self-hosted install whose domain is `localhost`). The text is checked to be an
    /// `otpauth://totp/` URI for this setup code's key.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the image URL is not a
    /// PNG data URL ([`qr_png`](SetupCode::qr_png)), the image holds no readable QR code (or
    /// more than one), or its text is not an otpauth URI for the manual entry key. The message
    /// never contains the text.
    ///
    /// The image comes from the network, so reading it is bounded: an image larger than 512
    /// pixels a side (the portal's are about 200–260) is refused from its header, before any
    /// pixel is decoded; so is one with more than 128 shapes that look like a QR code's finder
    /// patterns; and the reader gets at most 3 seconds (a real image takes milliseconds). Each
    /// of these is the same `InvalidInput` error, and [`otpauth_uri`](SetupCode::otpauth_uri)
    /// then builds the URI instead.
    pub fn qr_uri(&self) -> Result<Secret> {
        let text = read_qr_text(&self.qr_png()?)?;
        let uri = OtpAuthUri::parse(text.expose())?;
        if uri.secret != self.totp_key()? {
            return Err(Error::invalid_input(
                "QR image",
                "its otpauth URI holds another key than the manual entry key",
            ));
        }
        Ok(text)
    }

    /// The `otpauth://` URI of this setup code, parsed: the one the QR image holds
    /// ([`qr_uri`](SetupCode::qr_uri)) when the image can be read, and otherwise one built from
    /// the setup code with the issuer = the host of `base_url` (pass
    /// [`Client::base_url`](crate::Client::base_url)), account = [`SetupCode::account`] and
    /// secret = the manual entry key, encoded as the portal encodes it.
    ///
    /// The fallback is right when the portal's tenant domain is the host of the base URL; when
    /// it is not, only the issuer differs (an app shows another name; the codes are the same).
    /// `base_url` may be a full URL (`https://portal.example.com/`, with or without a port or
    /// a path) or a bare host name; the issuer is its host name in lower case, without the
    /// port. Use [`OtpAuthUri::new`] for another issuer.
    ///
    /// ```
    /// use docspace_tfa::SetupCode;
    ///
    /// // No QR image here: the URI is built.
    /// let setup = SetupCode::new("john.doe@example.com", "JBSWY3DPEHPK3PXP", "");
    /// let uri = setup.otpauth_uri("https://Portal.Example.com:8443/")?;
    /// assert_eq!(uri.issuer, "portal.example.com");
    /// assert_eq!(
    ///     uri.to_uri().expose(),
    ///     "otpauth://totp/portal.example.com:john.doe%40example.com\
    ///      ?secret=JBSWY3DPEHPK3PXP&issuer=portal.example.com"
    /// );
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the manual entry key is
    /// invalid (see [`totp_key`](SetupCode::totp_key)), or the image cannot be read and
    /// `base_url` has no host.
    pub fn otpauth_uri(&self, base_url: &str) -> Result<OtpAuthUri> {
        let key = self.totp_key()?;
        if let Ok(text) = self.qr_uri() {
            return OtpAuthUri::parse(text.expose());
        }
        let issuer = host_of(base_url)?;
        Ok(OtpAuthUri::new(issuer, self.account.clone(), key))
    }

    /// The `otpauth://` URI as text, for an app or a QR code of one's own: the QR image's text
    /// byte for byte ([`qr_uri`](SetupCode::qr_uri)) when the image can be read, and otherwise
    /// the built URI of [`otpauth_uri`](SetupCode::otpauth_uri) (same fallback, same caveat).
    ///
    /// # Errors
    ///
    /// As for [`otpauth_uri`](SetupCode::otpauth_uri).
    pub fn otpauth_uri_text(&self, base_url: &str) -> Result<Secret> {
        let key = self.totp_key()?;
        match self.qr_uri() {
            Ok(text) => Ok(text),
            // Built directly: the image is read once, not again by `otpauth_uri`.
            Err(_) => Ok(OtpAuthUri::new(host_of(base_url)?, self.account.clone(), key).to_uri()),
        }
    }

    /// The PNG bytes of the QR image (`qrCodeSetupImageUrl`), as [`decode_png_data_url`]
    /// decodes them.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the URL is missing, is
    /// not a `data:image/png;base64,…` URL, or does not decode to a PNG.
    pub fn qr_png(&self) -> Result<Vec<u8>> {
        decode_png_data_url(self.qr_code_setup_image_url.expose())
    }

    /// Writes the QR image to a PNG file (creating or replacing it) for a person to scan.
    ///
    /// The image holds the secret. It is written to a new file created exclusively in the
    /// target's folder (readable by its owner only, mode `0600` on Unix) and renamed into
    /// place: an existing file or a symbolic link at `path` is replaced, never written
    /// through, and never keeps its old permissions. Delete the file once the app is linked.
    ///
    /// ```no_run
    /// # let client = docspace_tfa::Client::from_env()?;
    /// let setup = client.tfa().setup()?;
    /// setup.save_qr_png("qr.png")?;
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) as for
    /// [`qr_png`](SetupCode::qr_png) (then no file is touched), and
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when the file cannot be created or written.
    pub fn save_qr_png(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let png = self.qr_png()?;
        let what = || format!("write QR image to {}", path.display());
        super::private_file::write_private(path, &png).map_err(|e| Error::io(what(), e))
    }
}

/// The host name of a base URL (or of a bare host), lower case, without port or brackets:
/// the client's own base-URL check ([`normalize_base_url`]) on the text, with `https://` put
/// in front of a bare host.
fn host_of(base_url: &str) -> Result<String> {
    let text = base_url.trim();
    let with_scheme;
    let text = if text.is_empty() || text.contains("://") {
        text
    } else {
        with_scheme = format!("https://{text}");
        &with_scheme
    };
    // Only the host is used: plain http:// to any host is fine here.
    let base = normalize_base_url(text, true)?;
    Ok(base
        .host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        for (url, host) in [
            ("https://portal.example.com", "portal.example.com"),
            (
                "https://Portal.Example.COM:8443/docspace/",
                "portal.example.com",
            ),
            ("http://127.0.0.1:8092", "127.0.0.1"),
            ("http://[::1]:80/", "::1"),
            ("portal.example.com", "portal.example.com"),
            ("portal.example.com:443", "portal.example.com"),
        ] {
            assert_eq!(host_of(url).unwrap(), host, "{url}");
        }
        for bad in ["", "   ", "https://", "https:///path", "not a url"] {
            assert!(host_of(bad).is_err(), "{bad}");
        }
    }
}
