//! The calls under test: through the SDK, and the same requests with plain `ureq` by hand.

use std::sync::OnceLock;

use docspace_tfa::{Client, ConfirmTicket, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT, USER_AGENT};
use serde::{Deserialize, Serialize};

/// The bearer token the benchmark sends (the canned server does not check it).
pub const TOKEN: &str = "sk-bench";
/// The code the benchmark validates (the canned server accepts any).
pub const CODE: &str = "123456";
/// The caller's confirm URL, as `GET settings/tfaapp/confirm` answers it (the canned server
/// answers it too, with [`CONFIRM_KEY`]).
pub const CONFIRM_URL: &str = "http://127.0.0.1/confirm/TfaActivation?type=TfaActivation&uid=66faa6e4-f133-11ea-b126-00ffeec8b4ef";
/// The ticket's key, as the confirm answer's `cookieValue` carries it.
pub const CONFIRM_KEY: &str = "638712345678901234.Hq3VbKm0Xz7pWnYc2e4RtUoIaSdFgJ";

/// The ticket a real portal needs on `validate`: what a caller holds after one
/// `GET settings/tfaapp/confirm` (or a TFA-challenged login), built once.
pub fn ticket() -> &'static ConfirmTicket {
    static TICKET: OnceLock<ConfirmTicket> = OnceLock::new();
    TICKET.get_or_init(|| {
        ConfirmTicket::from_url(CONFIRM_URL, CONFIRM_KEY)
            .unwrap_or_else(|e| panic!("the benchmark's confirm URL: {e}"))
    })
}

/// Which call a run makes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Op {
    /// `POST settings/tfaapp/validate` with `{"code": …}`: step 2 of the documentation
    /// page's Python example.
    Validate,
    /// `GET settings/tfaapp`: a settings read (a list of two methods).
    Settings,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::Validate => "validate",
            Op::Settings => "settings",
        }
    }
}

/// An SDK client with the benchmark's token and default settings.
pub fn sdk_client(base_url: &str) -> Result<Client, String> {
    Client::builder()
        .base_url(base_url)
        .token(TOKEN)
        .build()
        .map_err(|e| e.to_string())
}

/// One call through the SDK, with its answer checked: one request, as the floor makes. A
/// validate carries the caller's ticket ([`ticket`]), which a real portal requires
/// (`validate_with`); [`sdk_validate_token_only`] is the two-request call with only a token.
pub fn sdk_call(client: &Client, op: Op) -> Result<(), String> {
    match op {
        Op::Validate => {
            let v = client
                .tfa()
                .validate_with(ticket(), CODE)
                .map_err(|e| e.to_string())?;
            if !v.first_activation {
                return Err("validate answered false".into());
            }
        }
        Op::Settings => {
            let methods = client.tfa().methods().map_err(|e| e.to_string())?;
            if methods.len() != 2 {
                return Err(format!("{} methods instead of 2", methods.len()));
            }
        }
    }
    Ok(())
}

/// `validate(code)` with only the bearer token: `GET settings/tfaapp/confirm` for the caller's
/// ticket, then the validate with it. Two requests per call.
pub fn sdk_validate_token_only(client: &Client) -> Result<(), String> {
    let v = client.tfa().validate(CODE).map_err(|e| e.to_string())?;
    if !v.first_activation {
        return Err("validate answered false".into());
    }
    Ok(())
}

/// The floor: the agent a user writes first, `ureq` 3 with its defaults — no timeouts (so no
/// thread per lookup), a pool of 3 idle connections per host. Nothing is cheaper with `ureq`.
pub fn bare_agent() -> ureq::Agent {
    ureq::Agent::new_with_defaults()
}

/// The idle connections the SDK's agent keeps (`MAX_IDLE_CONNECTIONS` in src/client.rs).
const SDK_IDLE_CONNECTIONS: usize = 16;

