//! Trusted-IP entries as the server reads them (a leaf: imports nothing of ours).
//!
//! The server checks a login's address against the policy's `trustedIps` with
//! `IPAddressRange.MatchIPs` (`common/ASC.Core.Common/Core/IPAddressRange.cs:44-63` in
//! ONLYOFFICE/DocSpace-server; `docs/server.md`, "Trusted IPs"). Saving a policy checks
//! nothing, so every entry falls in one of four classes, which [`check_trusted_ip`] tells
//! apart and the library, the `doctor` and the emulator share:
//!
//! - an entry with a `-` after its first character is a range `a-b`: both ends go through
//!   .NET's `IPAddress.Parse`, and a malformed end throws `FormatException` at **every login**
//!   the policy is checked for (a `500`);
//! - an entry with a `/` after its first character is a CIDR block, read by
//!   `IPNetwork.Parse`: malformed, it throws `FormatException` the same way; well formed, only
//!   the first 32 bits of the address are compared, with a mask built by a 32-bit shift whose
//!   count .NET takes modulo 32 (`-1 << (32 - prefix)`), so `0.0.0.0/0` matches only `0.0.0.0`
//!   and IPv6 blocks longer than `/32` match more than they say;
//! - anything else is compared **as text** with the client's address: `300.1.1.1`,
//!   `10.0.0.01` or an upper-case IPv6 address never match, silently.

use std::net::IpAddr;

mod dotnet;

use dotnet::{dotnet_network, dotnet_parse, mask, octets};

/// What the server makes of one trusted-IP entry; see [`check_trusted_ip`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TrustedIpVerdict {
    /// A single address as the server writes it, a range or a CIDR block that means what it
    /// says.
    Valid,
    /// A malformed range or CIDR block: the server throws `FormatException` while checking a
    /// login, so every password login the policy is checked for fails with a `500`. The text
    /// says why.
    BreaksLogins(String),
    /// Saved and compared, but it never matches any client: the text says why.
    NeverMatches(String),
    /// Parsed, but it matches other addresses than it says: the text says which.
    Misleading(String),
}

impl TrustedIpVerdict {
    /// Whether the entry means what it says.
    pub fn is_valid(&self) -> bool {
        matches!(self, TrustedIpVerdict::Valid)
    }

    /// Why the entry is not valid; `None` for a valid one.
    pub fn reason(&self) -> Option<&str> {
        match self {
            TrustedIpVerdict::Valid => None,
            TrustedIpVerdict::BreaksLogins(r)
            | TrustedIpVerdict::NeverMatches(r)
            | TrustedIpVerdict::Misleading(r) => Some(r),
        }
    }
}

/// Classifies a trusted-IP entry as the server will read it (see the module's text).
///
/// ```
/// use docspace_tfa::{check_trusted_ip, TrustedIpVerdict};
///
/// assert!(check_trusted_ip("10.0.0.0/8").is_valid());
/// assert!(check_trusted_ip("192.168.1.10-192.168.1.20").is_valid());
/// assert!(matches!(check_trusted_ip("not-an-ip"), TrustedIpVerdict::BreaksLogins(_)));
/// assert!(matches!(check_trusted_ip("300.1.1.1"), TrustedIpVerdict::NeverMatches(_)));
/// assert!(matches!(check_trusted_ip("0.0.0.0/0"), TrustedIpVerdict::Misleading(_)));
/// ```
pub fn check_trusted_ip(entry: &str) -> TrustedIpVerdict {
    match shape(entry) {
        Shape::Range(lo, hi) => check_range(lo, hi),
        Shape::Network(text) => check_network(text),
        Shape::Plain => check_plain(entry),
    }
}

/// Why the server's check of an entry throws, as its exception.
#[cfg_attr(not(feature = "emulator"), allow(dead_code))] // the emulator's matching
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerIpFault {
    /// `IPAddress.Parse` on an end of a range.
    InvalidAddress,
    /// `IPNetwork.Parse` on a CIDR block.
    InvalidNetwork,
    /// A range whose lower end is IPv6 and upper end IPv4, read past its end for an IPv6
    /// client.
    IndexOutOfRange,
    /// A JSON `null` entry (saved as such): `restrictionIp.IndexOf` on `null`.
    NullEntry,
}

