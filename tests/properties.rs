//! Property tests over every parser that reads outside input: the envelope and the models
//! (arbitrary JSON and arbitrary bytes, through a local server and the real send path), confirm
//! URLs and the `Confirm` header, `Set-Cookie` values, codes, and with feature `totp` manual
//! keys, otpauth URIs and data URLs. Parsers must never panic, must accept what they should,
//! and errors must stay bounded and free of the secrets the request carried.
//!
//! Case counts are modest so that CI stays fast; the fuzz targets under `fuzz/` go further.

#[path = "support/faulty.rs"]
mod faulty;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use docspace_tfa::{normalize_code, Client, ConfirmTicket, ErrorKind, RetryPolicy, MAX_CODE_LEN};
use faulty::{http_keep_alive, Action, FaultServer, Seen};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;
use serde_json::json;

const TOKEN: &str = "sk-9f1e2d3c4b5a69788796a5b4c3d2e1f0";
const CODE: &str = "482913";
/// The longest error message any answer may produce (a bounded snippet plus the wording).
const MAX_ERROR_CHARS: usize = 700;

// ---------------------------------------------------------------------------------------------
// Strategies

#[path = "support/json_strategies.rs"]
mod json_strategies;
use json_strategies::json_value;

/// A string that is not blank.
fn non_blank(max: usize) -> impl Strategy<Value = String> {
    prop::string::string_regex(&format!("\\PC{{1,{max}}}"))
        .expect("a valid regex")
        .prop_filter("not blank", |s| !s.trim().is_empty())
}

// ---------------------------------------------------------------------------------------------
// A local server whose next answer the test sets

/// A keep-alive server answering every request with the current `(status, body)`, and
/// remembering the last request.
struct Scripted {
    server: FaultServer,
    answer: Arc<Mutex<(u16, Vec<u8>)>>,
    last: Arc<Mutex<Option<Seen>>>,
}

impl Scripted {
    fn new() -> Scripted {
        let answer = Arc::new(Mutex::new((200u16, b"{}".to_vec())));
        let last = Arc::new(Mutex::new(None));
        let (a, l) = (Arc::clone(&answer), Arc::clone(&last));
        let server = FaultServer::start(move |seen| {
            *l.lock().unwrap() = Some(seen.clone());
            let (status, body) = a.lock().unwrap().clone();
            Action::WriteKeepAlive(http_keep_alive(
                status,
                &[("Content-Type", "application/json; charset=utf-8")],
                &body,
            ))
        });
        Scripted {
            server,
            answer,
            last,
        }
    }

    fn set(&self, status: u16, body: &[u8]) {
        *self.answer.lock().unwrap() = (status, body.to_vec());
    }

    fn last(&self) -> Option<Seen> {
        self.last.lock().unwrap().clone()
    }

    fn client(&self) -> Client {
        Client::builder()
            .base_url(self.server.url())
            .token(TOKEN)
            .timeout(Duration::from_secs(5))
            .retry(RetryPolicy::none())
            .build()
            .unwrap()
    }
}

/// A call's error, with the secrets the call sent (the client's token always).
struct Failed {
    error: docspace_tfa::Error,
    sent: &'static [&'static str],
}

/// Runs every endpoint that reads an answer against the current answer; returns the errors.
fn call_everything(client: &Client) -> Vec<Failed> {
    let ticket = ConfirmTicket::new("TfaAuth", "u-1", "confirm-key-123").unwrap();
    let mut errors = Vec::new();
    let mut keep = |r: Result<String, docspace_tfa::Error>, sent: &'static [&'static str]| {
        if let Err(error) = r {
            errors.push(Failed { error, sent });
        }
    };
    keep(client.tfa().setup().map(|s| format!("{s:?}")), &[TOKEN]);
    keep(client.tfa().methods().map(|m| format!("{m:?}")), &[TOKEN]);
    keep(client.tfa().confirm().map(|c| format!("{c:?}")), &[TOKEN]);
    keep(
        client.tfa().backup_codes().map(|c| format!("{c:?}")),
        &[TOKEN],
    );
    keep(
        client.tfa().validate(CODE).map(|v| format!("{v:?}")),
        &[TOKEN, CODE],
    );
    keep(
        client
            .tfa()
            .validate_with(&ticket, CODE)
            .map(|v| format!("{v:?}")),
        &[TOKEN, CODE, "confirm-key-123"],
    );
    keep(
        client
            .auth()
            .login("bot@example.com", "pw-1234")
            .map(|o| format!("{o:?}")),
        &[TOKEN, "pw-1234"],
    );
    keep(client.people().me().map(|m| format!("{m:?}")), &[TOKEN]);
    errors
}

