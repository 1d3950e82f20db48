//! Arbitrary bytes as a success body: JSON, the envelope unwrapped, every model decoded, every
//! result formatted. Must never panic.
#![no_main]

use docspace_tfa::fuzzing::unwrap_envelope;
use docspace_tfa::{BackupCode, ConfirmData, Me, SetupCode, TfaMethod};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn decode<T: DeserializeOwned + std::fmt::Debug>(value: &Value) {
    if let Ok(v) = T::deserialize(value) {
        let _ = format!("{v:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let value = unwrap_envelope(value);
    decode::<SetupCode>(&value);
    decode::<Vec<TfaMethod>>(&value);
    decode::<ConfirmData>(&value);
    decode::<Vec<BackupCode>>(&value);
    decode::<Me>(&value);
    decode::<bool>(&value);
    let _ = unwrap_envelope(value);
});
