//! The usual answer read straight into its model, without a `serde_json::Value` in between.
//!
//! A portal answers a success as `{"response": …, "count": …, "links": […], "status": 0,
//! "statusCode": 200}`. [`crate::answer`]'s general path parses any body into a `Value`,
//! unwraps the envelope, checks the value's [`Shape`](crate::answer::Shape) and then decodes
//! the model from it, so that every odd answer gets a precise error (with a blanked skeleton of
//! what came). This module is the fast path for the answer that is not odd: one pass over the
//! bytes into the typed envelope, the model built as it is read.
//!
//! It only ever says "here is the model" or "not sure" (`None`); on `None` the caller takes the
//! general path, which gives the same model or the error it always gave. So the fast path must
//! accept nothing the general path would refuse or read differently:
//!
//! - only an envelope with the portal's keys (an unknown key, a bare value, an empty body: `None`);
//! - `response` present, not `null` and exactly once (serde's derive refuses a repeated key;
//!   the general path would take the last);
//! - a model of the "object" shape only from a JSON object ([`Object`]): serde's derived
//!   decoding would otherwise fill a struct from an array by position, which the general path's
//!   shape check refuses;
//! - a list only of objects, a bool only from `true`/`false`.
//!
//! `src/fuzzing.rs` checks on every input that a model read here equals the general path's.

use std::marker::PhantomData;

use serde::de::{DeserializeOwned, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use ureq::http::HeaderMap;

use crate::answer::Reply;
use crate::error::Result;

/// What [`Client::send_fast`](crate::client::Client) got: the model read on the fast path, or
/// the general [`Reply`] to decode as before.
pub(crate) enum Decoded<T> {
    /// Read straight from the usual envelope; the answer's headers beside it.
    Fast(T, HeaderMap),
    /// Anything else: the general path's reply (its errors, its shape checks).
    General(Reply),
}

impl<T> Decoded<T> {
    /// The model: the fast one, or what `general` makes of the reply.
    pub(crate) fn or_general(self, general: impl FnOnce(Reply) -> Result<T>) -> Result<T> {
        match self {
            Decoded::Fast(value, _) => Ok(value),
            Decoded::General(reply) => general(reply),
        }
    }
}

/// A success envelope with only the keys a portal sends, around a `response` of type `T`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the skipped keys are named only so that they are allowed
struct Envelope<T> {
    response: T,
    #[serde(default)]
    count: IgnoredAny,
    #[serde(default)]
    total: IgnoredAny,
    #[serde(default)]
    links: IgnoredAny,
    #[serde(default)]
    status: IgnoredAny,
    #[serde(default, rename = "statusCode")]
    status_code: IgnoredAny,
}

/// `T` decoded only from a JSON object: an array (which serde's derive would read by position),
/// a string, a number or `null` is refused.
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OnlyMaps<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for OnlyMaps<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(OnlyMaps(PhantomData))
            .map(Object)
    }
}

/// The envelope's `response` as `T`, when the body is the usual envelope around a value that
/// decodes as `T`; `None` otherwise (take the general path).
fn envelope<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    serde_json::from_slice::<Envelope<T>>(body)
        .ok()
        .map(|e| e.response)
}

/// A model of the "object" shape, read from the usual envelope.
pub(crate) fn object<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    envelope::<Object<T>>(body).map(|o| o.0)
}

/// A list of models, each from a JSON object, read from the usual envelope.
pub(crate) fn list_of_objects<T: DeserializeOwned>(body: &[u8]) -> Option<Vec<T>> {
    envelope::<Vec<Object<T>>>(body).map(|items| items.into_iter().map(|o| o.0).collect())
}

