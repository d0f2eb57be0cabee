//! Stateless source-address affinity (NLB `source_ip`, GCP `CLIENT_IP`,
//! Azure `SourceIP`): a hash of the address picks among the healthy
//! backends. The table is rebuilt over the healthy set whenever health
//! changes, so a flap can move keys. Clients behind one NAT address all land
//! together; a client whose address changes moves.

use super::hash::ip_hash64;
use super::{Decision, IpHash, OnUnavailable, Pool, Refusal, RouteRequest, RouteRng};

#[derive(Debug, Clone)]
pub struct SourceIp {
    hash: IpHash,
    on_unavailable: OnUnavailable,
}

impl SourceIp {
    pub fn new(hash: IpHash, on_unavailable: OnUnavailable) -> Self {
        SourceIp {
            hash,
            on_unavailable,
        }
    }

    pub fn route(&mut self, req: &RouteRequest, pool: &Pool, _rng: &mut RouteRng) -> Decision {
        let up = pool.up();
        if up.is_empty() {
            return Decision::Refuse(Refusal::NoBackend);
        }
        let h = match self.hash {
            IpHash::Modulo => ip_hash64(req.src),
        };
        let first = (h % up.len() as u64) as usize;
        // Candidates in order: the hashed backend, then its successors.
        let tries = match self.on_unavailable {
            OnUnavailable::Redispatch => up.len(),
            OnUnavailable::Reject => 1,
        };
        for k in 0..tries {
            let b = up[(first + k) % up.len()];
            if pool.get(b).has_room() {
                return Decision::Forward {
                    backend: b,
                    set_cookie: None,
                };
            }
        }
        match self.on_unavailable {
            OnUnavailable::Reject => Decision::Refuse(Refusal::PinnedUnavailable),
            // All full: send to the hashed one and let it reject.
            OnUnavailable::Redispatch => Decision::Forward {
                backend: up[first],
                set_cookie: None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{BackendId, Health};
    use std::net::{IpAddr, Ipv4Addr};

    fn route(r: &mut SourceIp, pool: &Pool, ip: u32) -> Option<BackendId> {
        let req = RouteRequest {
            now_ns: 0,
            src: IpAddr::V4(Ipv4Addr::from(ip)),
            cookie: None,
            header: None,
        };
        r.route(&req, pool, &mut RouteRng::new(0)).backend()
    }

    #[test]
    fn same_address_same_backend_and_spread_over_addresses() {
        let pool = Pool::with_default_addrs(4, None);
        let mut r = SourceIp::new(IpHash::Modulo, OnUnavailable::Redispatch);
        let mut counts = [0u32; 4];
        for ip in 0..40_000u32 {
            let b = route(&mut r, &pool, ip).unwrap();
            assert_eq!(route(&mut r, &pool, ip), Some(b));
            counts[b.index()] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn health_change_rehashes_over_the_healthy_set() {
        let mut pool = Pool::with_default_addrs(4, None);
        let mut r = SourceIp::new(IpHash::Modulo, OnUnavailable::Redispatch);
        let before: Vec<_> = (0..1000u32).map(|ip| route(&mut r, &pool, ip)).collect();
        pool.set_health(BackendId(3), Health::Down);
        let after: Vec<_> = (0..1000u32).map(|ip| route(&mut r, &pool, ip)).collect();
        assert!(after.iter().all(|b| *b != Some(BackendId(3))));
        // Modulo hashing moves most keys, not just the lost backend's quarter.
        let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count();
        assert!(moved > 500, "moved {moved}");
    }
}