/// A plain `ureq` agent configured as the SDK configures its own: the same timeouts, no
/// redirects, error statuses as responses, the same `User-Agent` and idle-connection limits.
pub fn plain_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(USER_AGENT)
        .timeout_connect(Some(DEFAULT_CONNECT_TIMEOUT))
        .timeout_global(Some(DEFAULT_TIMEOUT))
        .max_idle_connections(SDK_IDLE_CONNECTIONS)
        .max_idle_connections_per_host(SDK_IDLE_CONNECTIONS)
        .build()
        .into()
}

/// [`plain_agent`] trusting only the benchmark's test CA, for the HTTPS rows. The SDK
/// cannot be pointed at a private CA (it trusts the WebPKI roots), so HTTPS is measured with
/// plain `ureq`: the same agent machinery, without the SDK's few microseconds per call.
pub fn plain_agent_tls() -> Result<ureq::Agent, String> {
    let ca = ureq::tls::Certificate::from_pem(crate::server::CA_PEM).map_err(|e| e.to_string())?;
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&[ca]))
        .build();
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(USER_AGENT)
        .timeout_connect(Some(DEFAULT_CONNECT_TIMEOUT))
        .timeout_global(Some(DEFAULT_TIMEOUT))
        .max_idle_connections(SDK_IDLE_CONNECTIONS)
        .max_idle_connections_per_host(SDK_IDLE_CONNECTIONS)
        .tls_config(tls)
        .build()
        .into())
}

/// What a careful user writes by hand with `ureq`: the requests of the documentation page's
/// Python example, typed answers.
pub struct Plain {
    pub agent: ureq::Agent,
    validate_url: String,
    settings_url: String,
    bearer: String,
}

#[derive(Serialize)]
struct ValidateBody<'a> {
    code: &'a str,
    session: bool,
}

#[derive(Deserialize)]
struct Envelope<T> {
    response: T,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // decoded as the SDK decodes it; the benchmark reads only the count
struct Method {
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    available: bool,
    #[serde(default)]
    trusted_ips: Vec<String>,
    #[serde(default)]
    mandatory_users: Vec<String>,
    #[serde(default)]
    mandatory_groups: Vec<String>,
}

impl Plain {
    pub fn new(base_url: &str, agent: ureq::Agent) -> Plain {
        Plain {
            agent,
            validate_url: format!("{base_url}/api/2.0/settings/tfaapp/validate"),
            settings_url: format!("{base_url}/api/2.0/settings/tfaapp"),
            bearer: format!("Bearer {TOKEN}"),
        }
    }

    /// One call, with its answer checked.
    pub fn call(&self, op: Op) -> Result<(), String> {
        match op {
            Op::Validate => {
                let body = serde_json::to_vec(&ValidateBody {
                    code: CODE,
                    session: false,
                })
                .map_err(|e| e.to_string())?;
                let mut response = self
                    .agent
                    .post(&self.validate_url)
                    .header("Accept", "application/json")
                    .header("Authorization", &self.bearer)
                    .header("Content-Type", "application/json")
                    .send(&body[..])
                    .map_err(|e| e.to_string())?;
                if !response.status().is_success() {
                    return Err(format!("status {}", response.status()));
                }
                let body: Envelope<bool> = read_json(&mut response)?;
                if !body.response {
                    return Err("validate answered false".into());
                }
            }
            Op::Settings => {
                let mut response = self
                    .agent
                    .get(&self.settings_url)
                    .header("Accept", "application/json")
                    .header("Authorization", &self.bearer)
                    .call()
                    .map_err(|e| e.to_string())?;
                if !response.status().is_success() {
                    return Err(format!("status {}", response.status()));
                }
                let body: Envelope<Vec<Method>> = read_json(&mut response)?;
                if body.response.len() != 2 {
                    return Err(format!("{} methods instead of 2", body.response.len()));
                }
            }
        }
        Ok(())
    }
}

/// Reads a JSON body as the SDK does, with `serde_json` (the crate's `ureq` has no `json`
/// feature), under the same 4 MiB limit.
fn read_json<T: serde::de::DeserializeOwned>(
    response: &mut ureq::http::Response<ureq::Body>,
) -> Result<T, String> {
    let bytes = response
        .body_mut()
        .with_config()
        .limit(docspace_tfa::DEFAULT_MAX_RESPONSE_BYTES)
        .read_to_vec()
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}
