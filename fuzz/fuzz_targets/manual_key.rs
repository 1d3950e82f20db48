//! Manual entry keys: `TotpKey::from_base32` never panics; a key it accepts round-trips through
//! `to_base32` and computes a code; `Debug` never shows it.
#![no_main]

use docspace_tfa::totp::{Totp, TotpKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match TotpKey::from_base32(text) {
        Ok(key) => {
            let encoded = key.to_base32();
            let again = TotpKey::from_base32(encoded.expose()).expect("round trip");
            assert_eq!(again.as_bytes(), key.as_bytes());
            let debug = format!("{key:?}");
            if encoded.expose().len() >= 8 {
                assert!(!debug.contains(encoded.expose()));
            }
            let code = Totp::docspace().code_at(&key, 59);
            assert_eq!(code.expose().len(), 6);
        }
        Err(e) => {
            let _ = format!("{e} {e:?}");
        }
    }
});
