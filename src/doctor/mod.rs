//! `doctor`: the TFA misconfigurations a portal accepts silently and that surface later, for
//! everyone, as something else — found by reading, never by changing anything.
//!
//! [`diagnose`] reads `GET settings/tfaapp`, the server's version (`GET
//! settings/version/build`, anonymous), the caller (`GET people/@self`) and every member and
//! group the policy names (`GET people/{userid}`, `GET group/{id}`), and returns a
//! [`Report`]: a list of [`Finding`]s, each with a [`Severity`], a stable
//! [`code`](Finding::code), what it means and what to do. The checks:
//!
//! | code | severity | when |
//! |---|---|---|
//! | `trusted_ip_breaks_logins` | error | a saved trusted-IP range or CIDR block the server cannot parse, or a `null` entry: every password login it is checked for answers `500` |
//! | `trusted_ip_never_matches` | warning | a saved entry that is compared as text and never matches (`300.1.1.1`) |
//! | `trusted_ip_misleading` | warning | a CIDR block or range the server reads otherwise than it says (`0.0.0.0/0`, IPv6 blocks longer than `/32`, host bits) |
//! | `sms_without_provider` | error | the SMS policy is on but the portal has no SMS provider: logins that need TFA are sent to an SMS step that fails |
//! | `sms_phone_noise_defect` | warning | SMS is on and the server's version has the `phoneNoise` defect: SMS logins through the API fail for phone numbers of 10 or more digits |
//! | `sms_phone_noise_unverified` | info | SMS is on and the version is newer than every version known to have the defect |
//! | `mandatory_user_missing` | warning | the policy names a member who no longer exists |
//! | `mandatory_group_missing` | warning | the policy names a group that no longer exists |
//! | `caller_without_app` | warning | the caller is an owner or admin, the app method applies to them, and they have no app linked |
//! | `tfa_off` | info | no TFA method is on |
//! | `version_unknown` | info | the server did not say its version |
//! | `members_unchecked` | info | the policy names more than [`MAX_LOOKUPS`] members or groups; the rest were not looked up |
//!
//! `docs/cli.md` (the `doctor` command) has the advice for each, `docs/server.md` the facts
//! behind them.
//!
//! Against the embedded emulator (feature `emulator`), whose policy a test may set with an
//! entry the library itself refuses to send:
//!
//! ```
//! # #[cfg(feature = "emulator")] {
//! use docspace_tfa::doctor::{diagnose, Severity};
//! use docspace_tfa::emulator::{Emulator, NewUser};
//! use docspace_tfa::{TfaPolicy, TfaType};
//!
//! let portal = Emulator::start()?;
//! let owner = portal.add_user(NewUser::new("owner@example.com", "pw").owner().linked())?;
//! let client = portal.client()?.with_token(portal.issue_api_key(&owner)?);
//! assert!(diagnose(&client)?.is_healthy());
//!
//! portal.set_policy(&TfaPolicy::new(TfaType::App).trusted_ip("not-an-ip"));
//! let report = diagnose(&client)?;
//! assert_eq!(report.findings[0].code, "trusted_ip_breaks_logins");
//! assert_eq!(report.worst(), Some(Severity::Error));
//! # }
//! # Ok::<(), docspace_tfa::Error>(())
//! ```

mod checks;
mod reads;

use std::fmt;

use serde::Serialize;

use crate::client::Client;
use crate::error::Result;

/// How bad a [`Finding`] is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing; nothing is wrong.
    Info,
    /// A rule does not do what it says, or a known server defect applies to this portal.
    Warning,
    /// Logins are or will be broken.
    Error,
}

impl Severity {
    /// `error`, `warning` or `info`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing [`diagnose`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Finding {
    /// How bad it is.
    pub severity: Severity,
    /// A stable `snake_case` name for this kind of finding (see the module's table).
    pub code: &'static str,
    /// What it is about: a trusted-IP entry, a member's or group's id, a method; `None` for
    /// the portal as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// What it means.
    pub message: String,
    /// What to do.
    pub advice: String,
}

