//! The checks themselves: pure functions from what was read ([`Facts`]) to [`Finding`]s, so
//! each can be tested without a portal. Facts behind them: `docs/server.md`, "Trusted IPs"
//! and "What doctor checks".

use super::reads::Caller;
use super::{Finding, Severity};
use crate::models::{TfaMethod, TfaMethodId};
use crate::text::is_guid;
use crate::trusted_ip::{check_trusted_ip, TrustedIpVerdict};

/// Everything the checks look at.
pub(crate) struct Facts<'a> {
    pub(crate) methods: &'a [TfaMethod],
    /// Per method (`sms`, `app`), how many saved trusted-IP entries are JSON `null`.
    pub(crate) null_trusted_ips: &'a [(String, usize)],
    pub(crate) version: Option<&'a str>,
    pub(crate) caller: &'a Caller,
    pub(crate) missing_users: &'a [String],
    pub(crate) missing_groups: &'a [String],
    /// Ids past the lookup limit, not looked up.
    pub(crate) unchecked: usize,
}

/// The longest subject a finding repeats from the server (a trusted-IP entry is free text).
const MAX_SUBJECT: usize = 200;

/// The newest version known to have the `phoneNoise` defect: every release up to 3.7.2, the
/// 3.8 branch and `develop` build the mask with the same wrong arguments (`docs/server.md`,
/// "The phoneNoise defect").
const PHONE_NOISE_KNOWN_UP_TO: (u64, u64) = (3, 8);

fn finding(
    severity: Severity,
    code: &'static str,
    subject: Option<String>,
    message: String,
    advice: &str,
) -> Finding {
    let subject = subject.map(|s| {
        if s.chars().count() > MAX_SUBJECT {
            let mut short: String = s.chars().take(MAX_SUBJECT).collect();
            short.push('…');
            short
        } else {
            s
        }
    });
    Finding {
        severity,
        code,
        subject,
        message,
        advice: advice.to_owned(),
    }
}

/// Runs every check.
pub(crate) fn run(facts: &Facts<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let sms = facts.methods.iter().find(|m| m.id == TfaMethodId::Sms);
    let app = facts.methods.iter().find(|m| m.id == TfaMethodId::App);
    // A saved policy has its lists; switching a method off drops them. The SMS entry says
    // `enabled: false` when the provider is missing although the setting is on.
    let sms_on = sms.is_some_and(|m| m.enabled || m.trusted_ips.is_some());
    let app_on = app.is_some_and(|m| m.enabled);
    if !sms_on && !app_on {
        out.push(finding(
            Severity::Info,
            "tfa_off",
            None,
            "no two-factor method is on: members sign in with a password only".into(),
            "switch a method on with `docspace-tfa settings set --type app` if the portal needs one",
        ));
    }
    for (method, count) in facts.null_trusted_ips {
        out.push(finding(
            Severity::Error,
            "trusted_ip_breaks_logins",
            Some("null".into()),
            format!(
                "trusted IP of the {method} method: {count} saved entr{} JSON null: the server \
                 throws NullReferenceException at every login it checks",
                if *count == 1 { "y is" } else { "ies are" }
            ),
            TRUSTED_IP_BREAKS_ADVICE,
        ));
    }
    for method in facts.methods.iter().filter(|m| m.trusted_ips.is_some()) {
        trusted_ips(method, &mut out);
    }
    if let Some(sms) = sms.filter(|_| sms_on) {
        sms_checks(sms, facts.version, &mut out);
    }
    if facts.version.is_none() {
        out.push(finding(
            Severity::Info,
            "version_unknown",
            None,
            "GET settings/version/build did not say the server's version".into(),
            "nothing to do; version-dependent checks assume a released version",
        ));
    }
    for id in facts.missing_users {
        out.push(finding(
            Severity::Warning,
            "mandatory_user_missing",
            Some(id.clone()),
            if is_guid(id) {
                "the policy makes TFA mandatory for a member who no longer exists (GET people/{userid} answers 404)".into()
            } else {
                "the policy names a member by an id that is not a GUID, so it names no one (not looked up)".into()
            },
            "save the policy again without this id (`docspace-tfa settings set`)",
        ));
    }
    for id in facts.missing_groups {
        out.push(finding(
            Severity::Warning,
            "mandatory_group_missing",
            Some(id.clone()),
            if is_guid(id) {
                "the policy makes TFA mandatory for a group that no longer exists (GET group/{id} answers 404)".into()
            } else {
                "the policy names a group by an id that is not a GUID, so it names no group (not looked up)".into()
            },
            "save the policy again without this id, or with the group that replaced it",
        ));
    }
    if facts.unchecked > 0 {
        out.push(finding(
            Severity::Info,
            "members_unchecked",
            None,
            format!(
                "the policy names more than {} members or groups; {} were not looked up",
                super::MAX_LOOKUPS,
                facts.unchecked
            ),
            "nothing to do; check the rest by hand if some may have been deleted",
        ));
    }
    if let Some(app) = app.filter(|_| app_on) {
        caller_without_app(app, facts.caller, &mut out);
    }
    out
}

