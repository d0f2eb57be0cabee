//! Where clients' requests come from: public source addresses behind direct
//! connections, corporate NAT and carrier-grade NAT, and how they change.

use crate::scenario::{ClientSegment, Network};
use crate::sim::mix64 as mix;
use crate::sim::SimRng;
use rand::Rng;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Assigns public addresses for one client segment. Addresses are a pure
/// function of `(world key, segment, user or pool slot)`, so every strategy
/// sees the same clients at the same addresses.
#[derive(Debug, Clone)]
pub struct Addresser {
    network: Network,
    ipv6: bool,
    users_per_ip: u32,
    /// Public addresses in the NAT / CGNAT pool.
    pool_size: u32,
    key: u64,
    /// First address of a CGNAT pool (carriers use contiguous blocks).
    cgnat_base_v4: u32,
    cgnat_base_v6: u128,
}

impl Addresser {
    /// The addresser for segment number `segment_index` (its position in
    /// the scenario's client segments) of the world keyed by `world_key`.
    pub fn new(world_key: u64, segment_index: usize, seg: &ClientSegment) -> Self {
        let key = mix(world_key ^ mix(segment_index as u64 + 1));
        let pool_size = seg.users.div_ceil(seg.users_per_ip.max(1));
        // A /16-aligned public block that does not start in 0.0.0.0/8 or 10/8.
        let hi = ((mix(key ^ 0xc6a) >> 48) as u32 % 200 + 11) << 24;
        let cgnat_base_v4 = hi | (((mix(key) >> 40) as u32 & 0xff) << 16);
        let cgnat_base_v6 = (0x2001_0db8u128 << 96) | ((mix(key ^ 6) as u128 & 0xffff_ffff) << 64);
        Addresser {
            network: seg.network,
            ipv6: seg.ipv6,
            users_per_ip: seg.users_per_ip.max(1),
            pool_size: pool_size.max(1),
            key,
            cgnat_base_v4,
            cgnat_base_v6,
        }
    }

    fn hashed(&self, salt: u64, x: u64) -> IpAddr {
        let h = mix(self.key ^ mix(salt ^ mix(x)));
        if self.ipv6 {
            let lo = mix(h ^ 0x5bd1_e995) as u128 & 0xffff_ffff_ffff;
            IpAddr::V6(Ipv6Addr::from(
                (0x2a00u128 << 112) | ((h as u128) << 48) | lo,
            ))
        } else {
            // Keep clear of 0/8 and 10/8 so client and backend ranges never meet.
            let first = (h >> 56) as u32 % 200 + 11;
            IpAddr::V4(Ipv4Addr::from((first << 24) | (h as u32 & 0x00ff_ffff)))
        }
    }

    fn pool_addr(&self, slot: u32) -> IpAddr {
        match self.network {
            Network::Cgnat => {
                if self.ipv6 {
                    IpAddr::V6(Ipv6Addr::from(self.cgnat_base_v6 + slot as u128))
                } else {
                    IpAddr::V4(Ipv4Addr::from(self.cgnat_base_v4.wrapping_add(slot)))
                }
            }
            _ => self.hashed(0x006e_6174, slot as u64),
        }
    }

    /// The address a user's session starts from.
    pub fn initial(&self, user: u32, rng: &mut SimRng) -> IpAddr {
        match self.network {
            Network::Direct => self.hashed(0, user as u64),
            Network::Nat => self.pool_addr(user / self.users_per_ip),
            Network::Cgnat => self.pool_addr(rng.gen_range(0..self.pool_size)),
        }
    }

    /// The address after the `change`-th (1-based) mid-session change.
    pub fn changed(&self, user: u32, change: u32, rng: &mut SimRng) -> IpAddr {
        match self.network {
            // A phone on its own public address gets a fresh one.
            Network::Direct => self.hashed(change as u64, user as u64),
            // NAT and CGNAT: another address of the same pool.
            Network::Nat | Network::Cgnat => self.pool_addr(rng.gen_range(0..self.pool_size)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn seg(network: Network, users: u32, users_per_ip: u32, ipv6: bool) -> ClientSegment {
        ClientSegment {
            name: "s".into(),
            share: 1.0,
            users,
            network,
            users_per_ip,
            ipv6,
            ip_change_rate: 0.0,
            cookie_block: 0.0,
            token_header: false,
            token_rotation_ns: 0,
            cookie_jar: Default::default(),
            retry: None,
        }
    }

    #[test]
    fn nat_users_share_addresses() {
        let a = Addresser::new(1, 0, &seg(Network::Nat, 1000, 250, false));
        let mut rng = SimRng::seed_from_u64(1);
        let mut addrs: Vec<IpAddr> = (0..1000).map(|u| a.initial(u, &mut rng)).collect();
        assert_eq!(a.initial(0, &mut rng), a.initial(249, &mut rng));
        addrs.sort();
        addrs.dedup();
        assert_eq!(addrs.len(), 4);
    }

    #[test]
    fn direct_users_have_distinct_addresses() {
        for v6 in [false, true] {
            let a = Addresser::new(1, 0, &seg(Network::Direct, 10_000, 1, v6));
            let mut rng = SimRng::seed_from_u64(1);
            let mut addrs: Vec<IpAddr> = (0..10_000).map(|u| a.initial(u, &mut rng)).collect();
            assert!(addrs.iter().all(|x| x.is_ipv6() == v6));
            addrs.sort();
            addrs.dedup();
            assert!(addrs.len() >= 9_990, "{}", addrs.len());
            assert_ne!(a.changed(5, 1, &mut rng), a.initial(5, &mut rng));
        }
    }

    #[test]
    fn cgnat_pool_is_contiguous() {
        let a = Addresser::new(3, 1, &seg(Network::Cgnat, 1000, 100, false));
        let mut rng = SimRng::seed_from_u64(1);
        let mut addrs: Vec<u32> = (0..2000)
            .map(|u| match a.initial(u % 1000, &mut rng) {
                IpAddr::V4(v) => u32::from(v),
                IpAddr::V6(_) => unreachable!(),
            })
            .collect();
        addrs.sort();
        addrs.dedup();
        assert_eq!(addrs.len(), 10);
        assert_eq!(addrs[9] - addrs[0], 9);
    }
}