#[cfg_attr(not(feature = "emulator"), allow(dead_code))] // the emulator's matching
impl ServerIpFault {
    /// The exception's .NET type name.
    pub(crate) fn exception_type(self) -> &'static str {
        match self {
            ServerIpFault::IndexOutOfRange => "System.IndexOutOfRangeException",
            ServerIpFault::NullEntry => "System.NullReferenceException",
            _ => "System.FormatException",
        }
    }

    /// The exception's message on the server's runtime.
    pub(crate) fn message(self) -> &'static str {
        match self {
            ServerIpFault::InvalidAddress => "An invalid IP address was specified.",
            ServerIpFault::InvalidNetwork => "An invalid IP network was specified.",
            ServerIpFault::IndexOutOfRange => "Index was outside the bounds of the array.",
            ServerIpFault::NullEntry => "Object reference not set to an instance of an object.",
        }
    }

    /// The exception's `HResult`.
    pub(crate) fn hresult(self) -> i64 {
        match self {
            ServerIpFault::IndexOutOfRange => -2_146_233_080,
            ServerIpFault::NullEntry => -2_147_467_261,
            _ => -2_146_233_033,
        }
    }
}

/// `IPAddressRange.MatchIPs(requestIp, entry)`: whether a client at `request_ip` (as the
/// server writes addresses) matches the entry, or the exception the server throws.
#[cfg_attr(not(feature = "emulator"), allow(dead_code))] // the emulator's matching
pub(crate) fn server_matches(request_ip: &str, entry: &str) -> Result<bool, ServerIpFault> {
    match shape(entry) {
        Shape::Range(lo, hi) => {
            let lower = dotnet_parse(lo.trim()).ok_or(ServerIpFault::InvalidAddress)?;
            let upper = dotnet_parse(hi.trim()).ok_or(ServerIpFault::InvalidAddress)?;
            let ip = dotnet_parse(request_ip).ok_or(ServerIpFault::InvalidAddress)?;
            range_contains(lower, upper, ip)
        }
        Shape::Network(text) => {
            let (base, prefix) = dotnet_network(text).ok_or(ServerIpFault::InvalidNetwork)?;
            let ip = dotnet_parse(request_ip).ok_or(ServerIpFault::InvalidAddress)?;
            Ok(network_contains(base, prefix, ip))
        }
        Shape::Plain => Ok(request_ip == entry),
    }
}

/// Which branch of `MatchIPs` an entry takes.
enum Shape<'a> {
    Range(&'a str, &'a str),
    Network(&'a str),
    Plain,
}

fn shape(entry: &str) -> Shape<'_> {
    // `IndexOf(…) > 0`: a `-` or `/` as the very first character does not count.
    match entry.find('-') {
        Some(i) if i > 0 => return Shape::Range(&entry[..i], &entry[i + 1..]),
        _ => {}
    }
    match entry.find('/') {
        Some(i) if i > 0 => Shape::Network(entry),
        _ => Shape::Plain,
    }
}

