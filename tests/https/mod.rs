//! A DocSpace portal over HTTPS on loopback, for the TLS tests: rustls (the TLS library ureq
//! already uses) with the throwaway certificates of `tests/data/tls` (see its README).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::thread;

use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};

pub const CA_PEM: &[u8] = include_bytes!("../data/tls/ca.pem");
pub const OTHER_CA_PEM: &[u8] = include_bytes!("../data/tls/other-ca.pem");
pub const SERVER_PEM: &[u8] = include_bytes!("../data/tls/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("../data/tls/server.key");
pub const SELF_SIGNED_PEM: &[u8] = include_bytes!("../data/tls/selfsigned.pem");
const SELF_SIGNED_KEY: &[u8] = include_bytes!("../data/tls/selfsigned.key");

/// A realistic `GET settings/tfaapp` answer (docs/server.md).
pub const SETTINGS_BODY: &str = r#"{"response":[{"id":"sms","title":"SMS","enabled":false,"available":false,"trustedIps":[],"mandatoryUsers":[],"mandatoryGroups":[]},{"id":"app","title":"Authenticator app","enabled":true,"available":true,"trustedIps":[],"mandatoryUsers":[],"mandatoryGroups":[]}],"count":2,"links":[{"href":"https://127.0.0.1/api/2.0/settings/tfaapp","action":"GET"}],"status":0,"statusCode":200}"#;

/// Which certificate the server shows.
#[derive(Clone, Copy)]
pub enum Cert {
    /// `server.pem`, signed by `ca.pem`.
    SignedByTestCa,
    /// `selfsigned.pem`.
    SelfSigned,
}

/// What the server saw.
#[derive(Default)]
pub struct Seen {
    /// Request lines of the requests that completed a handshake.
    pub requests: Vec<String>,
    /// Handshakes that failed (the client refused the certificate).
    pub failed_handshakes: usize,
}

pub struct Portal {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Seen>>,
}

impl Portal {
    pub fn start(cert: Cert) -> Portal {
        let (chain, key) = match cert {
            Cert::SignedByTestCa => (SERVER_PEM, SERVER_KEY),
            Cert::SelfSigned => (SELF_SIGNED_PEM, SELF_SIGNED_KEY),
        };
        let cert = ureq::tls::Certificate::from_pem(chain).unwrap();
        let key = ureq::tls::PrivateKey::from_pem(key).unwrap();
        let chain = vec![CertificateDer::from(cert.der().to_vec())];
        let key = PrivatePkcs8KeyDer::from(key.der().to_vec());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(chain, key.into())
                .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let log = Arc::clone(&seen);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let config = Arc::clone(&config);
                let log = Arc::clone(&log);
                thread::spawn(move || {
                    let conn = rustls::ServerConnection::new(config).unwrap();
                    let mut tls = rustls::StreamOwned::new(conn, stream);
                    let mut reader = BufReader::new(&mut tls);
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        log.lock().unwrap().failed_handshakes += 1;
                        return;
                    }
                    let request = line.trim_end().to_owned();
                    loop {
                        line.clear();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                    }
                    log.lock().unwrap().requests.push(request);
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{SETTINGS_BODY}",
                        SETTINGS_BODY.len()
                    );
                    let _ = tls.write_all(answer.as_bytes());
                    let _ = tls.flush();
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                });
            }
        });
        Portal { addr, seen }
    }

    /// `https://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// `https://localhost:port` (the certificates name both).
    pub fn localhost_url(&self) -> String {
        format!("https://localhost:{}", self.addr.port())
    }

    pub fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().requests.clone()
    }
}
