//! The fleet as the user's own: backend addresses, names and weights, and
//! the pool new instances (deploys, autoscaling) draw addresses from
//! (`[backends] addresses`, `names`, `weights`, `address_pool`). Hash rings,
//! tables and cookies are built on these addresses, so a run answers for
//! the real fleet, as `stickysim route --scenario` does.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The port of pool addresses when the fleet gives no `addresses` to take
/// it from (the default fleet's port).
pub const DEFAULT_PORT: u16 = 8080;

/// Largest per-backend weight (HAProxy's `weight` limit; `stickysim route
/// --weights` has the same).
pub const MAX_WEIGHT: u32 = 256;

/// `[backends]` addresses, names, weights and address pool. Every list is
/// empty when not given (the default fleet: `10.0.<i/250>.<i%250+1>:8080`,
/// named `b0`, `b1`, …, weight 1).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct FleetSpec {
    /// One address per backend of the starting fleet, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<SocketAddr>,
    /// One name per backend of the starting fleet (outputs add a
    /// `backend_name` column when given).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// One weight per backend of the starting fleet (1 to [`MAX_WEIGHT`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub weights: Vec<u32>,
    /// Where launched instances take their addresses from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<AddressPool>,
}

impl FleetSpec {
    /// Whether nothing is given (the default fleet).
    pub fn is_default(&self) -> bool {
        *self == FleetSpec::default()
    }

    /// The weight of starting backend `i` (1 when no weights are given).
    pub fn weight(&self, i: usize) -> u32 {
        self.weights.get(i).copied().unwrap_or(1)
    }

    /// The address of starting backend `i`: its given address, else the
    /// default fleet's.
    pub fn initial_addr(&self, i: usize) -> SocketAddr {
        self.addresses
            .get(i)
            .copied()
            .unwrap_or_else(|| default_addr(i))
    }

    /// The name of backend slot `i` in outputs: its given name, else `b<i>`.
    pub fn name(&self, i: usize) -> String {
        self.names
            .get(i)
            .cloned()
            .unwrap_or_else(|| super::Backends::name(i))
    }
}

/// The default fleet's address of backend `i`: `10.0.<i/250>.<i%250+1>:8080`
/// (for `i` below 64,000; on into `10.x` above).
pub fn default_addr(i: usize) -> SocketAddr {
    let i = i as u32;
    let ip = 0x0A00_0000u32 | ((i / 250) % 65_536) << 8 | (i % 250 + 1);
    SocketAddr::new(IpAddr::V4(Ipv4Addr::from(ip)), DEFAULT_PORT)
}

/// A CIDR block of host addresses with a port: `address_pool =
/// "10.1.2.0/24"`. Hosts are handed out in address order; an IPv4 block of
/// /30 or wider leaves out its network and broadcast addresses, an IPv6
/// block its first (subnet-router anycast) address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPool {
    /// The network address (host bits zero).
    pub network: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// Port of every address handed out.
    pub port: u16,
}

/// Why a pool block did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolError(pub String);

impl AddressPool {
    /// Parses `ADDR/PREFIX` (`10.1.2.0/24`, `2001:db8:5::/112`) with `port`
    /// for the addresses it hands out.
    pub fn parse(s: &str, port: u16) -> Result<AddressPool, PoolError> {
        let Some((a, p)) = s.trim().split_once('/') else {
            return Err(PoolError(format!(
                "expected a block `address/prefix` such as `10.1.2.0/24`, found `{s}`"
            )));
        };
        let network: IpAddr = a.parse().map_err(|_| {
            PoolError(format!(
                "expected an IPv4 or IPv6 network address before `/`, found `{a}`"
            ))
        })?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix: u8 = p
            .parse()
            .ok()
            .filter(|&n: &u8| u32::from(n) <= bits)
            .ok_or_else(|| {
                PoolError(format!(
                    "expected a prefix length from 0 to {bits} after `/`, found `{p}`"
                ))
            })?;
        let host_bits = bits - u32::from(prefix);
        let value = ip_value(network);
        let mask = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        if value & mask != 0 {
            let net = from_value(network, value & !mask);
            return Err(PoolError(format!(
                "expected a network address (host bits zero), found `{s}`; did you mean \
                 `{net}/{prefix}`?"
            )));
        }
        Ok(AddressPool {
            network,
            prefix,
            port,
        })
    }

