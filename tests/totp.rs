//! The authenticator (feature `totp`): RFC vectors, lenient keys, window edges, otpauth URIs
//! as the portal writes them, the QR image, redaction, and property tests.
#![cfg(feature = "totp")]

use docspace_tfa::totp::{
    decode_png_data_url, hotp, unix_now, OtpAuthUri, Totp, TotpKey, MAX_WINDOW_STEPS, PNG_SIGNATURE,
};
use docspace_tfa::{ErrorKind, SetupCode};
use proptest::prelude::*;

/// The RFC 4226 / RFC 6238 (SHA-1) test secret, "12345678901234567890".
const RFC_SECRET: &[u8] = b"12345678901234567890";

/// A real 1x1 grayscale PNG (signature, IHDR, IDAT, IEND, with valid CRCs).
const TINY_PNG: [u8; 67] = [
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x60, 0x00, 0x00, 0x00,
    0x02, 0x00, 0x01, 0xe5, 0x27, 0xde, 0xfc, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82,
];

/// `TINY_PNG` in base64 (computed independently of the crate under test).
const TINY_PNG_BASE64: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR42mNgAAAAAgAB5Sfe/AAAAABJRU5ErkJggg==";

fn tiny_png_url() -> String {
    format!("data:image/png;base64,{TINY_PNG_BASE64}")
}

fn rfc_key() -> TotpKey {
    TotpKey::from_bytes(RFC_SECRET).unwrap()
}

/// A setup code as a portal returns it for `john.doe@example.com`.
fn portal_setup() -> SetupCode {
    SetupCode::new("john.doe@example.com", "JBSWY3DPEHPK3PXP", tiny_png_url())
}

// ---------------------------------------------------------------- RFC test vectors

#[test]
fn rfc6238_appendix_b_sha1() {
    let totp = Totp::docspace().digits(8);
    let rows = [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ];
    let key = rfc_key();
    for (time, expected) in rows {
        assert_eq!(totp.code_at(&key, time).expose(), expected, "T = {time}");
        assert!(totp.verify(&key, expected, time, 0), "T = {time}");
    }
    // The same key typed as base32 gives the same codes.
    let typed = TotpKey::from_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
    assert_eq!(typed, key);
    assert_eq!(totp.code_at(&typed, 59).expose(), "94287082");
}

#[test]
fn rfc4226_appendix_d() {
    let expected = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    let key = rfc_key();
    // TOTP with 1-second steps and T0 = 0 is HOTP with counter = time.
    let per_second = Totp::docspace().step(1);
    for (counter, code) in expected.iter().enumerate() {
        let counter = counter as u64;
        assert_eq!(hotp(&key, counter, 6).expose(), *code, "counter {counter}");
        assert_eq!(
            per_second.code_at(&key, counter).expose(),
            *code,
            "time {counter}"
        );
    }
}

#[test]
fn docspace_defaults() {
    let totp = Totp::docspace();
    assert_eq!(totp, Totp::default());
    assert_eq!(
        (totp.digit_count(), totp.step_seconds(), totp.start_time()),
        (6, 30, 0)
    );
    let key = rfc_key();
    // Six digits of the RFC 6238 row T = 59 (counter 1): "94287082" -> "287082".
    assert_eq!(totp.code_at(&key, 59).expose(), "287082");
    assert_eq!(totp.code_at(&key, 30).expose(), "287082");
    assert_eq!(totp.code_at(&key, 29).expose(), "755224");
    assert_eq!(totp.counter_at(1_111_111_109), 37_037_036);
}

#[test]
fn digits_and_steps_are_clamped() {
    let key = rfc_key();
    assert_eq!(Totp::docspace().digits(0).digit_count(), 6);
    assert_eq!(Totp::docspace().digits(99).digit_count(), 10);
    assert_eq!(Totp::docspace().step(0).step_seconds(), 1);
    assert_eq!(
        Totp::docspace().digits(10).code_at(&key, 59).expose(),
        "1094287082"
    );
    assert_eq!(hotp(&key, 0, 2).expose(), "755224");
}