fn check_range(lo: &str, hi: &str) -> TrustedIpVerdict {
    let (Some(lower), Some(upper)) = (dotnet_parse(lo.trim()), dotnet_parse(hi.trim())) else {
        return TrustedIpVerdict::BreaksLogins(
            "a range whose ends are not both IP addresses: the server throws FormatException \
             (\"An invalid IP address was specified.\") at every login it checks"
                .into(),
        );
    };
    match (lower, upper) {
        (IpAddr::V6(_), IpAddr::V4(_)) => {
            return TrustedIpVerdict::BreaksLogins(
                "a range from an IPv6 to an IPv4 address: the server reads past the IPv4 end \
                 (IndexOutOfRangeException) for IPv6 clients"
                    .into(),
            )
        }
        (IpAddr::V4(_), IpAddr::V6(_)) => {
            return TrustedIpVerdict::Misleading(
                "a range from an IPv4 to an IPv6 address: the server compares IPv4 clients \
                 with the first 4 bytes of the IPv6 end"
                    .into(),
            )
        }
        _ => {}
    }
    if octets(lower) > octets(upper) {
        return TrustedIpVerdict::NeverMatches(format!(
            "the range's lower end {lower} is above its upper end {upper}"
        ));
    }
    for (text, ip) in [(lo.trim(), lower), (hi.trim(), upper)] {
        if text.parse::<IpAddr>().ok() != Some(ip) {
            return TrustedIpVerdict::Misleading(format!(
                "the server reads {text:?} as {ip}; write {lower}-{upper}"
            ));
        }
    }
    TrustedIpVerdict::Valid
}

fn check_network(text: &str) -> TrustedIpVerdict {
    let Some((base, prefix)) = dotnet_network(text) else {
        return TrustedIpVerdict::BreaksLogins(
            "not a CIDR block (address/prefix): the server throws FormatException (\"An invalid \
             IP network was specified.\") at every login it checks"
                .into(),
        );
    };
    let written = text.rsplit_once('/').map(|(a, _)| a).unwrap_or_default();
    let Some(address) = written.parse::<IpAddr>().ok() else {
        return TrustedIpVerdict::Misleading(format!(
            "the server reads the address {written:?} as {}; write {base}/{prefix}",
            dotnet_parse(written).unwrap_or(base)
        ));
    };
    if address != base {
        return TrustedIpVerdict::Misleading(format!(
            "host bits are set: the block is {base}/{prefix}, not the address {address}"
        ));
    }
    let compared = compared_bits(prefix);
    match base {
        IpAddr::V4(_) if prefix == 0 => TrustedIpVerdict::Misleading(format!(
            "/0 does not match every address: the server compares all 32 bits when the prefix \
             is 0, so it matches only {base}"
        )),
        IpAddr::V6(_) if prefix == 0 || prefix > 32 => TrustedIpVerdict::Misleading(format!(
            "the server compares only the first {compared} bits of an IPv6 address (its mask \
             is built from 32 bits), so /{prefix} matches every address in {}/{compared}",
            mask(base, compared)
        )),
        _ => TrustedIpVerdict::Valid,
    }
}

fn check_plain(entry: &str) -> TrustedIpVerdict {
    match entry.trim().parse::<IpAddr>() {
        Ok(ip) if ip.to_string() == entry => TrustedIpVerdict::Valid,
        Ok(ip) => TrustedIpVerdict::NeverMatches(format!(
            "a single address is compared as text with the client's address, which the server \
             writes as {ip}; write it that way"
        )),
        Err(_) => TrustedIpVerdict::NeverMatches(
            "not an IP address, range or CIDR block: the server compares it as text with the \
             client's address, so it never matches"
                .into(),
        ),
    }
}

/// How many leading bits of the first 32 the server's CIDR mask keeps: .NET masks an `int`
/// shift count to 5 bits, so `-1 << (32 - prefix)` keeps `prefix mod 32` bits, or all 32.
fn compared_bits(prefix: u8) -> u8 {
    match prefix % 32 {
        0 => 32,
        n => n,
    }
}

#[cfg_attr(not(feature = "emulator"), allow(dead_code))] // the emulator's matching
fn range_contains(lower: IpAddr, upper: IpAddr, ip: IpAddr) -> Result<bool, ServerIpFault> {
    if ip.is_ipv4() != lower.is_ipv4() {
        return Ok(false);
    }
    let (lo, hi, ip) = (octets(lower), octets(upper), octets(ip));
    let (mut lower_edge, mut upper_edge) = (true, true);
    for (i, &lo_byte) in lo.iter().enumerate() {
        if !(lower_edge || upper_edge) {
            break;
        }
        let byte = ip.get(i).copied().ok_or(ServerIpFault::IndexOutOfRange)?;
        let hi_byte = hi.get(i).copied().ok_or(ServerIpFault::IndexOutOfRange)?;
        if (lower_edge && byte < lo_byte) || (upper_edge && byte > hi_byte) {
            return Ok(false);
        }
        lower_edge &= byte == lo_byte;
        upper_edge &= byte == hi_byte;
    }
    Ok(true)
}