const TRUSTED_IP_BREAKS_ADVICE: &str = "remove or correct the entry now (`docspace-tfa settings \
     set`, which refuses such entries); until then every password login this policy is checked \
     for fails with a 500";

fn trusted_ips(method: &TfaMethod, out: &mut Vec<Finding>) {
    for entry in method.trusted_ips.iter().flatten() {
        let verdict = check_trusted_ip(entry);
        let (severity, code, advice) = match &verdict {
            TrustedIpVerdict::Valid => continue,
            TrustedIpVerdict::BreaksLogins(_) => (
                Severity::Error,
                "trusted_ip_breaks_logins",
                TRUSTED_IP_BREAKS_ADVICE,
            ),
            TrustedIpVerdict::NeverMatches(_) => (
                Severity::Warning,
                "trusted_ip_never_matches",
                "write the address as the server does (a plain address, a-b, or a CIDR block), \
                 or remove it",
            ),
            // `Misleading` and any later kind.
            _ => (
                Severity::Warning,
                "trusted_ip_misleading",
                "replace the entry with a single address or an inclusive range a-b, which the \
                 server compares exactly",
            ),
        };
        let reason = verdict.reason().unwrap_or_default();
        out.push(finding(
            severity,
            code,
            Some(entry.clone()),
            format!("trusted IP of the {} method: {reason}", method.id.as_str()),
            advice,
        ));
    }
}

fn sms_checks(sms: &TfaMethod, version: Option<&str>, out: &mut Vec<Finding>) {
    if !sms.enabled {
        out.push(finding(
            Severity::Error,
            "sms_without_provider",
            Some("sms".into()),
            "the SMS policy is on but the portal has no SMS provider (GET settings/tfaapp lists \
             SMS as not enabled, not available, with a saved policy): logins that need TFA are \
             sent to the SMS step, whose first send fails with a 500"
                .into(),
            "configure an SMS provider (Twilio, SMSC, Clickatell) in the portal's \
             integration settings; only then can the SMS method be switched off (`docspace-tfa \
             settings set --type app` or `--type none`): without a provider the server leaves \
             the SMS setting on when another method is chosen",
        ));
    }
    let known = version.and_then(parse_version);
    match known {
        Some((major, minor)) if (major, minor) > PHONE_NOISE_KNOWN_UP_TO => out.push(finding(
            Severity::Info,
            "sms_phone_noise_unverified",
            Some("sms".into()),
            format!(
                "the SMS method is on; version {} is newer than every version known to have the \
                 phoneNoise defect (up to {}.{})",
                version.unwrap_or_default(),
                PHONE_NOISE_KNOWN_UP_TO.0,
                PHONE_NOISE_KNOWN_UP_TO.1
            ),
            "test an SMS login through the API with a phone number of 10 or more digits",
        )),
        _ => out.push(finding(
            Severity::Warning,
            "sms_phone_noise_defect",
            Some("sms".into()),
            format!(
                "the SMS method is on and this server ({}) builds the masked phone number \
                 (phoneNoise) wrongly: for numbers of 10 or more digits the SMS is sent but the \
                 login, setphone and sendsms answer 400, and a correct code answers 401",
                version.unwrap_or("version unknown")
            ),
            "use the authenticator-app method for API and CLI logins, or phone numbers of at \
             most 9 digits; the web sign-in is not affected the same way",
        )),
    }
}

fn caller_without_app(app: &TfaMethod, caller: &Caller, out: &mut Vec<Finding>) {
    if !(caller.is_owner || caller.is_admin) || caller.tfa_app_enabled != Some(false) {
        return;
    }
    let named = app
        .mandatory_users
        .iter()
        .flatten()
        .any(|u| u.eq_ignore_ascii_case(&caller.id))
        || app
            .mandatory_groups
            .iter()
            .flatten()
            .any(|g| caller.groups.iter().any(|cg| cg.eq_ignore_ascii_case(g)));
    let trusted = app.trusted_ips.as_ref().is_some_and(|t| !t.is_empty());
    let when = if named || !trusted {
        "applies to you"
    } else {
        "applies to you unless you sign in from a trusted address"
    };
    out.push(finding(
        Severity::Warning,
        "caller_without_app",
        Some(caller.id.clone()),
        format!(
            "you are an {} and the app method {when}, but you have no authenticator app \
             linked: your next password login stops at the app's setup, and every policy change \
             signs every session out, yours included",
            if caller.is_owner { "owner" } else { "admin" }
        ),
        "link an app now, while your session lasts (`docspace-tfa link --auto` or `link`), \
         and keep the backup codes",
    ));
}

