//! The portal's TFA policy: the settings of each method (SMS, authenticator app), and whom
//! TFA applies to for a request — everyone while a method is on, except that a trusted IP
//! exempts members not named mandatory (`docs/server.md`, "The settings endpoints";
//! `docs/emulator.md`, "What it models": Policy).

use std::net::IpAddr;

use crate::trusted_ip::{server_matches, ServerIpFault};

/// The settings of one TFA method, as the server stores them (`TfaSettingsBase`).
#[derive(Debug, Clone, Default)]
pub(crate) struct MethodSettings {
    pub(crate) enabled: bool,
    /// `null` until a policy is first saved, and again once the method is switched off (the
    /// server then stores fresh settings): `GET settings/tfaapp` omits them.
    pub(crate) lists: Option<PolicyLists>,
}

/// The three lists of a saved policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PolicyLists {
    /// The entries as saved: the server saves a JSON `null` entry too (`List<string>`).
    pub(crate) trusted_ips: Vec<Option<String>>,
    pub(crate) mandatory_users: Vec<String>,
    pub(crate) mandatory_groups: Vec<String>,
}

impl MethodSettings {
    /// Switches the method on with these lists (`SetSettingsProperty` and save).
    pub(crate) fn save(&mut self, lists: PolicyLists) {
        self.enabled = true;
        self.lists = Some(lists);
    }

    /// Switches the method off: fresh settings, lists `null` (`SetEnable(false)`).
    pub(crate) fn switch_off(&mut self) {
        *self = MethodSettings::default();
    }
}

impl MethodSettings {
    /// Whether these settings apply to a member (by id and groups) for a request from `ip`, as
    /// the server's `TfaEnabledForUserAsync` decides (`web/ASC.Web.Core/Sms/TfaSettingsBase.cs:64-100`):
    /// not while the method is off; a member named mandatory (by group, then by id) always;
    /// otherwise everyone, except a client whose address matches a trusted-IP entry — the
    /// entries tried in order with the server's own matching (`IPAddressRange.MatchIPs`,
    /// [`server_matches`]), so a malformed range or CIDR block that is reached throws: that is
    /// the `Err`, and the endpoint answers with the server's exception.
    pub(crate) fn applies(
        &self,
        user_id: &str,
        groups: &[String],
        ip: Option<IpAddr>,
    ) -> Result<bool, ServerIpFault> {
        if !self.enabled {
            return Ok(false);
        }
        let Some(lists) = &self.lists else {
            return Ok(true);
        };
        let mandatory = lists
            .mandatory_groups
            .iter()
            .any(|g| groups.iter().any(|ug| ug.eq_ignore_ascii_case(g)))
            || lists
                .mandatory_users
                .iter()
                .any(|m| m.eq_ignore_ascii_case(user_id));
        if mandatory {
            return Ok(true);
        }
        if let Some(ip) = ip {
            let request_ip = ip.to_string();
            for entry in &lists.trusted_ips {
                let entry = entry.as_deref().ok_or(ServerIpFault::NullEntry)?;
                if server_matches(&request_ip, entry)? {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(trusted: &[&str], users: &[&str]) -> MethodSettings {
        let mut s = MethodSettings::default();
        s.save(PolicyLists {
            trusted_ips: trusted.iter().map(|t| Some(t.to_string())).collect(),
            mandatory_users: users.iter().map(|t| t.to_string()).collect(),
            mandatory_groups: Vec::new(),
        });
        s
    }

    #[test]
    fn whom_the_policy_applies_to() {
        let ip: Option<IpAddr> = "10.1.2.3".parse().ok();
        type Row<'a> = (&'a [&'a str], &'a [&'a str], Result<bool, ServerIpFault>);
        let table: &[Row<'_>] = &[
            (&[], &[], Ok(true)),
            (&["10.0.0.0/8"], &[], Ok(false)),
            (&["10.0.0.0/8"], &["u"], Ok(true)),
            // Entries are tried in order: a match before a malformed one hides it.
            (&["10.1.2.3", "not-an-ip"], &[], Ok(false)),
            (
                &["not-an-ip", "10.1.2.3"],
                &[],
                Err(ServerIpFault::InvalidAddress),
            ),
            (&["10.0.0.0/99"], &[], Err(ServerIpFault::InvalidNetwork)),
            // A mandatory member is decided before the trusted IPs are read.
            (&["not-an-ip"], &["u"], Ok(true)),
            (&["300.1.1.1"], &[], Ok(true)),
            (&["0.0.0.0/0"], &[], Ok(true)),
        ];
        for (trusted, users, want) in table {
            assert_eq!(
                on(trusted, users).applies("u", &[], ip),
                *want,
                "{trusted:?}"
            );
        }
        assert_eq!(MethodSettings::default().applies("u", &[], ip), Ok(false));
    }
}