/// The error is bounded, and shows none of the secrets its request sent.
fn assert_bounded_and_clean(f: &Failed) {
    let shown = f.error.to_string();
    assert!(
        shown.chars().count() <= MAX_ERROR_CHARS,
        "unbounded: {shown}"
    );
    let debug = format!("{:?}", f.error);
    for secret in f.sent {
        assert!(!shown.contains(secret), "{secret} in {shown}");
        assert!(!debug.contains(secret), "{secret} in {debug}");
    }
}

// ---------------------------------------------------------------------------------------------
// The envelope and the models

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_bytes_as_a_200_answer_are_decoded_or_a_decode_error(
        body in prop::collection::vec(any::<u8>(), 0..1500)
    ) {
        let server = Scripted::new();
        server.set(200, &body);
        for f in call_everything(&server.client()) {
            let e = &f.error;
            prop_assert_eq!(e.kind(), ErrorKind::Decode, "{}", e);
            assert_bounded_and_clean(&f);
        }
    }

    #[test]
    fn any_json_as_a_200_answer_is_decoded_or_a_decode_error(v in json_value(), wrap in any::<bool>()) {
        let body = if wrap { json!({"response": v, "status": 0, "statusCode": 200}) } else { v };
        let server = Scripted::new();
        server.set(200, body.to_string().as_bytes());
        for f in call_everything(&server.client()) {
            let e = &f.error;
            // `null` or a key-less object from `tfaapp/confirm` stops `setup()` and
            // `validate()` before they send (TFA not applicable, SMS).
            prop_assert!(
                matches!(
                    e.kind(),
                    ErrorKind::Decode
                        | ErrorKind::InvalidInput
                        | ErrorKind::TfaNotApplicable
                        | ErrorKind::NotAvailable
                ),
                "{}", e
            );
            assert_bounded_and_clean(&f);
        }
    }

    #[test]
    fn any_error_status_and_body_is_classified_by_status(
        status in 400u16..600,
        v in json_value(),
        raw in prop::collection::vec(any::<u8>(), 0..600),
        json_body in any::<bool>(),
    ) {
        let body = if json_body {
            json!({"error": v, "status": 1, "statusCode": status}).to_string().into_bytes()
        } else {
            raw
        };
        let server = Scripted::new();
        server.set(status, &body);
        for f in call_everything(&server.client()) {
            let e = &f.error;
            prop_assert_eq!(e.status(), Some(status), "{}", e);
            prop_assert!(!matches!(e.kind(), ErrorKind::Decode | ErrorKind::Network), "{}", e);
            assert_bounded_and_clean(&f);
        }
    }

    #[test]
    fn answers_that_echo_the_request_secrets_never_leak_them(
        status in prop::sample::select(vec![200u16, 400, 401, 403, 404, 429, 500, 502]),
        before in "\\PC{0,40}",
        after in "\\PC{0,40}",
        which in 0usize..4,
    ) {
        let secret = ["sk-9f1e2d3c4b5a69788796a5b4c3d2e1f0", CODE, "confirm-key-123", "pw-1234"][which];
        let body = format!("{before}{secret}{after}");
        let server = Scripted::new();
        server.set(status, body.as_bytes());
        for f in call_everything(&server.client()) {
            assert_bounded_and_clean(&f);
        }
        // The same inside a JSON error envelope's message, and a JSON string of the answer.
        server.set(status, json!({"error": {"message": body}}).to_string().as_bytes());
        for f in call_everything(&server.client()) {
            assert_bounded_and_clean(&f);
        }
        server.set(status, json!({"response": body}).to_string().as_bytes());
        for f in call_everything(&server.client()) {
            assert_bounded_and_clean(&f);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Confirm URLs and the Confirm header

/// Decodes `type=…&uid=…&key=…` as a server would.
fn decode_header(header: &str) -> Vec<(String, String)> {
    header
        .split('&')
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                k.to_owned(),
                percent_decode_str(&v.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned(),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn confirm_urls_never_panic(url in "\\PC{0,120}", key in "\\PC{0,20}") {
        for t in [ConfirmTicket::from_url(&url, key.as_str()), ConfirmTicket::from_query(&url, key.as_str())] {
            match t {
                Ok(t) => {
                    prop_assert!(!t.confirm_type().trim().is_empty());
                    prop_assert!(!t.uid().trim().is_empty());
                    prop_assert!(!t.key().expose().trim().is_empty());
                    let _ = format!("{t:?}");
                }
                Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidInput),
            }
        }
    }

    #[test]
    fn confirm_urls_with_structure_never_panic(
        pairs in prop::collection::vec(("(type|uid|key|TYPE|x)", "[a-zA-Z0-9%+&=#?-]{0,12}"), 0..5),
        key in "[a-z0-9%+]{0,8}",
    ) {
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let url = format!("https://p/confirm/TfaAuth?{}", query.join("&"));
        let _ = ConfirmTicket::from_url(&url, key.as_str()).map(|t| format!("{t:?}"));
        let _ = ConfirmTicket::from_query(&query.join("&"), key.as_str());
    }

    #[test]
    fn type_uid_and_key_survive_the_confirm_url(
        ty in non_blank(20), uid in non_blank(40), key in non_blank(40), key_in_query in any::<bool>(),
    ) {
        let enc = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
        let mut url = format!(
            "https://portal.example.com/confirm/{}?type={}&uid={}",
            enc(&ty), enc(&ty), enc(&uid)
        );
        let given = if key_in_query {
            url.push_str(&format!("&key={}", enc(&key)));
            String::new()
        } else {
            key.clone()
        };
        let t = ConfirmTicket::from_url(&url, given).unwrap();
        prop_assert_eq!(t.confirm_type(), ty.as_str());
        prop_assert_eq!(t.uid(), uid.as_str());
        prop_assert_eq!(t.key().expose(), key.as_str());
        prop_assert_eq!(t.url(), Some(url.as_str()));
        let shown = format!("{t:?}");
        if key.len() >= 4 && !ty.contains(&key) && !uid.contains(&key)
            && !"ConfirmTicket confirm_type uid key url Secret(\"***\") portal.example.com".contains(&key)
        {
            prop_assert!(!shown.contains(&key), "{}", shown);
            prop_assert!(!shown.contains(&enc(&key)), "{}", shown);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn type_uid_and_key_survive_the_confirm_header(
        ty in non_blank(20), uid in non_blank(40), key in non_blank(40),
    ) {
        let server = Scripted::new();
        server.set(200, br#"{"response":{"account":"a","manualEntryKey":"GEZDGNBVGY3TQOJQ"}}"#);
        let ticket = ConfirmTicket::new(ty.clone(), uid.clone(), key.clone()).unwrap();
        server.client().tfa().setup_with(&ticket).unwrap();
        let seen = server.last().unwrap();
        prop_assert!(seen.header("authorization").is_none());
        let header = seen.header("confirm").unwrap().to_owned();
        prop_assert!(header.is_ascii());
        let parts = decode_header(&header);
        let names: Vec<&str> = parts.iter().map(|(k, _)| k.as_str()).collect();
        prop_assert_eq!(names, vec!["type", "uid", "key"]);
        prop_assert_eq!(&parts[0].1, &ty);
        prop_assert_eq!(&parts[1].1, &uid);
        prop_assert_eq!(&parts[2].1, &key);
    }
}

// ---------------------------------------------------------------------------------------------
// Set-Cookie values and codes

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn codes_are_normalized_or_refused(text in "\\PC{0,80}") {
        match normalize_code(&text) {
            Ok(code) => {
                prop_assert!(!code.is_empty() && code.chars().count() <= MAX_CODE_LEN);
                prop_assert!(code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
                prop_assert_eq!(normalize_code(&code).unwrap(), code);
            }
            Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidInput),
        }
    }

    #[test]
    fn codes_as_typed_normalize_to_the_code(
        code in "[A-Za-z0-9_-]{1,64}",
        gaps in prop::collection::vec(any::<bool>(), 64),
        lead in "[ \t\n]{0,3}",
        trail in "[ \t\r\n]{0,3}",
    ) {
        let mut typed = lead;
        for (i, c) in code.chars().enumerate() {
            typed.push(c);
            if gaps[i] { typed.push(' '); }
        }
        typed.push_str(&trail);
        prop_assert_eq!(normalize_code(&typed).unwrap(), code);
    }
}

// ---------------------------------------------------------------------------------------------
// The authenticator's parsers

#[cfg(feature = "totp")]
mod totp {
    use base64::Engine;
    use docspace_tfa::totp::{decode_png_data_url, OtpAuthUri, TotpKey, PNG_SIGNATURE};
    use docspace_tfa::ErrorKind;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn manual_keys_never_panic(text in "\\PC{0,64}") {
            match TotpKey::from_base32(&text) {
                Ok(key) => {
                    let again = TotpKey::from_base32(key.to_base32().expose()).unwrap();
                    prop_assert_eq!(again.as_bytes(), key.as_bytes());
                }
                Err(e) => prop_assert_eq!(e.kind(), ErrorKind::InvalidInput),
            }
        }

        #[test]
        fn manual_keys_round_trip_as_apps_type_them(
            bytes in prop::collection::vec(any::<u8>(), 1..64),
            lower in any::<bool>(),
            group in prop::sample::select(vec![0usize, 4, 8]),
            sep in prop::sample::select(vec![" ", "-"]),
        ) {
            let key = TotpKey::from_bytes(&bytes).unwrap();
            let b32 = key.to_base32().expose().to_owned();
            prop_assert!(!b32.contains('='));
            let mut typed = if lower { b32.to_lowercase() } else { b32.clone() };
            if group > 0 {
                typed = typed
                    .as_bytes()
                    .chunks(group)
                    .map(|c| std::str::from_utf8(c).unwrap())
                    .collect::<Vec<_>>()
                    .join(sep);
            }
            let parsed = TotpKey::from_base32(&typed).unwrap();
            prop_assert_eq!(parsed.as_bytes(), &bytes[..]);
            let shown = format!("{:?}", parsed);
            prop_assert!(!shown.contains(&b32));
        }

        #[test]
        fn otpauth_uris_never_panic(text in "\\PC{0,120}", tail in "\\PC{0,80}") {
            let _ = OtpAuthUri::parse(&text);
            let _ = OtpAuthUri::parse(&format!("otpauth://totp/{tail}"));
            let _ = OtpAuthUri::parse(&format!("otpauth://totp/a:b?secret=GEZDGNBV&{tail}"));
        }

        #[test]
        fn otpauth_uris_round_trip(
            issuer in "\\PC{0,24}",
            account in "\\PC{0,32}".prop_filter("no leading whitespace", |a| a.trim_start() == a),
            bytes in prop::collection::vec(any::<u8>(), 1..32),
            digits in prop::option::of(6u32..=10),
            period in prop::option::of(1u64..=600),
        ) {
            let mut uri = OtpAuthUri::new(issuer.clone(), account.clone(), TotpKey::from_bytes(&bytes).unwrap());
            uri.digits = digits;
            uri.period = period;
            let text = uri.to_uri();
            let parsed = OtpAuthUri::parse(text.expose()).unwrap();
            let want_issuer = if issuer.trim().is_empty() { String::new() } else { issuer };
            prop_assert_eq!(&parsed.issuer, &want_issuer);
            prop_assert_eq!(&parsed.account, &account);
            prop_assert_eq!(parsed.secret.as_bytes(), &bytes[..]);
            prop_assert_eq!(parsed.digits, digits);
            prop_assert_eq!(parsed.period, period);
        }

        #[test]
        fn data_urls_never_panic(text in "\\PC{0,120}", tail in "\\PC{0,120}") {
            let _ = decode_png_data_url(&text);
            let _ = decode_png_data_url(&format!("data:image/png;base64,{tail}"));
        }

        #[test]
        fn png_data_urls_round_trip(rest in prop::collection::vec(any::<u8>(), 0..300), upper in any::<bool>()) {
            // The signature, then the IHDR chunk every PNG starts with.
            let mut png = PNG_SIGNATURE.to_vec();
            png.extend_from_slice(&[0, 0, 0, 13]);
            png.extend_from_slice(b"IHDR");
            png.extend_from_slice(&rest);
            let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
            let media = if upper { "IMAGE/PNG" } else { "image/png" };
            let url = format!("data:{media};base64,{b64}");
            prop_assert_eq!(decode_png_data_url(&url).unwrap(), png);
            // Anything that is not a PNG is refused.
            let not_png = base64::engine::general_purpose::STANDARD.encode(&rest);
            if !rest.starts_with(&PNG_SIGNATURE) {
                let e = decode_png_data_url(&format!("data:image/png;base64,{not_png}")).unwrap_err();
                prop_assert_eq!(e.kind(), ErrorKind::InvalidInput);
            }
        }
    }
}