/// A bool, read from the usual envelope.
pub(crate) fn boolean(body: &[u8]) -> Option<bool> {
    envelope::<bool>(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::cookie_in;
    use crate::answer::{parse_success_body, Reply, Shape};
    use crate::models::{BackupCode, SetupCode, TfaMethod};

    fn reply(body: &str) -> Reply {
        Reply {
            operation: "GET x".to_owned(),
            value: parse_success_body(body.as_bytes()).unwrap_or(serde_json::Value::Null),
            headers: Default::default(),
        }
    }

    #[test]
    fn the_usual_answers_take_the_fast_path_and_agree_with_the_general_one() {
        let setup = r#"{"response":{"account":"john.doe%40example.com","manualEntryKey":"JBSWY3DPEHPK3PXP","qrCodeSetupImageUrl":"data:image/png;base64,AA=="},"count":1,"links":[{"href":"h","action":"GET"}],"status":0,"statusCode":200}"#;
        let fast: SetupCode = object(setup.as_bytes()).unwrap();
        assert_eq!(fast.account, "john.doe@example.com");
        assert_eq!(
            fast,
            reply(setup)
                .decode::<SetupCode>("s", Shape::Object)
                .unwrap()
        );

        let methods = r#"{"response":[{"id":"sms","title":"SMS","enabled":false,"available":false},{"id":"app","title":"App","enabled":true,"available":true,"trustedIps":[],"mandatoryUsers":["U"],"mandatoryGroups":[]}],"count":2,"total":2,"status":0,"statusCode":200}"#;
        let fast: Vec<TfaMethod> = list_of_objects(methods.as_bytes()).unwrap();
        assert_eq!(fast.len(), 2);
        assert_eq!(
            fast,
            reply(methods)
                .decode::<Vec<TfaMethod>>("m", Shape::ListOfObjects)
                .unwrap()
        );

        assert_eq!(
            boolean(br#"{"response":true,"count":1,"status":0,"statusCode":200}"#),
            Some(true)
        );
        assert_eq!(
            boolean(br#"{"response":false,"status":0,"statusCode":200}"#),
            Some(false)
        );
    }

    #[test]
    fn anything_odd_is_left_to_the_general_path() {
        // A struct from an array by position: the general path refuses it as the wrong shape.
        assert!(object::<SetupCode>(br#"{"response":["a","JBSWY3DP","q"]}"#).is_none());
        assert!(
            list_of_objects::<BackupCode>(br#"{"response":[["c",false]],"status":0}"#).is_none()
        );
        for body in [
            "",
            "  ",
            "true",
            r#"{"response":null,"status":0}"#,
            r#"{"count":0,"links":[],"status":0,"statusCode":200}"#,
            r#"{"response":true,"response":false}"#,
            r#"{"response":true,"extra":1}"#,
            r#"{"response":"true"}"#,
            r#"{"response":1}"#,
            r#"{"response":true} x"#,
            r#"{"response":tr"#,
        ] {
            assert_eq!(boolean(body.as_bytes()), None, "{body}");
        }
        assert!(list_of_objects::<TfaMethod>(br#"{"response":null}"#).is_none());
        assert!(list_of_objects::<TfaMethod>(br#"{"response":{"id":"app"}}"#).is_none());
        assert!(object::<SetupCode>(br#"{"response":{"account":"a"}}"#).is_none());
        assert!(object::<SetupCode>(b"{\"response\":{\"manualEntryKey\":\"\xff\"}}").is_none());
    }

    /// The fuzz hook's check (src/fuzzing.rs) on the fuzz seeds, the bodies above and every
    /// prefix of each: whatever the fast path reads, the general path reads the same.
    #[test]
    fn the_fast_path_agrees_with_the_general_one_on_the_fuzz_seeds() {
        use crate::models::Me;
        use crate::Result;
        fn agree<T: PartialEq + std::fmt::Debug>(fast: Option<T>, general: Result<T>, body: &[u8]) {
            if let Some(fast) = fast {
                let general = general.unwrap_or_else(|e| {
                    panic!("fast path accepted what the general path refuses ({e}): {body:?}")
                });
                assert_eq!(fast, general, "{body:?}");
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds");
        let mut bodies: Vec<Vec<u8>> = Vec::new();
        for (dir, framed) in [("answer", true), ("envelope_models", false)] {
            let mut files: Vec<_> = std::fs::read_dir(root.join(dir))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            assert!(!files.is_empty(), "no seeds in {dir}");
            for file in files {
                let data = std::fs::read(&file).unwrap();
                // The answer target's framing: status (2 bytes), cookies up to a NUL, body.
                let body = if framed {
                    let rest = &data[2.min(data.len())..];
                    match rest.iter().position(|b| *b == 0) {
                        Some(i) => rest[i + 1..].to_vec(),
                        None => rest.to_vec(),
                    }
                } else {
                    data
                };
                bodies.push(body);
            }
        }
        let mut fast_reads = 0;
        for body in bodies {
            for end in 0..=body.len() {
                let body = &body[..end];
                let reply = Reply {
                    operation: "GET x".to_owned(),
                    value: match parse_success_body(body) {
                        Ok(v) => v,
                        Err(_) => {
                            assert!(boolean(body).is_none());
                            assert!(object::<SetupCode>(body).is_none());
                            continue;
                        }
                    },
                    headers: Default::default(),
                };
                let taken = [
                    object::<SetupCode>(body).is_some(),
                    list_of_objects::<TfaMethod>(body).is_some(),
                    list_of_objects::<BackupCode>(body).is_some(),
                    object::<Me>(body).is_some(),
                    boolean(body).is_some(),
                ];
                fast_reads += taken.iter().filter(|b| **b).count();
                agree(
                    object(body),
                    reply.decode::<SetupCode>("s", Shape::Object),
                    body,
                );
                agree(
                    list_of_objects(body),
                    reply.decode::<Vec<TfaMethod>>("m", Shape::ListOfObjects),
                    body,
                );
                agree(
                    list_of_objects(body),
                    reply.decode::<Vec<BackupCode>>("b", Shape::ListOfObjects),
                    body,
                );
                agree(object(body), reply.decode::<Me>("u", Shape::Object), body);
                agree(boolean(body), reply.decode_bool(), body);
            }
        }
        assert!(fast_reads > 0, "no seed took the fast path");
    }

    #[test]
    fn cookies_are_read_as_parse_set_cookie_reads_them() {
        use crate::text::parse_set_cookie;
        let reference = |values: &[&str], name: &str| {
            values
                .iter()
                .filter_map(|v| parse_set_cookie(v))
                .rfind(|(n, v)| n.eq_ignore_ascii_case(name) && !v.is_empty())
                .map(|(_, v)| v)
        };
        let cases: &[&[&str]] = &[
            &["asc_auth_key=abc%2Bdef; path=/; HttpOnly"],
            &["asc_auth_key=one", "ASC_AUTH_KEY=two; path=/"],
            &[
                "asc_auth_key=one",
                "asc_auth_key=; expires=Thu, 01 Jan 1970 00:00:00 GMT",
            ],
            &["asc_auth_key=\"\"", "other=x"],
            &[
                " asc_auth_key = \"quoted\" ; secure",
                "=novalue",
                "noequals",
            ],
            &["asc_auth_key=%FF%FE", "asc_auth_keyx=y"],
            &[],
        ];
        for values in cases {
            let mut headers = HeaderMap::new();
            for v in *values {
                headers.append("set-cookie", v.parse().unwrap());
            }
            assert_eq!(
                cookie_in(&headers, "asc_auth_key").map(|s| s.expose().to_owned()),
                reference(values, "asc_auth_key"),
                "{values:?}"
            );
        }
    }
}