#[test]
fn seconds_left_counts_down_through_a_step() {
    let totp = Totp::docspace();
    let start = 1_700_000_010; // a multiple of 30
    assert_eq!(start % 30, 0);
    for offset in 0..30 {
        assert_eq!(totp.seconds_left(start + offset), 30 - offset);
    }
    assert_eq!(totp.seconds_left(start + 30), 30);
    assert_eq!(Totp::docspace().step(1).seconds_left(12345), 1);
}

#[test]
fn code_now_matches_code_at_now() {
    let key = TotpKey::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    let totp = Totp::docspace();
    // Retry across a step boundary, which can fall between the two clock readings.
    let matched = (0..3).any(|_| {
        let before = unix_now();
        let code = totp.code_now(&key);
        let after = unix_now();
        totp.counter_at(before) == totp.counter_at(after) && code == totp.code_at(&key, before)
    });
    assert!(matched);
    assert!(unix_now() > 1_700_000_000);
}

// ---------------------------------------------------------------- keys

#[test]
fn keys_are_read_as_apps_read_them() {
    let canonical = TotpKey::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    assert_eq!(canonical.as_bytes(), b"Hello!\xde\xad\xbe\xef");
    for typed in [
        "jbswy3dpehpk3pxp",
        "JbSwY3dPeHpK3pXp",
        "JBSW Y3DP EHPK 3PXP",
        "jbsw-y3dp-ehpk-3pxp",
        "  JBSWY3DP\tEHPK3PXP\n",
        "JBS WY3-DPE HPK-3PXP",
        "JBSW\u{a0}Y3DP\u{a0}EHPK\u{a0}3PXP",
        "JBSWY3DPEHPK3PXP======",
        "JBSWY3DPEHPK3PXP=",
        "jbsw y3dp ehpk 3pxp ==",
    ] {
        let key = TotpKey::from_base32(typed).unwrap_or_else(|e| panic!("{typed:?}: {e}"));
        assert_eq!(key, canonical, "{typed:?}");
        let parsed: TotpKey = typed.parse().unwrap();
        assert_eq!(parsed, canonical);
    }
    // Padded forms of other lengths.
    assert_eq!(TotpKey::from_base32("MZXW6===").unwrap().as_bytes(), b"foo");
    assert_eq!(TotpKey::from_base32("mzxw6").unwrap().as_bytes(), b"foo");
    assert_eq!(
        TotpKey::from_base32("MZXW6YQ=").unwrap().as_bytes(),
        b"foob"
    );
}

