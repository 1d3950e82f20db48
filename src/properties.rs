//! Property tests of the crate's own parsers, which are not public (the fuzz targets reach
//! them through the `fuzzing` module): the success envelope and `Set-Cookie` values.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::answer::unwrap_envelope;
use crate::text::parse_set_cookie;
use crate::{BackupCode, ConfirmData, Me, SetupCode, TfaMethod};

#[path = "../tests/support/json_strategies.rs"]
mod json_strategies;
use json_strategies::json_value;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_envelope_yields_its_response(v in json_value()) {
        let wrapped = json!({"count": 1, "links": [], "status": 0, "statusCode": 200, "response": v});
        prop_assert_eq!(unwrap_envelope(wrapped), v.clone());
        let bare = json!({"response": v});
        prop_assert_eq!(unwrap_envelope(bare), v);
    }

    #[test]
    fn unwrapping_and_decoding_any_json_never_panics(v in json_value()) {
        let v = unwrap_envelope(v);
        let _ = serde_json::from_value::<SetupCode>(v.clone()).map(|s| format!("{s:?}"));
        let _ = serde_json::from_value::<Vec<TfaMethod>>(v.clone());
        let _ = serde_json::from_value::<ConfirmData>(v.clone()).map(|c| format!("{c:?}"));
        let _ = serde_json::from_value::<Vec<BackupCode>>(v.clone());
        let _ = serde_json::from_value::<Me>(v);
    }

    #[test]
    fn an_envelope_without_response_is_null(count in 0u32..5, status in 0u32..3) {
        let v = json!({"count": count, "links": [], "status": status, "statusCode": 200});
        prop_assert_eq!(unwrap_envelope(v), Value::Null);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn set_cookie_values_never_panic(header in "\\PC{0,80}") {
        if let Some((name, _value)) = parse_set_cookie(&header) {
            prop_assert!(!name.is_empty());
            prop_assert!(!name.contains(';') && !name.contains('='));
            prop_assert_eq!(name.trim(), name.as_str());
        }
    }

    #[test]
    fn set_cookie_round_trips_a_percent_encoded_value(
        name in "[A-Za-z0-9_]{1,24}",
        value in "\\PC{0,40}",
        attributes in prop::sample::select(vec!["", "; path=/", "; path=/; secure; samesite=none; httponly",
            "; expires=Thu, 01 Jan 1970 00:00:00 GMT"]),
        quoted in any::<bool>(),
    ) {
        let enc = utf8_percent_encode(&value, NON_ALPHANUMERIC).to_string();
        let shown = if quoted { format!("\"{enc}\"") } else { enc };
        let header = format!("{name}={shown}{attributes}");
        prop_assert_eq!(parse_set_cookie(&header), Some((name, value)));
    }
}