    fn host_bits(&self) -> u32 {
        let bits = if self.network.is_ipv4() { 32 } else { 128 };
        bits - u32::from(self.prefix)
    }

    /// Addresses skipped at the block's start (network / anycast address).
    fn skip_first(&self) -> u128 {
        let hb = self.host_bits();
        u128::from(if self.network.is_ipv4() {
            hb >= 2
        } else {
            hb >= 1
        })
    }

    /// How many addresses the block hands out (capped at `u64::MAX`).
    pub fn hosts(&self) -> u64 {
        let hb = self.host_bits();
        if hb >= 64 {
            return u64::MAX;
        }
        let all = 1u64 << hb;
        let broadcast = u64::from(self.network.is_ipv4() && hb >= 2);
        all - self.skip_first() as u64 - broadcast
    }

    /// Host number `i` (0-based) of the block. Past [`hosts`](Self::hosts)
    /// it counts on past the block's end (wrapping at the end of the
    /// address space).
    pub fn nth(&self, i: u64) -> SocketAddr {
        let v = ip_value(self.network)
            .wrapping_add(self.skip_first())
            .wrapping_add(u128::from(i));
        SocketAddr::new(from_value(self.network, v), self.port)
    }

    /// Whether `addr`'s address is in the block.
    pub fn contains(&self, addr: IpAddr) -> bool {
        if addr.is_ipv4() != self.network.is_ipv4() {
            return false;
        }
        let hb = self.host_bits();
        let shift = hb.min(127);
        let (a, n) = (ip_value(addr), ip_value(self.network));
        hb >= 128 || (a >> shift) == (n >> shift)
    }
}

impl fmt::Display for AddressPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl serde::Serialize for AddressPool {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{self}:{}", self.port))
    }
}

fn ip_value(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

/// The address of `like`'s family with value `v` (IPv4 wraps at 2³²).
fn from_value(like: IpAddr, v: u128) -> IpAddr {
    match like {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(v as u32)),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv4_block_hands_out_its_hosts_in_order_without_network_and_broadcast() {
        let p = AddressPool::parse("10.1.2.0/24", 8080).unwrap();
        assert_eq!(p.hosts(), 254);
        assert_eq!(p.nth(0).to_string(), "10.1.2.1:8080");
        assert_eq!(p.nth(253).to_string(), "10.1.2.254:8080");
        // Past the end: counts on (the documented overflow rule).
        assert_eq!(p.nth(254).to_string(), "10.1.2.255:8080");
        assert!(p.contains("10.1.2.77".parse().unwrap()));
        assert!(!p.contains("10.1.3.1".parse().unwrap()));
        assert!(!p.contains("::1".parse().unwrap()));
        let one = AddressPool::parse("192.0.2.9/32", 80).unwrap();
        assert_eq!(
            (one.hosts(), one.nth(0).to_string()),
            (1, "192.0.2.9:80".into())
        );
        let two = AddressPool::parse("192.0.2.8/31", 80).unwrap();
        assert_eq!(two.hosts(), 2);
    }

    #[test]
    fn an_ipv6_block_skips_its_anycast_address() {
        let p = AddressPool::parse("2001:db8:5::/120", 443).unwrap();
        assert_eq!(p.hosts(), 255);
        assert_eq!(p.nth(0).to_string(), "[2001:db8:5::1]:443");
        let big = AddressPool::parse("2001:db8::/64", 443).unwrap();
        assert_eq!(big.hosts(), u64::MAX);
        assert!(big.contains("2001:db8::ffff".parse().unwrap()));
        assert!(!big.contains("2001:db9::1".parse().unwrap()));
    }

    #[test]
    fn bad_blocks_say_what_was_expected() {
        for (s, want) in [
            ("10.1.2.0", "address/prefix"),
            ("10.1.2.x/24", "network address before"),
            ("10.1.2.0/33", "from 0 to 32"),
            ("10.1.2.5/24", "did you mean `10.1.2.0/24`"),
        ] {
            let e = AddressPool::parse(s, 1).unwrap_err().0;
            assert!(e.contains(want), "{s}: {e}");
        }
    }
}
