//! `Set-Cookie` header values: `parse_set_cookie` never panics, and a name it returns is
//! non-empty and holds neither `;` nor `=`.
#![no_main]

use docspace_tfa::fuzzing::parse_set_cookie;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some((name, _value)) = parse_set_cookie(text) {
        assert!(!name.is_empty());
        assert!(!name.contains(';') && !name.contains('='));
        assert_eq!(name, name.trim());
    }
});