/// `3.7.2.1234` → `(3, 7)`.
fn parse_version(text: &str) -> Option<(u64, u64)> {
    let mut parts = text.trim().trim_start_matches(['v', 'V']).split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts
        .next()
        .map(|m| {
            m.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(json: serde_json::Value) -> TfaMethod {
        serde_json::from_value(json).unwrap()
    }

    fn codes(methods: &[TfaMethod], version: Option<&str>, caller: &Caller) -> Vec<&'static str> {
        let facts = Facts {
            methods,
            null_trusted_ips: &[],
            version,
            caller,
            missing_users: &[],
            missing_groups: &[],
            unchecked: 0,
        };
        run(&facts).into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn versions() {
        for (text, want) in [
            ("3.7.2", Some((3, 7))),
            ("3.7.2.1234", Some((3, 7))),
            ("v3.8.0", Some((3, 8))),
            ("4", Some((4, 0))),
            ("3.10-beta", Some((3, 10))),
            ("", None),
            ("unknown", None),
        ] {
            assert_eq!(parse_version(text), want, "{text}");
        }
    }

    #[test]
    fn what_each_portal_state_reports() {
        let admin = Caller {
            id: "me".into(),
            is_admin: true,
            tfa_app_enabled: Some(false),
            ..Caller::default()
        };
        let linked = Caller {
            tfa_app_enabled: Some(true),
            ..admin.clone()
        };
        let app_on = |ips: serde_json::Value| {
            vec![method(
                serde_json::json!({"id": "app", "enabled": true, "available": true,
                "trustedIps": ips, "mandatoryUsers": [], "mandatoryGroups": []}),
            )]
        };
        let sms = |enabled: bool| {
            vec![method(
                serde_json::json!({"id": "sms", "enabled": enabled, "available": enabled,
                "trustedIps": [], "mandatoryUsers": [], "mandatoryGroups": []}),
            )]
        };
        let off = vec![
            method(serde_json::json!({"id": "sms", "enabled": false, "available": false})),
            method(serde_json::json!({"id": "app", "enabled": false, "available": true})),
        ];
        type Row<'a> = (
            &'a str,
            Vec<TfaMethod>,
            Option<&'a str>,
            &'a Caller,
            Vec<&'a str>,
        );
        let table: Vec<Row<'_>> = vec![
            (
                "healthy",
                app_on(serde_json::json!([])),
                Some("3.7.2"),
                &linked,
                vec![],
            ),
            ("off", off, Some("3.7.2"), &linked, vec!["tfa_off"]),
            (
                "no version",
                app_on(serde_json::json!([])),
                None,
                &linked,
                vec!["version_unknown"],
            ),
            (
                "bad ips",
                app_on(serde_json::json!([
                    "not-an-ip",
                    "300.1.1.1",
                    "0.0.0.0/0",
                    "10.0.0.1"
                ])),
                Some("3.7.2"),
                &linked,
                vec![
                    "trusted_ip_breaks_logins",
                    "trusted_ip_never_matches",
                    "trusted_ip_misleading",
                ],
            ),
            (
                "caller",
                app_on(serde_json::json!([])),
                Some("3.7.2"),
                &admin,
                vec!["caller_without_app"],
            ),
            (
                "sms",
                sms(true),
                Some("3.7.2"),
                &linked,
                vec!["sms_phone_noise_defect"],
            ),
            (
                "sms newer",
                sms(true),
                Some("3.9.0"),
                &linked,
                vec!["sms_phone_noise_unverified"],
            ),
            (
                "sms no provider",
                sms(false),
                Some("3.7.2"),
                &linked,
                vec!["sms_without_provider", "sms_phone_noise_defect"],
            ),
        ];
        for (name, methods, version, caller, want) in table {
            assert_eq!(codes(&methods, version, caller), want, "{name}");
        }
    }

    #[test]
    fn long_subjects_are_cut_and_unchecked_ids_noted() {
        let caller = Caller::default();
        let long = format!("{}-x", "1".repeat(5000));
        let methods = vec![method(serde_json::json!({"id": "app", "enabled": true,
            "trustedIps": [long], "mandatoryUsers": [], "mandatoryGroups": []}))];
        let facts = Facts {
            methods: &methods,
            null_trusted_ips: &[],
            version: Some("3.7.2"),
            caller: &caller,
            missing_users: &[],
            missing_groups: &[],
            unchecked: 7,
        };
        let found = run(&facts);
        let subject = found[0].subject.as_deref().unwrap_or_default();
        assert_eq!(subject.chars().count(), MAX_SUBJECT + 1);
        assert!(subject.ends_with('…'));
        let note = found
            .iter()
            .find(|f| f.code == "members_unchecked")
            .unwrap();
        assert!(
            note.message.contains("7 were not looked up"),
            "{}",
            note.message
        );
    }

    #[test]
    fn a_trusted_caller_is_told_so() {
        let caller = Caller {
            id: "me".into(),
            is_owner: true,
            tfa_app_enabled: Some(false),
            ..Caller::default()
        };
        let methods = vec![method(serde_json::json!({"id": "app", "enabled": true,
            "trustedIps": ["10.0.0.0/8"], "mandatoryUsers": [], "mandatoryGroups": []}))];
        let facts = Facts {
            methods: &methods,
            null_trusted_ips: &[],
            version: Some("3.7.2"),
            caller: &caller,
            missing_users: &[],
            missing_groups: &[],
            unchecked: 0,
        };
        let found = run(&facts);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("owner"), "{}", found[0].message);
        assert!(found[0]
            .message
            .contains("unless you sign in from a trusted address"));
    }
}
