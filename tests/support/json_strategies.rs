//! Strategies for arbitrary JSON, biased towards the keys and shapes of DocSpace answers. Shared
//! by `tests/properties.rs` and the crate's own property tests (`src/properties.rs`), which
//! include this file with `#[path]`.

use proptest::prelude::*;
use serde_json::{json, Value};

/// Keys that the client's decoders look at, and some that they do not.
pub fn json_key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "response",
            "status",
            "statusCode",
            "count",
            "links",
            "error",
            "message",
            "type",
            "account",
            "manualEntryKey",
            "qrCodeSetupImageUrl",
            "token",
            "expires",
            "tfa",
            "tfaKey",
            "sms",
            "confirmUrl",
            "phoneNoise",
            "id",
            "title",
            "enabled",
            "available",
            "trustedIps",
            "isUsed",
            "code",
            "url",
            "cookieName",
            "cookieValue",
            "displayName",
            "email",
            "isOwner",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z]{1,8}",
    ]
}

/// Arbitrary JSON, biased towards the keys and shapes of DocSpace answers.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "\\PC{0,24}".prop_map(Value::String),
        prop::sample::select(vec![
            "https://portal.example.com/confirm/TfaAuth?type=TfaAuth&uid=u-1",
            "GEZDGNBVGY3TQOJQ",
            "0001-01-01T00:00:00",
            "app",
            "sms",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(json_key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
