//! Trusting a portal's certificate: a throwaway CA and an HTTPS portal on loopback.

mod https;

use docspace_tfa::{Client, ErrorKind, TlsRoots};
use https::{Cert, Portal, CA_PEM, OTHER_CA_PEM, SELF_SIGNED_PEM};

#[test]
fn a_portal_behind_an_internal_ca_is_reached_with_its_ca_certificate() {
    let portal = Portal::start(Cert::SignedByTestCa);
    let client = Client::builder()
        .base_url(portal.url())
        .token("sk-test-token")
        .add_root_certificates_pem(CA_PEM)
        .build()
        .unwrap();
    let methods = client.tfa().methods().unwrap();
    assert_eq!(methods.len(), 2);
    assert_eq!(methods[1].id.as_str(), "app");
    assert!(methods[1].enabled);
    assert_eq!(portal.requests(), ["GET /api/2.0/settings/tfaapp HTTP/1.1"]);
}

#[test]
fn several_certificates_in_one_pem_or_in_several_calls_are_all_trusted() {
    let portal = Portal::start(Cert::SignedByTestCa);
    let mut bundle = OTHER_CA_PEM.to_vec();
    bundle.extend_from_slice(CA_PEM);
    for builder in [
        Client::builder().add_root_certificates_pem(&bundle),
        Client::builder()
            .add_root_certificates_pem(OTHER_CA_PEM)
            .add_root_certificates_pem(CA_PEM),
    ] {
        let client = builder
            .base_url(portal.localhost_url())
            .token("sk-test-token")
            .build()
            .unwrap();
        assert_eq!(client.tfa().methods().unwrap().len(), 2);
    }
}

#[test]
fn an_unknown_issuer_is_refused_with_a_message_naming_the_fix() {
    let portal = Portal::start(Cert::SignedByTestCa);
    for builder in [
        Client::builder(),
        // Another CA's certificate replaces the bundled roots, and does not vouch for this one.
        Client::builder().add_root_certificates_pem(OTHER_CA_PEM),
    ] {
        let client = builder
            .base_url(portal.url())
            .token("sk-test-token")
            .build()
            .unwrap();
        let e = client.tfa().methods().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Network, "{e}");
        let text = e.to_string();
        assert!(text.contains("not trusted"), "{text}");
        assert!(text.contains("--ca-cert"), "{text}");
        assert!(text.contains("add_root_certificates_pem"), "{text}");
        assert!(!text.contains("sk-test-token"), "{text}");
    }
    assert!(portal.requests().is_empty(), "nothing was sent");
}

#[test]
fn a_self_signed_portal_is_refused_unless_its_certificate_is_trusted() {
    let portal = Portal::start(Cert::SelfSigned);
    let client = Client::builder()
        .base_url(portal.url())
        .token("sk-test-token")
        .build()
        .unwrap();
    let e = client.tfa().methods().unwrap_err();
    let text = e.to_string();
    assert!(text.contains("not trusted"), "{text}");
    assert!(text.contains("--ca-cert"), "{text}");
    assert!(!text.contains("OtherError"), "{text}");
    assert!(portal.requests().is_empty());

    // Trusting the self-signed certificate itself: rustls (webpki) refuses a CA certificate
    // as the server's own certificate (CaUsedAsEndEntity), and the message says so.
    let client = Client::builder()
        .base_url(portal.url())
        .token("sk-test-token")
        .add_root_certificates_pem(SELF_SIGNED_PEM)
        .build()
        .unwrap();
    let text = client.tfa().methods().unwrap_err().to_string();
    assert!(text.contains("not trusted"), "{text}");
    assert!(!text.contains("OtherError"), "{text}");
}

#[test]
fn a_pem_without_certificates_fails_the_build() {
    for pem in [
        &b""[..],
        b"not pem at all",
        include_bytes!("data/tls/server.key"),
    ] {
        let e = Client::builder()
            .base_url("https://portal.example.com")
            .add_root_certificates_pem(pem)
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("no certificate"), "{e}");
    }
    let e = Client::builder()
        .base_url("https://portal.example.com")
        .add_root_certificates_pem("-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("does not decode"), "{e}");
}

#[test]
fn bundled_roots_are_the_default() {
    let builder = Client::builder().base_url("https://portal.example.com");
    assert!(format!("{builder:?}").contains("tls_roots: Bundled"));
    assert_eq!(TlsRoots::default(), TlsRoots::Bundled);
}

#[cfg(feature = "platform-verifier")]
#[test]
fn platform_roots_exclude_custom_certificates() {
    let e = Client::builder()
        .base_url("https://portal.example.com")
        .tls_roots(TlsRoots::Platform)
        .add_root_certificates_pem(CA_PEM)
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    // The OS store does not hold the throwaway CA: refused, with the fix named.
    let portal = Portal::start(Cert::SignedByTestCa);
    let client = Client::builder()
        .base_url(portal.url())
        .token("sk-test-token")
        .tls_roots(TlsRoots::Platform)
        .build()
        .unwrap();
    let e = client.tfa().methods().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    assert!(e.to_string().contains("not trusted"), "{e}");
    assert!(portal.requests().is_empty());
}
