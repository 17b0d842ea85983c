//! IP networks (CIDR) for allow- and deny-lists: the metrics allowlist, rate-limit exemptions, webhook targets.

use std::net::IpAddr;

/// Parses `10.0.0.0/8,::1` into networks; a bare address is a single host.
pub fn parse_networks(list: &[String]) -> Result<Vec<(IpAddr, u8)>, String> {
    list.iter()
        .map(|item| {
            let (addr, len) = match item.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (item.as_str(), None),
            };
            let ip: IpAddr = addr.trim().parse().map_err(|_| format!("not an address: {item}"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len = match len {
                Some(l) => l
                    .trim()
                    .parse::<u8>()
                    .ok()
                    .filter(|l| *l <= max)
                    .ok_or(format!("bad prefix: {item}"))?,
                None => max,
            };
            Ok((ip, len))
        })
        .collect()
}

/// Whether `ip` lies in the network.
pub fn contains(network: &(IpAddr, u8), ip: &IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
        v4 => *v4,
    };
    match (network.0, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = if network.1 == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(network.1))
            };
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = if network.1 == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(network.1))
            };
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let nets = parse_networks(&["127.0.0.1".into(), "10.0.0.0/8".into(), "::1".into()]).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(nets.iter().any(|n| contains(n, &ip("10.20.30.40"))));
        assert!(nets.iter().any(|n| contains(n, &ip("::ffff:127.0.0.1"))));
        assert!(!nets.iter().any(|n| contains(n, &ip("192.168.1.1"))));
        assert!(parse_networks(&["10.0.0.0/40".into()]).is_err());
    }
}