#[cfg_attr(not(feature = "emulator"), allow(dead_code))] // the emulator's matching
fn network_contains(base: IpAddr, prefix: u8, ip: IpAddr) -> bool {
    if ip.is_ipv4() != base.is_ipv4() {
        return false;
    }
    let first32 = |a: IpAddr| {
        let o = octets(a);
        u32::from_be_bytes([o[0], o[1], o[2], o[3]])
    };
    let m = u32::MAX << (32 - u32::from(compared_bits(prefix)));
    first32(ip) & m == first32(base) & m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    enum Class {
        Valid,
        Breaks,
        Never,
        Misleading,
    }

    fn class(entry: &str) -> Class {
        match check_trusted_ip(entry) {
            TrustedIpVerdict::Valid => Class::Valid,
            TrustedIpVerdict::BreaksLogins(_) => Class::Breaks,
            TrustedIpVerdict::NeverMatches(_) => Class::Never,
            TrustedIpVerdict::Misleading(_) => Class::Misleading,
        }
    }

    #[test]
    fn classification_table() {
        use Class::*;
        let table = [
            ("10.1.2.3", Valid),
            ("2001:db8::1", Valid),
            ("10.0.0.0/8", Valid),
            ("192.168.1.10-192.168.1.20", Valid),
            ("192.168.1.10 - 192.168.1.20", Valid),
            ("2001:db8::/32", Valid),
            ("2001::/16", Valid),
            ("2001:db8::/16", Misleading),
            ("not-an-ip", Breaks),
            ("10.0.0.1-", Breaks),
            ("10.0.0.0/33", Breaks),
            ("10.0.0.0/x", Breaks),
            ("garbage/8", Breaks),
            ("10.0.0.0/ 8", Breaks),
            ("::1-10.0.0.1", Breaks),
            ("300.1.1.1", Never),
            ("999.999.999.999", Never),
            ("", Never),
            (" 10.0.0.1", Never),
            ("10.0.0.01", Never),
            ("2001:DB8::1", Never),
            ("-10.0.0.1", Never),
            ("10.0.0.9-10.0.0.1", Never),
            ("0.0.0.0/0", Misleading),
            ("10.0.0.1/24", Misleading),
            ("2001:db8::/64", Misleading),
            ("::/0", Misleading),
            ("10.1-10.2", Misleading),
            ("10.0.0.1-::1", Misleading),
        ];
        for (entry, want) in table {
            assert_eq!(class(entry), want, "{entry:?}");
        }
    }

    #[test]
    fn every_invalid_verdict_says_why() {
        for entry in ["not-an-ip", "300.1.1.1", "0.0.0.0/0"] {
            let verdict = check_trusted_ip(entry);
            assert!(!verdict.is_valid());
            assert!(verdict.reason().is_some_and(|r| r.len() > 20), "{entry}");
        }
        assert_eq!(check_trusted_ip("10.0.0.0/8").reason(), None);
    }

    #[test]
    fn server_matching_table() {
        let table: &[(&str, &str, Result<bool, ServerIpFault>)] = &[
            ("10.1.2.3", "10.1.2.3", Ok(true)),
            ("10.1.2.3", "10.0.0.0/8", Ok(true)),
            ("10.1.2.3", "10.1.3.0/24", Ok(false)),
            ("10.1.2.3", "10.1.2.0-10.1.2.10", Ok(true)),
            ("10.1.2.30", "10.1.2.0-10.1.2.10", Ok(false)),
            // /0 compares all 32 bits.
            ("10.1.2.3", "0.0.0.0/0", Ok(false)),
            ("0.0.0.0", "0.0.0.0/0", Ok(true)),
            // IPv6 /64 compares the first 32 bits only.
            ("2001:db8:ffff::1", "2001:db8::/64", Ok(true)),
            ("2001:db9::1", "2001:db8::/64", Ok(false)),
            ("10.1.2.3", "::1", Ok(false)),
            ("10.1.2.3", "300.1.1.1", Ok(false)),
            ("10.1.2.3", "not-an-ip", Err(ServerIpFault::InvalidAddress)),
            (
                "10.1.2.3",
                "10.0.0.0/40",
                Err(ServerIpFault::InvalidNetwork),
            ),
            ("10.1.2.3", "10.0.0.1/24", Ok(false)),
            ("10.0.0.3", "10.0.0.1/24", Ok(true)),
            ("::1", "::-10.0.0.1", Err(ServerIpFault::IndexOutOfRange)),
        ];
        for (ip, entry, want) in table {
            assert_eq!(server_matches(ip, entry), *want, "{ip} vs {entry}");
        }
    }

    use proptest::prelude::*;

    /// Entries made of what addresses, ranges and blocks are made of, so that most are close
    /// to valid.
    fn entry() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[0-9a-fA-FxX.:/ -]{0,24}").expect("a valid regex")
    }

    fn request_ip() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<u32>().prop_map(|n| std::net::Ipv4Addr::from(n).to_string()),
            any::<u128>().prop_map(|n| std::net::Ipv6Addr::from(n).to_string()),
            // Addresses near the ones the entries are made of.
            (0u8..4, 0u8..4).prop_map(|(a, b)| format!("10.{a}.0.{b}")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

        /// The classification and the server's matching agree: only an entry classified as
        /// breaking logins can make the server throw, and one that throws for a malformed
        /// text throws for every client.
        #[test]
        fn only_entries_that_break_logins_throw(entry in entry(), ip in request_ip()) {
            let verdict = check_trusted_ip(&entry);
            match server_matches(&ip, &entry) {
                Err(_) => prop_assert!(
                    matches!(verdict, TrustedIpVerdict::BreaksLogins(_)),
                    "{:?} threw for {} but is {:?}", entry, ip, verdict
                ),
                Ok(_) => prop_assert!(
                    !matches!(verdict, TrustedIpVerdict::BreaksLogins(_))
                        || entry.contains(':'),
                    "{:?} is {:?} but did not throw for {}", entry, verdict, ip
                ),
            }
        }

        /// A valid single address matches exactly itself.
        #[test]
        fn a_valid_address_matches_itself(ip in request_ip()) {
            prop_assert!(check_trusted_ip(&ip).is_valid());
            prop_assert_eq!(server_matches(&ip, &ip), Ok(true));
        }

        /// A valid IPv4 block matches exactly the addresses inside it.
        #[test]
        fn a_valid_ipv4_block_means_what_it_says(n in any::<u32>(), prefix in 1u8..=32, ip in any::<u32>()) {
            let base = std::net::Ipv4Addr::from(n & (u32::MAX << (32 - u32::from(prefix))));
            let entry = format!("{base}/{prefix}");
            prop_assert!(check_trusted_ip(&entry).is_valid(), "{}", entry);
            let inside = (ip ^ u32::from(base)) >> (32 - u32::from(prefix)) == 0;
            let ip = std::net::Ipv4Addr::from(ip).to_string();
            prop_assert_eq!(server_matches(&ip, &entry), Ok(inside), "{} in {}", ip, entry);
        }
    }

    #[test]
    fn errors_carry_the_server_texts() {
        assert_eq!(
            ServerIpFault::InvalidAddress.message(),
            "An invalid IP address was specified."
        );
        assert_eq!(
            ServerIpFault::InvalidNetwork.message(),
            "An invalid IP network was specified."
        );
        assert_eq!(
            ServerIpFault::InvalidNetwork.exception_type(),
            "System.FormatException"
        );
    }
}
