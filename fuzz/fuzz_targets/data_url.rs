//! The QR image's data URL: `decode_png_data_url` never panics, and what it accepts is a PNG.
#![no_main]

use docspace_tfa::totp::{decode_png_data_url, PNG_SIGNATURE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match decode_png_data_url(text) {
        Ok(png) => assert!(png.starts_with(&PNG_SIGNATURE)),
        Err(e) => {
            let _ = format!("{e} {e:?}");
        }
    }
});
