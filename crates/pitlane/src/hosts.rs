//! What a player must add to their hosts file, with this server's address.

use std::net::{IpAddr, Ipv4Addr};

/// The names the Micro Machines client resolves.
pub const MMWS_HOSTS: [&str; 3] = [
    "mmcos.codemasters.com",
    "prod.egonet.codemasters.com",
    "ecdn.codemasters.com",
];

/// The address players should use: the configured public one, the bind
/// address if it is a specific one, else this machine's LAN address.
pub fn player_facing_address(public: Option<IpAddr>, bind: IpAddr) -> IpAddr {
    if let Some(ip) = public {
        return ip;
    }
    if !bind.is_unspecified() {
        return bind;
    }
    lan_address().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))
}

/// The first private IPv4 address of a network interface, else any
/// non-loopback IPv4 one.
pub fn lan_address() -> Option<IpAddr> {
    let addrs: Vec<Ipv4Addr> = if_addrs::get_if_addrs()
        .ok()?
        .into_iter()
        .filter_map(|i| match i.ip() {
            IpAddr::V4(v4) if !v4.is_loopback() && !v4.is_link_local() => Some(v4),
            _ => None,
        })
        .collect();
    addrs
        .iter()
        .find(|ip| ip.is_private())
        .or_else(|| addrs.first())
        .map(|ip| IpAddr::V4(*ip))
}

pub fn hosts_lines(address: IpAddr) -> String {
    MMWS_HOSTS
        .iter()
        .map(|name| format!("{address} {name}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_name_every_host() {
        let text = hosts_lines("192.168.1.20".parse().unwrap());
        assert_eq!(
            text,
            "192.168.1.20 mmcos.codemasters.com\n192.168.1.20 prod.egonet.codemasters.com\n192.168.1.20 ecdn.codemasters.com\n"
        );
    }

    #[test]
    fn configured_addresses_win() {
        let public: IpAddr = "203.0.113.7".parse().unwrap();
        let bind: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(player_facing_address(Some(public), bind), public);
        assert_eq!(player_facing_address(None, bind), bind);
        let auto = player_facing_address(None, "0.0.0.0".parse().unwrap());
        assert!(!auto.is_unspecified());
    }
}
