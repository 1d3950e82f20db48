//! Which certificates the client trusts, and what it says when it cannot verify a portal.
//!
//! By default the client trusts Mozilla's root certificates as bundled with `ureq`
//! ([`TlsRoots::Bundled`]), the same set on every machine. A self-hosted portal behind an
//! internal certificate authority needs that authority's certificate:
//! [`ClientBuilder::add_root_certificates_pem`](crate::ClientBuilder::add_root_certificates_pem)
//! (the CLI's `--ca-cert FILE` or `DOCSPACE_CA_CERT`), which then *replaces* the bundled roots,
//! as `curl --cacert` does. With the cargo feature `platform-verifier`,
//! `TlsRoots::Platform` trusts the operating system's store instead, where an IT department
//! installs its internal CA.
//!
//! Certificate verification is never switched off: there is no "insecure" TLS setting.

use std::sync::Arc;

use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

use crate::error::{Error, Result};

/// The certificate authorities a client trusts when no custom root certificate was given.
///
/// ```
/// use docspace_tfa::{Client, TlsRoots};
///
/// let client = Client::builder()
///     .base_url("https://portal.example.com")
///     .tls_roots(TlsRoots::Bundled)
///     .build()?;
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TlsRoots {
    /// Mozilla's root certificates, bundled in the binary (`webpki-roots`): the same trust on
    /// every machine, unaffected by what is installed locally. The default.
    #[default]
    Bundled,
    /// The operating system's certificate store and verifier (`rustls-platform-verifier`):
    /// trusts an internal CA that is installed on the machine. Needs the cargo feature
    /// `platform-verifier`.
    #[cfg(feature = "platform-verifier")]
    #[cfg_attr(docsrs, doc(cfg(feature = "platform-verifier")))]
    Platform,
}

/// The largest PEM text accepted for root certificates (a CA bundle is well below it).
const MAX_PEM_BYTES: usize = 4 * 1024 * 1024;

/// The TLS settings of a client: the roots from the builder, or the custom certificates.
pub(crate) fn config(roots: TlsRoots, custom_pem: &[Vec<u8>]) -> Result<TlsConfig> {
    let root_certs = if custom_pem.is_empty() {
        match roots {
            TlsRoots::Bundled => RootCerts::WebPki,
            #[cfg(feature = "platform-verifier")]
            TlsRoots::Platform => RootCerts::PlatformVerifier,
        }
    } else {
        #[cfg(feature = "platform-verifier")]
        if roots == TlsRoots::Platform {
            return Err(Error::invalid_input(
                "root certificates",
                "custom root certificates and TlsRoots::Platform exclude each other: install the \
                 CA in the system store, or give its certificate without TlsRoots::Platform",
            ));
        }
        let mut certs = Vec::new();
        for pem in custom_pem {
            certs.extend(parse_certificates(pem)?);
        }
        RootCerts::Specific(Arc::new(certs))
    };
    Ok(TlsConfig::builder().root_certs(root_certs).build())
}

/// Every certificate of a PEM text (one or many); private keys and other sections are
/// skipped.
///
/// # Errors
///
/// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the text is not PEM, a
/// certificate section does not decode, or there is no certificate at all.
pub(crate) fn parse_certificates(pem: &[u8]) -> Result<Vec<Certificate<'static>>> {
    let bad = |reason: &str| Error::invalid_input("root certificates", reason.to_owned());
    if pem.len() > MAX_PEM_BYTES {
        return Err(bad("the PEM text is larger than 4 MiB"));
    }
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(pem) {
        match item {
            Ok(PemItem::Certificate(cert)) => certs.push(cert),
            Ok(_) => {}
            Err(_) => {
                return Err(bad(
                    "the PEM text does not decode (expected -----BEGIN CERTIFICATE----- sections)",
                ))
            }
        }
    }
    if certs.is_empty() {
        return Err(bad(
            "the PEM text holds no certificate (expected -----BEGIN CERTIFICATE-----)",
        ));
    }
    Ok(certs)
}

/// Why a portal's certificate was refused, with the fix, when `e` is a certificate failure.
pub(crate) fn untrusted_certificate(e: &ureq::Error) -> Option<UntrustedCertificate> {
    use rustls::CertificateError as C;
    let rustls_error = match e {
        ureq::Error::Rustls(r) => r,
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>()?,
        _ => return None,
    };
    let rustls::Error::InvalidCertificate(cert) = rustls_error else {
        return None;
    };
    let reason = match cert {
        C::UnknownIssuer => "it was issued by an authority the client does not trust",
        C::Other(other) if other.to_string().contains("CaUsedAsEndEntity") => {
            return Some(UntrustedCertificate {
                reason: "it is a CA certificate used as the server's own (a self-signed \
                         certificate made with CA:TRUE)",
                fix: "give the portal a server certificate (CA:FALSE) signed by that CA, and \
                      trust the CA with --ca-cert FILE or DOCSPACE_CA_CERT (CLI) or \
                      ClientBuilder::add_root_certificates_pem (library)",
            })
        }
        C::Other(other) if other.to_string().contains("SelfSigned") => "it is self-signed",
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            return Some(UntrustedCertificate {
                reason: "it is not valid for this host name",
                fix: "use the host name the certificate names in the base URL",
            })
        }
        C::Expired | C::ExpiredContext { .. } => {
            return Some(UntrustedCertificate {
                reason: "it has expired",
                fix: "renew the portal's certificate",
            })
        }
        C::BadSignature | C::UnhandledCriticalExtension => {
            "its signature or extensions could not be verified"
        }
        _ => return None,
    };
    Some(UntrustedCertificate {
        reason,
        fix: TRUST_FIX,
    })
}

/// The fix for an untrusted issuer, in the library's and the CLI's words.
const TRUST_FIX: &str = "trust the portal's CA with --ca-cert FILE or DOCSPACE_CA_CERT (CLI), \
     ClientBuilder::add_root_certificates_pem (library), or the system store \
     (feature platform-verifier)";

/// A portal certificate the client refused, as the source of a network error.
#[derive(Debug)]
pub(crate) struct UntrustedCertificate {
    reason: &'static str,
    fix: &'static str,
}

impl std::fmt::Display for UntrustedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the portal's TLS certificate is not trusted: {}; {}",
            self.reason, self.fix
        )
    }
}

impl std::error::Error for UntrustedCertificate {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn pem_without_certificate_is_refused() {
        let e = parse_certificates(b"").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("no certificate"), "{e}");
        let e =
            parse_certificates(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n")
                .unwrap_err();
        assert!(e.to_string().contains("does not decode"), "{e}");
        let e = parse_certificates(&vec![b'a'; MAX_PEM_BYTES + 1]).unwrap_err();
        assert!(e.to_string().contains("4 MiB"), "{e}");
    }
}
