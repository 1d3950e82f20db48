//! A whole answer: status (2 bytes), `Set-Cookie` values (lines up to a NUL), body (the rest).
//! Runs what the client does with it, error classification, envelope, models, login outcome,
//! and snippet scrubbing. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = 100 + u16::from_le_bytes([data[0], data[1]]) % 500;
    let rest = &data[2..];
    let (cookies, body) = match rest.iter().position(|b| *b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&[][..], rest),
    };
    let cookies = String::from_utf8_lossy(cookies);
    let cookies: Vec<&str> = cookies.lines().collect();
    docspace_tfa::fuzzing::answer(status, &cookies, body);
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = docspace_tfa::fuzzing::scrub_and_snippet(text);
    }
});