#[test]
fn bad_keys_are_clear_errors_that_never_echo_the_key() {
    for (bad, hint) in [
        ("", "empty"),
        ("   ", "empty"),
        ("- - ==", "no base32"),
        ("JBSWY3DPEHPK3PX!", "character 16"),
        ("JBSWY3DPEHPK3PX0", "2-7"),
        ("JBSWY3DPEHPK3PX1", "2-7"),
        ("JBSWY3DPEHPK3PXÜ", "character 16"),
        ("JBSWY3DP=EHPK3PXP", "padding"),
        ("JBSWY3DPEHPK3P", "14 base32 characters"),
        ("JBSWY3DPE", "9 base32 characters"),
        ("J", "1 base32 characters"),
    ] {
        let err = TotpKey::from_base32(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        let message = err.to_string();
        assert!(message.contains(hint), "{bad:?}: {message}");
        assert!(message.starts_with("invalid TOTP key: "), "{message}");
        assert!(!message.contains("JBSW"), "{message}");
    }
    assert_eq!(
        TotpKey::from_bytes(&[]).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn a_portal_style_key_round_trips() {
    // The portal's secrets are 10 bytes, written as 16 base32 characters without padding.
    // A few deterministic pseudo-random secrets (the property test below covers random ones).
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..50 {
        let mut secret = [0u8; 10];
        for byte in &mut secret {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = (state >> 24) as u8;
        }
        let key = TotpKey::from_bytes(&secret).unwrap();
        let text = key.to_base32();
        assert_eq!(text.expose().len(), 16);
        assert!(text
            .expose()
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
        assert!(!text.expose().contains('='));
        let back = TotpKey::from_base32(text.expose()).unwrap();
        assert_eq!(back.as_bytes(), &secret);
        let setup = SetupCode::new("a@b.c", text.expose(), "");
        assert_eq!(setup.totp_key().unwrap(), key);
    }
}

#[test]
fn setup_code_key_errors_name_the_manual_entry_key() {
    let setup = SetupCode::new("a@b.c", "NOT-BASE32-8!", "");
    let err = setup.totp_key().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(
        err.to_string().starts_with("invalid manual entry key: "),
        "{err}"
    );
    let err = SetupCode::new("a@b.c", "", "").totp_key().unwrap_err();
    assert_eq!(err.to_string(), "invalid manual entry key: it is empty");
}

// ---------------------------------------------------------------- verification window

#[test]
fn window_edges_are_exact() {
    let key = TotpKey::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    let totp = Totp::docspace();
    let now = 1_700_000_015; // the middle of a step
    let code_at_step = |delta: i64| {
        let time = (now as i64 + delta * 30) as u64;
        totp.code_at(&key, time)
    };
    for window in [0u64, 1, 2, 10] {
        let w = window as i64;
        for delta in -w..=w {
            assert!(
                totp.verify(&key, code_at_step(delta).expose(), now, window),
                "window {window}, step {delta} must be accepted"
            );
        }
        for delta in [-w - 1, w + 1] {
            let outside = code_at_step(delta);
            // Sanity: the code outside the window is not also a code inside it.
            assert!((-w..=w).all(|d| code_at_step(d) != outside));
            assert!(
                !totp.verify(&key, outside.expose(), now, window),
                "window {window}, step {delta} must be refused"
            );
        }
    }
}

#[test]
fn window_at_the_start_of_time_and_the_cap() {
    let key = rfc_key();
    let totp = Totp::docspace();
    let first = totp.code_at(&key, 0);
    assert!(totp.verify(&key, first.expose(), 45, 1));
    assert!(!totp.verify(&key, first.expose(), 60, 1));
    // A window beyond the cap is capped, not looped over.
    let per_second = Totp::docspace().step(1);
    let now = 1_000_000;
    let at_cap = per_second.code_at(&key, now - MAX_WINDOW_STEPS);
    let beyond = per_second.code_at(&key, now - MAX_WINDOW_STEPS - 1);
    assert!(per_second.verify(&key, at_cap.expose(), now, u64::MAX));
    if beyond != at_cap {
        let inside = (now - MAX_WINDOW_STEPS..=now + MAX_WINDOW_STEPS)
            .any(|t| per_second.code_at(&key, t) == beyond);
        assert_eq!(
            per_second.verify(&key, beyond.expose(), now, u64::MAX),
            inside
        );
    }
}

#[test]
fn verify_tolerates_spaces_and_refuses_garbage() {
    let key = rfc_key();
    let totp = Totp::docspace();
    let code = totp.code_at(&key, 59); // "287082"
    assert_eq!(code.expose(), "287082");
    for typed in [
        "287082",
        " 287082 ",
        "287 082",
        "2 8 7 0 8 2",
        "\t287082\n",
        "287\u{a0}082",
    ] {
        assert!(totp.verify(&key, typed, 59, 0), "{typed:?}");
    }
    for garbage in [
        "",
        " ",
        "28708",
        "2870820",
        "28708a",
        "287-082",
        "+287082",
        "２８７０８２",
        "287082\0",
        "94287082",
    ] {
        assert!(!totp.verify(&key, garbage, 59, 0), "{garbage:?}");
    }
    let long = "2".repeat(10_000);
    assert!(!totp.verify(&key, &long, 59, 10));
    // The eight-digit RFC code is right only for an eight-digit Totp.
    assert!(totp.digits(8).verify(&key, "94287082", 59, 0));
}

// ---------------------------------------------------------------- otpauth URIs

#[test]
fn otpauth_uri_matches_the_portal_byte_for_byte() {
    let setup = portal_setup();
    let uri = setup.otpauth_uri("https://portal.example.com").unwrap();
    assert_eq!(uri.issuer, "portal.example.com");
    assert_eq!(uri.account, "john.doe@example.com");
    assert_eq!(uri.secret, setup.totp_key().unwrap());
    assert_eq!(
        uri.to_uri().expose(),
        "otpauth://totp/portal.example.com:john.doe%40example.com\
         ?secret=JBSWY3DPEHPK3PXP&issuer=portal.example.com"
    );
    // The client's normalized base URL, a trailing slash, a path or a port: the same issuer.
    for base in [
        "https://portal.example.com/",
        "https://PORTAL.example.com:443",
        "https://portal.example.com/docspace",
        "portal.example.com",
    ] {
        assert_eq!(setup.otpauth_uri(base).unwrap(), uri, "{base}");
    }
    let client = docspace_tfa::Client::builder()
        .base_url("https://Portal.Example.com/")
        .build()
        .unwrap();
    assert_eq!(setup.otpauth_uri(client.base_url()).unwrap(), uri);

    // A more involved address on a cloud portal.
    let setup = SetupCode::new(
        "first.last+2fa@sub.example.co.uk",
        "gezd gnbv gy3t qojq",
        "",
    );
    let uri = setup
        .otpauth_uri("https://acme-corp.onlyoffice.eu")
        .unwrap();
    assert_eq!(
        uri.to_uri().expose(),
        "otpauth://totp/acme-corp.onlyoffice.eu:first.last%2B2fa%40sub.example.co.uk\
         ?secret=GEZDGNBVGY3TQOJQ&issuer=acme-corp.onlyoffice.eu"
    );
}

#[test]
fn otpauth_uri_round_trips() {
    let key = TotpKey::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    let uri = OtpAuthUri::new("portal.example.com", "john.doe@example.com", key.clone());
    let text = uri.to_uri();
    let parsed = OtpAuthUri::parse(text.expose()).unwrap();
    assert_eq!(parsed, uri);
    assert_eq!(parsed.to_uri(), text);
    assert_eq!(parsed.totp(), Totp::docspace());

    let mut custom = OtpAuthUri::new("ACME Co", "jane@example.com", key);
    custom.digits = Some(8);
    custom.period = Some(60);
    let text = custom.to_uri();
    assert_eq!(
        text.expose(),
        "otpauth://totp/ACME%20Co:jane%40example.com?secret=JBSWY3DPEHPK3PXP\
         &issuer=ACME%20Co&digits=8&period=60"
    );
    let parsed = OtpAuthUri::parse(text.expose()).unwrap();
    assert_eq!(parsed, custom);
    assert_eq!(parsed.totp(), Totp::docspace().digits(8).step(60));
}

#[test]
fn otpauth_uri_parses_what_other_writers_produce() {
    let expected = OtpAuthUri::new(
        "portal.example.com",
        "john.doe@example.com",
        TotpKey::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
    );
    for text in [
        // Older GoogleAuthenticator versions left the '@' unescaped.
        "otpauth://totp/portal.example.com:john.doe@example.com?secret=JBSWY3DPEHPK3PXP&issuer=portal.example.com",
        // The separator escaped, a space after it, the secret in lower case with padding.
        "otpauth://totp/portal.example.com%3A%20john.doe%40example.com?secret=jbswy3dpehpk3pxp%3D%3D&issuer=portal.example.com",
        // Parameters in another order, SHA1 named, unknown parameters, a fragment.
        "otpauth://totp/portal.example.com:john.doe%40example.com?issuer=portal.example.com&algorithm=sha1&image=https%3A%2F%2Fx&secret=JBSWY3DPEHPK3PXP#x",
        // Only the label names the issuer.
        "  OTPAUTH://TOTP/portal.example.com:john.doe%40example.com?secret=JBSWY3DPEHPK3PXP  ",
    ] {
        assert_eq!(OtpAuthUri::parse(text).unwrap(), expected, "{text}");
    }
}

#[test]
fn otpauth_uri_errors() {
    for (text, hint) in [
        ("", "otpauth://"),
        ("https://portal.example.com", "otpauth://"),
        ("otpauth://hotp/x?secret=JBSWY3DP&counter=1", "hotp"),
        ("otpauth://steam/x?secret=JBSWY3DP", "not totp"),
        ("otpauth://totp/x", "no secret"),
        ("otpauth://totp/x?issuer=y", "no secret"),
        ("otpauth://totp/x?secret=", "empty"),
        ("otpauth://totp/x?secret=JBSWY3D0", "base32"),
        (
            "otpauth://totp/x?secret=JBSWY3DP&secret=MZXW6",
            "more than once",
        ),
        ("otpauth://totp/x?secret=JBSWY3DP&digits=4", "digits"),
        ("otpauth://totp/x?secret=JBSWY3DP&digits=eight", "digits"),
        ("otpauth://totp/x?secret=JBSWY3DP&period=0", "period"),
        ("otpauth://totp/x?secret=JBSWY3DP&period=-30", "period"),
        ("otpauth://totp/x?secret=JBSWY3DP&algorithm=SHA256", "SHA1"),
        ("otpauth://totp/%FF%FE?secret=JBSWY3DP", "UTF-8"),
        ("otpauth://totp/x?secret=JBSWY3DP&issuer=%C3", "UTF-8"),
    ] {
        let err = OtpAuthUri::parse(text).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{text}");
        let message = err.to_string();
        assert!(message.starts_with("invalid otpauth URI: "), "{message}");
        assert!(message.contains(hint), "{text}: {message}");
        assert!(!message.contains("JBSWY3D"), "{message}");
    }
}

#[test]
fn otpauth_uri_from_a_setup_code_errors() {
    let setup = portal_setup();
    for bad in ["", "https://", "https:///x"] {
        let err = setup.otpauth_uri(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    let broken = SetupCode::new("a@b.c", "!!!!", "");
    assert_eq!(
        broken
            .otpauth_uri("https://portal.example.com")
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}

// ---------------------------------------------------------------- QR image

#[test]
fn qr_image_decodes_from_a_real_png_data_url() {
    assert_eq!(decode_png_data_url(&tiny_png_url()).unwrap(), TINY_PNG);
    assert_eq!(TINY_PNG[..8], PNG_SIGNATURE);
    // Case, extra parameters, line breaks and missing padding are tolerated.
    let unpadded = TINY_PNG_BASE64.trim_end_matches('=');
    let (head, tail) = unpadded.split_at(40);
    for url in [
        format!("DATA:IMAGE/PNG;BASE64,{TINY_PNG_BASE64}"),
        format!("data:image/png;name=qr.png;base64,{TINY_PNG_BASE64}"),
        format!("data:image/png;base64,{head}\r\n{tail}"),
        format!("  data:image/png;base64,{unpadded}\n"),
    ] {
        assert_eq!(decode_png_data_url(&url).unwrap(), TINY_PNG, "{url}");
    }
    assert_eq!(portal_setup().qr_png().unwrap(), TINY_PNG);
}

#[test]
fn qr_image_errors() {
    // Base64 of bytes that are not a PNG: a GIF header, and text.
    let gif = "R0lGODlhAQABAIAAAAAAAP///ywAAAAAAQABAAACAUwAOw==";
    let text = "aGVsbG8sIHdvcmxkIQ=="; // "hello, world!"
                                       // The PNG signature without an IHDR chunk after it.
    let signature_only = "iVBORw0KGgoAAAAASUVORK5CYII=";
    for (url, hint) in [
        (String::new(), "empty".to_owned()),
        (
            "https://portal.example.com/qr.png".to_owned(),
            "not a data: URL".to_owned(),
        ),
        (
            format!("image/png;base64,{TINY_PNG_BASE64}"),
            "not a data: URL".to_owned(),
        ),
        ("data:image/png;base64".to_owned(), "no ','".to_owned()),
        (
            format!("data:image/gif;base64,{gif}"),
            "image/gif, not image/png".to_owned(),
        ),
        (
            format!("data:image/jpeg;base64,{TINY_PNG_BASE64}"),
            "image/jpeg".to_owned(),
        ),
        (
            format!("data:;base64,{TINY_PNG_BASE64}"),
            "text/plain".to_owned(),
        ),
        (
            format!("data:image/png,{TINY_PNG_BASE64}"),
            "not base64".to_owned(),
        ),
        ("data:image/png;base64,".to_owned(), "no data".to_owned()),
        (
            "data:image/png;base64,iVBOR*w0KGgo=".to_owned(),
            "offset 5".to_owned(),
        ),
        (
            "data:image/png;base64,iVBORw0KG".to_owned(),
            "not valid base64".to_owned(),
        ),
        (
            "data:image/png;base64,iVBORw0KGgo=AAAA".to_owned(),
            "not valid base64".to_owned(),
        ),
        (
            format!("data:image/png;base64,{gif}"),
            "PNG signature".to_owned(),
        ),
        (
            format!("data:image/png;base64,{text}"),
            "PNG signature".to_owned(),
        ),
        (
            format!("data:image/png;base64,{signature_only}"),
            "IHDR".to_owned(),
        ),
    ] {
        let err = decode_png_data_url(&url).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{url}");
        let message = err.to_string();
        assert!(message.starts_with("invalid QR image URL: "), "{message}");
        assert!(message.contains(&hint), "{url}: {message}");
        assert!(
            !message.contains("iVBOR") && !message.contains("R0lG"),
            "{message}"
        );
    }
}

#[test]
fn qr_image_is_saved_to_a_private_file() {
    let dir = std::env::temp_dir().join(format!("docspace-tfa-totp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("qr.png");
    let _ = std::fs::remove_file(&path);

    portal_setup().save_qr_png(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), TINY_PNG);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "group/other may not read the secret: {mode:o}"
        );
    }
    // Saving again replaces the file.
    std::fs::write(
        &path,
        b"old and longer content than the png itself ......................",
    )
    .unwrap();
    portal_setup().save_qr_png(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), TINY_PNG);

    // A bad URL touches no file.
    let other = dir.join("not-written.png");
    let bad = SetupCode::new(
        "a@b.c",
        "JBSWY3DPEHPK3PXP",
        "data:image/gif;base64,R0lGODlh",
    );
    assert_eq!(
        bad.save_qr_png(&other).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert!(!other.exists());

    // An I/O failure is an Io error that names the path.
    let missing = dir.join("no-such-dir").join("qr.png");
    let err = portal_setup().save_qr_png(&missing).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Io);
    assert!(err.to_string().contains("no-such-dir"), "{err}");
    assert!(std::error::Error::source(&err).is_some());

    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------- redaction

#[test]
fn secrets_are_absent_from_debug_output() {
    let setup = portal_setup();
    let key = setup.totp_key().unwrap();
    let uri = setup.otpauth_uri("https://portal.example.com").unwrap();
    let code = Totp::docspace().code_at(&key, 59);
    let uri_text = uri.to_uri();

    assert_eq!(format!("{key:?}"), r#"TotpKey("***", 10 bytes)"#);
    let outputs = [
        format!("{key:?}"),
        format!("{key:#?}"),
        format!("{uri:?}"),
        format!("{uri:#?}"),
        format!("{code:?}"),
        format!("{uri_text:?}"),
        format!("{:?}", key.to_base32()),
        format!("{:?}", Some(&uri)),
    ];
    let secrets = [
        "JBSWY3DPEHPK3PXP".to_owned(),
        code.expose().to_owned(),
        format!("{:?}", key.as_bytes()),
        "Hello!".to_owned(),
    ];
    for output in &outputs {
        for secret in &secrets {
            assert!(!output.contains(secret.as_str()), "{output} leaks {secret}");
        }
    }
    // The harmless parts stay visible.
    let debug = format!("{uri:?}");
    assert!(debug.contains("portal.example.com") && debug.contains("john.doe@example.com"));
}

// ---------------------------------------------------------------- properties

fn separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["", " ", "-", "  ", " - ", "\t"])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn base32_round_trips_for_any_bytes(bytes in prop::collection::vec(any::<u8>(), 1..80)) {
        let key = TotpKey::from_bytes(&bytes).unwrap();
        let text = key.to_base32();
        prop_assert!(!text.expose().contains('='));
        prop_assert_eq!(text.expose().len(), (bytes.len() * 8).div_ceil(5));
        let back = TotpKey::from_base32(text.expose()).unwrap();
        prop_assert_eq!(back.as_bytes(), &bytes[..]);
    }

    #[test]
    fn portal_keys_survive_how_people_type_them(
        secret in prop::array::uniform10(any::<u8>()),
        lower in any::<bool>(),
        sep in separator(),
        pad in 0usize..8,
    ) {
        let key = TotpKey::from_bytes(&secret).unwrap();
        let text = key.to_base32();
        prop_assert_eq!(text.expose().len(), 16);
        let mut typed = text
            .expose()
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(sep);
        if lower {
            typed = typed.to_lowercase();
        }
        typed.push_str(&"=".repeat(pad));
        prop_assert_eq!(TotpKey::from_base32(&typed).unwrap(), key);
    }

    #[test]
    fn parsers_never_panic(text in any::<String>()) {
        let _ = TotpKey::from_base32(&text);
        let _ = OtpAuthUri::parse(&text);
        let _ = OtpAuthUri::parse(&format!("otpauth://totp/{text}"));
        let _ = OtpAuthUri::parse(&format!("otpauth://totp/x?secret=JBSWY3DP&{text}"));
        let _ = decode_png_data_url(&text);
        let _ = decode_png_data_url(&format!("data:image/png;base64,{text}"));
        let _ = SetupCode::new(text.clone(), text.clone(), text.clone()).otpauth_uri(&text);
        let key = TotpKey::from_bytes(b"12345678901234567890").unwrap();
        let _ = Totp::docspace().verify(&key, &text, 1_700_000_000, 10);
    }

    #[test]
    fn bad_keys_never_leak_into_errors(text in "[A-Z2-7]{6,20}[!0189@#][A-Z2-7]{0,10}") {
        let err = TotpKey::from_base32(&text).unwrap_err();
        prop_assert_eq!(err.kind(), ErrorKind::InvalidInput);
        let message = err.to_string();
        prop_assert!(!message.contains(&text[..6]), "{}", message);
    }

    #[test]
    fn verify_accepts_every_code_inside_the_window(
        secret in prop::collection::vec(any::<u8>(), 1..40),
        now in 1_000_000u64..4_000_000_000,
        window in 0u64..12,
        offset in -12i64..=12,
        digits in 6u32..=10,
        step in prop::sample::select(vec![1u64, 30, 60]),
    ) {
        prop_assume!(offset.unsigned_abs() <= window);
        let key = TotpKey::from_bytes(&secret).unwrap();
        let totp = Totp::docspace().digits(digits).step(step);
        let then = (now as i64 + offset * step as i64) as u64;
        let code = totp.code_at(&key, then);
        prop_assert_eq!(code.expose().len(), digits as usize);
        prop_assert!(totp.verify(&key, code.expose(), now, window));
        prop_assert_eq!(code, hotp(&key, totp.counter_at(then), digits));
    }

    #[test]
    fn otpauth_uris_round_trip_for_any_names(
        issuer in any::<String>(),
        account in any::<String>(),
        secret in prop::collection::vec(any::<u8>(), 1..32),
        digits in prop::option::of(6u32..=10),
        period in prop::option::of(1u64..600),
    ) {
        let mut uri = OtpAuthUri::new(issuer.clone(), account.clone(), TotpKey::from_bytes(&secret).unwrap());
        uri.digits = digits;
        uri.period = period;
        let text = uri.to_uri();
        prop_assert!(text.expose().is_ascii());
        let parsed = OtpAuthUri::parse(text.expose()).unwrap();
        // A blank issuer is written as none; after an issuer, leading spaces of the account
        // are dropped (as the Key Uri Format allows them there).
        let has_issuer = !issuer.trim().is_empty();
        let expected_issuer = if has_issuer { issuer.as_str() } else { "" };
        let expected_account = if has_issuer { account.trim_start() } else { account.as_str() };
        prop_assert_eq!(parsed.issuer.as_str(), expected_issuer);
        prop_assert_eq!(parsed.account.as_str(), expected_account);
        prop_assert_eq!(&parsed.secret, &uri.secret);
        prop_assert_eq!(parsed.digits, digits);
        prop_assert_eq!(parsed.period, period);
    }
}
