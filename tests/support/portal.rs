//! The emulator portal of `tests/doctor.rs` and `tests/trusted_ips.rs`: a linked owner (the
//! doctor's caller), a plain member in a group, the owner's client, and raw HTTP for what the
//! crate never sends.
//!
//! Included with `#[path = "support/portal.rs"] mod portal;` (not through `support/mod.rs`,
//! which brings the mockito helpers).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;

use docspace_tfa::emulator::{Emulator, NewUser};
use docspace_tfa::Client;
use serde_json::Value;

pub const T0: u64 = 1_700_000_000;
pub const PASSWORD: &str = "pw-for-tests";
pub const GROUP: &str = "c5cc67d1-c3e8-43c0-a3ad-3928ae3e5b5e";
pub const GHOST: &str = "66faa6e4-f133-11ea-b126-00ffeec8b4ef";

/// A portal with a linked admin (the doctor's caller), a plain member, and the admin's client
/// (an API key: it survives policy changes).
pub struct Portal {
    pub emulator: Emulator,
    pub admin: String,
    pub member: String,
    pub client: Client,
}

pub fn portal() -> Portal {
    let emulator = Emulator::builder()
        .time(T0)
        .start()
        .expect("emulator starts");
    let admin = emulator
        .add_user(NewUser::new("admin@example.com", PASSWORD).owner().linked())
        .unwrap();
    let member = emulator
        .add_user(NewUser::new("member@example.com", PASSWORD).group(GROUP))
        .unwrap();
    let client = emulator
        .client()
        .unwrap()
        .with_token(emulator.issue_api_key(&admin).unwrap());
    Portal {
        emulator,
        admin,
        member,
        client,
    }
}

/// One HTTP/1.1 request with `Connection: close`; the status and the JSON body.
pub fn raw(
    portal: &Emulator,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let addr = portal.base_url().trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} /api/2.0/{path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let json = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| serde_json::from_str(b).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    (status, json)
}

pub fn login(p: &Portal, email: &str) -> (u16, Value) {
    let body = format!(r#"{{"userName":"{email}","password":"{PASSWORD}"}}"#);
    raw(&p.emulator, "POST", "authentication", None, &body)
}
