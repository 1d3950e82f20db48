//! The portal's TFA policy: the settings of each method (SMS, authenticator app), and whom
//! TFA applies to for a request — everyone while a method is on, except that a trusted IP
//! exempts members not named mandatory (`docs/server.md`, "The settings endpoints";
//! `docs/emulator.md`, "What it models": Policy).

use std::net::IpAddr;

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
    pub(crate) trusted_ips: Vec<String>,
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
    /// Whether these settings apply to a member (by id and groups) for a request from `ip`:
    /// not while the method is off; otherwise to everyone, except that a trusted IP exempts
    /// members who are not named mandatory (directly or by group).
    pub(crate) fn applies(&self, user_id: &str, groups: &[String], ip: Option<IpAddr>) -> bool {
        if !self.enabled {
            return false;
        }
        let Some(lists) = &self.lists else {
            return true;
        };
        let trusted = ip
            .map(|ip| lists.trusted_ips.iter().any(|t| ip_matches(t, ip)))
            .unwrap_or(false);
        if !trusted {
            return true;
        }
        lists
            .mandatory_users
            .iter()
            .any(|m| m.eq_ignore_ascii_case(user_id))
            || lists
                .mandatory_groups
                .iter()
                .any(|g| groups.iter().any(|ug| ug.eq_ignore_ascii_case(g)))
    }
}

/// Whether `ip` matches a trusted-IP entry: an address, an IPv4/IPv6 CIDR block
/// (`10.0.0.0/8`), or a range `a-b` of the same family.
pub(crate) fn ip_matches(entry: &str, ip: IpAddr) -> bool {
    let entry = entry.trim();
    if let Some((net, bits)) = entry.split_once('/') {
        let (Ok(net), Ok(bits)) = (net.trim().parse::<IpAddr>(), bits.trim().parse::<u32>()) else {
            return false;
        };
        return match (net, ip) {
            (IpAddr::V4(n), IpAddr::V4(i)) if bits <= 32 => {
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                u32::from(n) & mask == u32::from(i) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(i)) if bits <= 128 => {
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                u128::from(n) & mask == u128::from(i) & mask
            }
            _ => false,
        };
    }
    if let Some((lo, hi)) = entry.split_once('-') {
        return match (lo.trim().parse::<IpAddr>(), hi.trim().parse::<IpAddr>(), ip) {
            (Ok(IpAddr::V4(lo)), Ok(IpAddr::V4(hi)), IpAddr::V4(i)) => (lo..=hi).contains(&i),
            (Ok(IpAddr::V6(lo)), Ok(IpAddr::V6(hi)), IpAddr::V6(i)) => (lo..=hi).contains(&i),
            _ => false,
        };
    }
    entry.parse::<IpAddr>().map(|e| e == ip).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusted_ips() {
        let ip: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(ip_matches("10.1.2.3", ip));
        assert!(ip_matches("10.0.0.0/8", ip));
        assert!(ip_matches("10.1.2.0-10.1.2.10", ip));
        assert!(ip_matches("0.0.0.0/0", ip));
        assert!(!ip_matches("10.1.3.0/24", ip));
        assert!(!ip_matches("::1", ip));
        assert!(!ip_matches("garbage", ip));
        assert!(!ip_matches("10.0.0.0/40", ip));
        let v6: IpAddr = "::1".parse().unwrap();
        assert!(ip_matches("::1/128", v6));
    }
}
