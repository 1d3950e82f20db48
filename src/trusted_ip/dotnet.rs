//! .NET's readings of addresses and networks, as the server's runtime (.NET 10) does them:
//! `IPAddress.Parse` (the inet_aton forms for IPv4) and `IPNetwork.Parse`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The bytes of an address, 4 or 16.
pub(super) fn octets(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// The address with every bit after `prefix` cleared.
pub(super) fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let m = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
        }
        IpAddr::V6(a) => {
            let m = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
        }
    }
}

/// `IPNetwork.Parse` (.NET 10, the server's runtime): `address/prefix`, split at the last `/`,
/// the prefix plain digits up to the family's width; host bits are masked.
pub(super) fn dotnet_network(text: &str) -> Option<(IpAddr, u8)> {
    let (addr, prefix) = text.rsplit_once('/')?;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let addr = dotnet_parse(addr)?;
    let prefix: u8 = prefix.parse().ok()?;
    let width = if addr.is_ipv4() { 32 } else { 128 };
    (prefix <= width).then(|| (mask(addr, prefix), prefix))
}

/// .NET's `IPAddress.Parse`: IPv6 when the text has a `:`, else IPv4 in the inet_aton forms
/// (1 to 4 parts, each decimal, octal with a leading `0` or hex with `0x`; the last part fills
/// the remaining bytes: `10.1` is `10.0.0.1`).
pub(super) fn dotnet_parse(text: &str) -> Option<IpAddr> {
    if text.contains(':') {
        let bare = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        return bare.parse::<Ipv6Addr>().ok().map(IpAddr::V6);
    }
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut values = Vec::with_capacity(parts.len());
    for part in &parts {
        values.push(inet_part(part)?);
    }
    let (last, head) = values.split_last()?;
    if head.iter().any(|v| *v > 255) {
        return None;
    }
    let rest_bits = 8 * (4 - head.len() as u32);
    if (rest_bits < 32 && *last >= (1u64 << rest_bits)) || *last > u64::from(u32::MAX) {
        return None;
    }
    let mut n: u64 = 0;
    for v in head {
        n = (n << 8) | v;
    }
    n = (n << rest_bits) | last;
    u32::try_from(n).ok().map(|n| IpAddr::V4(Ipv4Addr::from(n)))
}

fn inet_part(part: &str) -> Option<u64> {
    let (digits, radix) =
        if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (part, 10)
        };
    if digits.is_empty() || digits.len() > 12 {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotnet_ipv4_forms() {
        let table = [
            ("10.1", Some("10.0.0.1")),
            ("1", Some("0.0.0.1")),
            ("0x7f.1", Some("127.0.0.1")),
            ("010.0.0.1", Some("8.0.0.1")),
            ("4294967295", Some("255.255.255.255")),
            ("4294967296", None),
            ("1.2.3.256", None),
            ("1.2.3.4.5", None),
            ("1..2", None),
            ("09.1.1.1", None),
        ];
        for (text, want) in table {
            assert_eq!(
                dotnet_parse(text).map(|ip| ip.to_string()).as_deref(),
                want,
                "{text}"
            );
        }
    }
}
