//! The Webhook node's `ipWhitelist` option: a comma-separated list of IP addresses and CIDR
//! ranges (IPv4 and IPv6), parsed once when the workflow is built so a request only compares
//! numbers. IPv4 clients seen as IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) match IPv4 entries.

use std::net::IpAddr;

/// The addresses allowed to call a webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpWhitelist {
    ranges: Vec<IpRange>,
}

/// A network: the address with all but the first `prefix` bits ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct IpRange {
    network: IpAddr,
    prefix: u8,
}

impl IpWhitelist {
    /// `None` for an empty list (everyone may call); an error names the first bad entry.
    pub fn parse(text: &str) -> Result<Option<Self>, String> {
        let ranges = text
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(IpRange::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok((!ranges.is_empty()).then_some(IpWhitelist { ranges }))
    }

    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.ranges.iter().any(|range| range.contains(ip))
    }
}

impl IpRange {
    fn parse(entry: &str) -> Result<Self, String> {
        let bad = || format!("'{entry}' is not an IP address or a CIDR range like 10.0.0.0/8");
        let (address, prefix) = match entry.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (entry, None),
        };
        let network = address
            .trim()
            .parse::<IpAddr>()
            .map_err(|_| bad())?
            .to_canonical();
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(bad)?,
        };
        Ok(IpRange { network, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(u128::from(net), u128::from(ip), self.prefix, 128)
            }
            _ => false,
        }
    }
}

/// Whether the first `prefix` of the `width` low bits of `a` and `b` agree.
fn same_prefix(a: u128, b: u128, prefix: u8, width: u32) -> bool {
    let ignored = width - u32::from(prefix);
    a.checked_shr(ignored).unwrap_or(0) == b.checked_shr(ignored).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn matches_addresses_and_ranges() {
        let list = IpWhitelist::parse(" 127.0.0.1, 10.0.0.0/8 ,2001:db8::/32,::1")
            .unwrap()
            .unwrap();
        assert!(list.allows(ip("127.0.0.1")));
        assert!(!list.allows(ip("127.0.0.2")));
        assert!(list.allows(ip("10.200.3.4")));
        assert!(!list.allows(ip("11.0.0.1")));
        assert!(list.allows(ip("2001:db8:1::5")));
        assert!(!list.allows(ip("2001:db9::5")));
        assert!(list.allows(ip("::1")));
        assert!(list.allows(ip("::ffff:10.1.1.1")), "IPv4-mapped IPv6");
    }

    #[test]
    fn whole_space_and_empty_lists() {
        let all = IpWhitelist::parse("0.0.0.0/0").unwrap().unwrap();
        assert!(all.allows(ip("203.0.113.9")));
        assert!(!all.allows(ip("2001:db8::1")));
        assert_eq!(IpWhitelist::parse(" , ").unwrap(), None);
    }

    #[test]
    fn bad_entries_are_named() {
        for bad in ["192.168.1.", "10.0.0.0/33", "host.example", "::1/129"] {
            let error = IpWhitelist::parse(&format!("127.0.0.1,{bad}")).unwrap_err();
            assert!(error.contains(bad), "{error}");
        }
    }
}
