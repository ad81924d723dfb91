//! IPv4 and IPv6 addresses and CIDR blocks for `ip_equal` / `ip_not_equal`.

use std::net::IpAddr;

/// An address block; a plain address is a block of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cidr {
    /// An IPv4 block: network bits and prefix length.
    V4(u32, u8),
    /// An IPv6 block.
    V6(u128, u8),
}

impl Cidr {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address, or `addr/n` for IPv6.
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p))
                if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 =>
            {
                (a, Some(p.parse::<u8>().ok()?))
            }
            Some(_) => return None,
            None => (text, None),
        };
        match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => {
                let len = prefix.unwrap_or(32);
                (len <= 32).then(|| Self::V4(u32::from(a) & mask32(len), len))
            }
            IpAddr::V6(a) => {
                let len = prefix.unwrap_or(128);
                (len <= 128).then(|| Self::V6(u128::from(a) & mask128(len), len))
            }
        }
    }

    /// Whether `ip` lies in the block (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self, ip) {
            (Self::V4(net, len), IpAddr::V4(a)) => u32::from(a) & mask32(*len) == *net,
            (Self::V6(net, len), IpAddr::V6(a)) => u128::from(a) & mask128(*len) == *net,
            _ => false,
        }
    }
}

fn mask32(len: u8) -> u32 {
    u32::MAX
        .checked_shl(32 - u32::from(len.min(32)))
        .unwrap_or(0)
}

fn mask128(len: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(len.min(128)))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains(ip("10.1.2.3")));
        assert!(!c.contains(ip("11.0.0.1")));
        assert!(c.contains(ip("::ffff:10.0.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("1.2.3.4")));
        assert!(Cidr::parse("1.2.3.4").unwrap().contains(ip("1.2.3.4")));
        assert!(!Cidr::parse("1.2.3.4").unwrap().contains(ip("1.2.3.5")));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "x",
            "10.0.0.0/",
            "10.0.0.0/a",
            "1.2.3.4/-1",
        ] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
    }
}
