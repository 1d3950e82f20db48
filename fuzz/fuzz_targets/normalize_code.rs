//! Codes as typed: `normalize_code` never panics, accepts only 1 to 64 characters of
//! `[A-Za-z0-9_-]`, and is idempotent.
#![no_main]

use docspace_tfa::{normalize_code, MAX_CODE_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match normalize_code(text) {
        Ok(code) => {
            assert!(!code.is_empty() && code.len() <= MAX_CODE_LEN);
            assert!(code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
            assert_eq!(normalize_code(&code).ok().as_deref(), Some(code.as_str()));
        }
        Err(e) => {
            let _ = format!("{e} {e:?}");
        }
    }
});
