//! What `doctor` reads besides the policy: the server's version, the caller, and whether the
//! members and groups the policy names still exist. Each is one `GET`.

use serde::Deserialize;
use serde_json::Value;
use ureq::http::Method;

use crate::answer::Shape;
use crate::client::Client;
use crate::error::{ErrorKind, Result};
use crate::models::TfaMethod;
use crate::request::{Credential, Request};
use crate::text::is_guid;

/// The caller as `GET people/@self` describes them (only what the checks need).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Caller {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) is_owner: bool,
    #[serde(default)]
    pub(crate) is_admin: bool,
    /// Whether the caller has an app linked; present only for an admin while the app method
    /// is on (`common/ASC.Api.Core/Model/EmployeeFullDto.cs:440-456`).
    #[serde(default)]
    pub(crate) tfa_app_enabled: Option<bool>,
    /// The caller's groups (`[{id, name, …}]`).
    #[serde(default, deserialize_with = "group_ids")]
    pub(crate) groups: Vec<String>,
}

fn group_ids<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    let groups = Option::<Vec<Value>>::deserialize(d)?.unwrap_or_default();
    Ok(groups
        .iter()
        .filter_map(|g| g.get("id").and_then(Value::as_str).map(str::to_owned))
        .collect())
}

/// The longest version text kept: the server writes `3.7.2.1176`; anything much longer is not
/// a version, and it is repeated in a finding's message.
const MAX_VERSION: usize = 64;

/// Per method id (`sms`, `app`), how many trusted-IP entries are JSON `null`.
pub(crate) type NullEntries = Vec<(String, usize)>;

/// The portal's TFA methods (`GET settings/tfaapp`), and per method the number of `null`
/// trusted-IP entries, which the server saves (`List<string>`) and then throws
/// `NullReferenceException` on at every login the policy is checked for. They are taken out
/// before decoding, so that the policy can still be read and checked.
pub(crate) fn methods(client: &Client) -> Result<(Vec<TfaMethod>, NullEntries)> {
    let mut reply = client.send(Request::new(
        Method::GET,
        "settings/tfaapp",
        Credential::Bearer,
    ))?;
    if reply.value.is_null() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut nulls = Vec::new();
    if let Value::Array(items) = &mut reply.value {
        for item in items.iter_mut() {
            let id = item
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned();
            if let Some(Value::Array(ips)) = item.get_mut("trustedIps") {
                let before = ips.len();
                ips.retain(|ip| !ip.is_null());
                if ips.len() < before {
                    nulls.push((id, before - ips.len()));
                }
            }
        }
    }
    let methods = reply.decode("list of TFA methods", Shape::ListOfObjects)?;
    Ok((methods, nulls))
}

/// The server's version (`GET settings/version/build`, anonymous: `{"docSpace": "3.7.2",
/// "documentServer": …}`, `web/ASC.Web.Api/Api/Settings/VersionController.cs:50-60`), or
/// `None` when it cannot be read (older servers, a proxy that hides it).
pub(crate) fn version(client: &Client) -> Option<String> {
    let reply = client
        .send(Request::new(
            Method::GET,
            "settings/version/build",
            Credential::Anonymous,
        ))
        .ok()?;
    reply
        .value
        .get("docSpace")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            if v.chars().count() > MAX_VERSION {
                let mut short: String = v.chars().take(MAX_VERSION).collect();
                short.push('…');
                short
            } else {
                v.to_owned()
            }
        })
}

/// The caller (`GET people/@self`), with the fields the checks need.
pub(crate) fn caller(client: &Client) -> Result<Caller> {
    client
        .send(Request::new(
            Method::GET,
            "people/@self",
            Credential::Bearer,
        ))?
        .decode("user", Shape::Object)
}

/// Whether a member exists: `GET people/{userid}` answers `404` for an id no one has, a
/// deleted member included (`products/ASC.People/Server/Api/UserController.cs:1089-1120`).
/// An id that is not a GUID names no one (the server stores `Guid`s) and is not sent.
pub(crate) fn person_exists(client: &Client, id: &str) -> Result<bool> {
    exists(client, "people/{userid}", "people", id)
}

/// Whether a group exists: `GET group/{id}` answers `404` for a group that does not exist or
/// was removed (`products/ASC.People/Server/Api/GroupsController.cs:111-118, 411-420`).
pub(crate) fn group_exists(client: &Client, id: &str) -> Result<bool> {
    exists(client, "group/{id}", "group", id)
}

fn exists(client: &Client, template: &'static str, base: &str, id: &str) -> Result<bool> {
    if !is_guid(id) {
        return Ok(false);
    }
    let request = Request::new(Method::GET, template, Credential::Bearer)
        .real_path(format!("{base}/{}", id.to_ascii_lowercase()));
    match client.send(request) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}
