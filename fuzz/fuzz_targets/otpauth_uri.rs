//! otpauth URIs: `OtpAuthUri::parse` never panics, and a URI it accepts round-trips through
//! `to_uri`.
#![no_main]

use docspace_tfa::totp::OtpAuthUri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match OtpAuthUri::parse(text) {
        Ok(uri) => {
            let written = uri.to_uri();
            let again = OtpAuthUri::parse(written.expose()).expect("a written URI parses");
            assert!(again == uri, "round trip changed the URI: {uri:?} -> {again:?}");
            let _ = format!("{uri:?}");
            let _ = uri.totp();
        }
        Err(e) => {
            let _ = format!("{e} {e:?}");
        }
    }
});
