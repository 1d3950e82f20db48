//! A confirm URL and a key (split at the first newline): `ConfirmTicket::from_url` and
//! `from_query` never panic, and a ticket's `Debug` never shows a key given separately.
#![no_main]

use docspace_tfa::ConfirmTicket;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (url, key) = text.split_once('\n').unwrap_or((text, ""));
    for ticket in [
        ConfirmTicket::from_url(url, key),
        ConfirmTicket::from_query(url, key),
    ] {
        match ticket {
            Ok(t) => {
                assert!(!t.confirm_type().trim().is_empty());
                assert!(!t.uid().trim().is_empty());
                assert!(!t.key().expose().trim().is_empty());
                let debug = format!("{t:?}");
                if key.len() >= 8 && !url.contains(key) {
                    assert!(!debug.contains(key), "Debug shows the key");
                }
                let _ = t.cookie_name();
            }
            Err(e) => {
                let _ = format!("{e} {e:?}");
            }
        }
    }
});