/// The most members, and the most groups, [`diagnose`] looks up (one request each).
pub const MAX_LOOKUPS: usize = 200;

/// Which ids were looked up, and what was found.
#[derive(Default)]
struct Lookups {
    users: Seen,
    groups: Seen,
    missing_users: Vec<String>,
    missing_groups: Vec<String>,
}

/// Distinct ids, up to [`MAX_LOOKUPS`]; the ones past it are counted.
#[derive(Default)]
struct Seen {
    ids: Vec<String>,
    skipped: usize,
}

impl Seen {
    /// `Some(id)` the first time an id comes, while there is room.
    fn next<'a>(&mut self, id: &'a str) -> Option<&'a str> {
        let key = id.to_ascii_lowercase();
        if self.ids.contains(&key) {
            return None;
        }
        if self.ids.len() >= MAX_LOOKUPS {
            self.skipped += 1;
            return None;
        }
        self.ids.push(key);
        Some(id)
    }
}

/// What [`diagnose`] found, the worst first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Report {
    /// The findings, errors first, then warnings, then notes.
    pub findings: Vec<Finding>,
    /// The server's version, as `GET settings/version/build` said it (`docSpace`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
}

impl Report {
    /// Whether nothing is an error or a warning (notes may remain).
    pub fn is_healthy(&self) -> bool {
        self.worst().is_none_or(|s| s < Severity::Warning)
    }

    /// The worst severity found, or `None` when nothing was found.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// The findings of one severity.
    pub fn of(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.severity == severity)
    }
}

/// Reads the portal's TFA configuration and reports what is wrong with it. Only `GET`
/// requests: it never changes anything.
///
/// Needs a token; an admin's sees everything (`tfaAppEnabled` is shown to admins only, so the
/// `caller_without_app` check needs one). A failure of the version read is a `version_unknown`
/// note, and a member or group read that fails for any other reason than `404` is returned as
/// the error.
///
/// ```no_run
/// use docspace_tfa::doctor::{diagnose, Severity};
/// # let client = docspace_tfa::Client::from_env()?;
/// let report = diagnose(&client)?;
/// for finding in report.of(Severity::Error) {
///     eprintln!("{}: {}", finding.code, finding.message);
/// }
/// assert!(report.is_healthy(), "the portal's TFA policy needs attention");
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
///
/// # Errors
///
/// [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized) without a valid token, and the
/// transport and decode errors every call can have.
pub fn diagnose(client: &Client) -> Result<Report> {
    let (methods, null_trusted_ips) = reads::methods(client)?;
    let version = reads::version(client);
    let caller = reads::caller(client)?;
    // Each distinct id once (ids are GUIDs: case does not matter), at most `MAX_LOOKUPS` of
    // each kind, so that a policy with thousands of ids cannot make the check endless.
    let mut lookups = Lookups::default();
    for method in &methods {
        for id in method.mandatory_users.iter().flatten() {
            if let Some(id) = lookups.users.next(id) {
                if !reads::person_exists(client, id)? {
                    lookups.missing_users.push(id.to_owned());
                }
            }
        }
        for id in method.mandatory_groups.iter().flatten() {
            if let Some(id) = lookups.groups.next(id) {
                if !reads::group_exists(client, id)? {
                    lookups.missing_groups.push(id.to_owned());
                }
            }
        }
    }
    let unchecked = lookups.users.skipped + lookups.groups.skipped;
    let facts = checks::Facts {
        methods: &methods,
        null_trusted_ips: &null_trusted_ips,
        version: version.as_deref(),
        caller: &caller,
        missing_users: &lookups.missing_users,
        missing_groups: &lookups.missing_groups,
        unchecked,
    };
    let mut findings = checks::run(&facts);
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    Ok(Report {
        findings,
        server_version: version,
    })
}
