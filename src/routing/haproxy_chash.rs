//! HAProxy `hash-type consistent` (`src/lb_chash.c`) and the hash functions
//! `hash-type` names (`src/hash.c`, `gen_hash` in `src/backend.c`).
//!
//! Each usable server of the active set owns `weight × BE_WEIGHT_SCALE`
//! (16) points on a 32-bit tree; point `j` of the server with id `puid`
//! (its position in the backend, from 1, unless `id` sets it) is
//! `full_hash(puid × SRV_EWGHT_RANGE + j)` with `SRV_EWGHT_RANGE` = 256 ×
//! 16 (`chash_init_server_tree`, `hash-key id`, the default). A key's hash
//! lands between two points; `chash_get_server_hash` takes the **nearer**
//! of the two (the predecessor when the distances tie), not the successor as
//! ketama does. Further candidates walk the tree forward from there.
//!
//! The key's hash: `balance source` takes the address as an integer (see
//! [`super::haproxy::source_hash`]); `uri`, `url_param` and `hdr()` hash the
//! bytes with the backend's function (sdbm by default, or djb2, wt6,
//! crc32). `avalanche` passes either through `full_hash` afterwards.

use super::hash::crc32;

/// `SRV_EWGHT_RANGE`: user weight range (256) × `BE_WEIGHT_SCALE` (16).
pub const SRV_EWGHT_RANGE: u32 = 256 * 16;
/// Points per unit of weight (`BE_WEIGHT_SCALE`).
pub const POINTS_PER_WEIGHT: u32 = 16;

/// The function `hash-type <method> <function>` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum HaproxyFn {
    /// `sdbm`, HAProxy's default.
    #[default]
    Sdbm,
    /// `djb2`.
    Djb2,
    /// `wt6`.
    Wt6,
    /// `crc32` (IEEE, as zlib).
    Crc32,
}

impl HaproxyFn {
    /// Every function, in HAProxy's documentation order.
    pub const ALL: [HaproxyFn; 4] = [
        HaproxyFn::Sdbm,
        HaproxyFn::Djb2,
        HaproxyFn::Wt6,
        HaproxyFn::Crc32,
    ];

    /// The name HAProxy's `hash-type` and a scenario's `hash_function` use.
    pub fn name(self) -> &'static str {
        match self {
            HaproxyFn::Sdbm => "sdbm",
            HaproxyFn::Djb2 => "djb2",
            HaproxyFn::Wt6 => "wt6",
            HaproxyFn::Crc32 => "crc32",
        }
    }

    /// The function called `s`, if any.
    pub fn from_name(s: &str) -> Option<HaproxyFn> {
        HaproxyFn::ALL.into_iter().find(|f| f.name() == s)
    }

    /// The function applied to `bytes`.
    pub fn hash(self, bytes: &[u8]) -> u32 {
        match self {
            HaproxyFn::Sdbm => super::haproxy::sdbm(bytes),
            HaproxyFn::Djb2 => djb2(bytes),
            HaproxyFn::Wt6 => wt6(bytes),
            HaproxyFn::Crc32 => crc32(bytes),
        }
    }
}

/// HAProxy's `full_hash` (`include/haproxy/tools.h`): one of Bob Jenkins'
/// 32-bit integer hashes, then a multiplication by 3221225473 ("a large prime
/// close to 3/4 of the tree", to spread points around it). What `avalanche`
/// applies and what places consistent-hash points.
#[inline]
pub fn full_hash(mut a: u32) -> u32 {
    a = a.wrapping_add(0x7ed5_5d16).wrapping_add(a << 12);
    a = (a ^ 0xc761_c23c) ^ (a >> 19);
    a = a.wrapping_add(0x1656_67b1).wrapping_add(a << 5);
    a = a.wrapping_add(0xd3a2_646c) ^ (a << 9);
    a = a.wrapping_add(0xfd70_46c5).wrapping_add(a << 3);
    a = (a ^ 0xb55a_4f09) ^ (a >> 16);
    a.wrapping_mul(3_221_225_473)
}

/// `hash_djb2`.
pub fn djb2(bytes: &[u8]) -> u32 {
    bytes.iter().fold(5381u32, |h, &c| {
        (h << 5).wrapping_add(h).wrapping_add(c as u32)
    })
}

/// `hash_wt6`.
pub fn wt6(bytes: &[u8]) -> u32 {
    let (mut h0, mut h1) = (0xa53c_965au32, 0x5ca6_953au32);
    let (mut step0, mut step1) = (6u32, 18u32);
    for &c in bytes {
        let t = c as u32;
        h0 = !(h0 ^ t);
        h1 = !(h1.wrapping_add(t));
        let t = h1.rotate_left(step0);
        h1 = h0.rotate_left(step1);
        h0 = t;
        let t = ((h0 >> 16) ^ h1) & 0xffff;
        step0 = t & 0x1f;
        step1 = t >> 11;
    }
    h0 ^ h1
}

/// `gen_hash`: the backend's function, then `full_hash` under `avalanche`.
#[inline]
pub fn gen_hash(f: HaproxyFn, avalanche: bool, bytes: &[u8]) -> u32 {
    let h = f.hash(bytes);
    if avalanche {
        full_hash(h)
    } else {
        h
    }
}

/// A consistent-hash tree: sorted `(point, member position)` pairs.
#[derive(Debug, Clone, Default)]
pub struct Chash {
    points: Vec<(u32, u32)>,
}

impl Chash {
    /// Builds the tree for `members`: `(puid, user weight)` in backend order
    /// (the member position is the index in this slice). A weight of 0
    /// places no point, as in HAProxy.
    pub fn new(members: &[(u32, u32)]) -> Chash {
        let mut points = Vec::new();
        for (m, &(puid, w)) in members.iter().enumerate() {
            let base = puid.wrapping_mul(SRV_EWGHT_RANGE);
            for j in 0..w * POINTS_PER_WEIGHT {
                points.push((full_hash(base.wrapping_add(j)), m as u32));
            }
        }
        // Stable: equal keys keep insertion order, as the eb32 tree's
        // duplicates do.
        points.sort_by_key(|p| p.0);
        Chash { points }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the tree is empty.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// `chash_get_server_hash`'s node for `hash`: the nearer of the first
    /// point at or after it and the one before (wrapping), the predecessor
    /// on a tie. The tree must be non-empty.
    pub fn nearest(&self, hash: u32) -> usize {
        let n = self.points.len();
        debug_assert!(n > 0);
        let mut next = self.points.partition_point(|p| p.0 < hash);
        if next == n {
            next = 0;
        }
        let prev = if next == 0 { n - 1 } else { next - 1 };
        if self.points[next].1 == self.points[prev].1 {
            return next;
        }
        let dp = hash.wrapping_sub(self.points[prev].0);
        let dn = self.points[next].0.wrapping_sub(hash);
        if dp <= dn {
            prev
        } else {
            next
        }
    }

    /// Member position owning point `i` (mod the number of points).
    #[inline]
    pub fn member_at(&self, i: usize) -> u32 {
        self.points[i % self.points.len()].1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_functions_known_values() {
        // djb2 and sdbm of "a": 5381*33+97, 97.
        assert_eq!(djb2(b"a"), 177_670);
        assert_eq!(HaproxyFn::Sdbm.hash(b"a"), 97);
        assert_eq!(HaproxyFn::Crc32.hash(b"123456789"), 0xcbf4_3926);
        assert_eq!(djb2(b""), 5381);
        assert_eq!(wt6(b""), 0xa53c_965a ^ 0x5ca6_953a);
        assert_ne!(wt6(b"a"), wt6(b"b"));
    }

    /// Vectors captured from HAProxy 2.6.12 (Debian 12): three servers,
    /// `balance hdr(X-Key)` or `balance source`, `hash-type consistent`;
    /// the server chosen for each key, in order.
    #[test]
    fn golden_haproxy_consistent_real_binary() {
        use crate::routing::{
            BackendId, BackendView, HashAlgo, HashKey, HashTable, HashTuning, Health, OnDraining,
            Pool,
        };
        use std::net::{IpAddr, SocketAddr};
        let keys = [
            "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
            "juliet", "kilo", "lima",
        ];
        let ips = [
            "127.0.0.2",
            "127.1.2.3",
            "127.9.9.9",
            "127.200.1.77",
            "127.33.44.55",
            "127.250.0.1",
            "127.5.6.7",
            "127.100.100.100",
        ];
        // (function, avalanche, weights, disabled server, expected, by source)
        type Case = (HaproxyFn, bool, [u32; 3], Option<u32>, &'static str, bool);
        let cases: [Case; 5] = [
            (
                HaproxyFn::Sdbm,
                false,
                [1, 1, 1],
                None,
                "121112022201",
                false,
            ),
            (
                HaproxyFn::Djb2,
                true,
                [1, 3, 2],
                None,
                "200012111110",
                false,
            ),
            (
                HaproxyFn::Wt6,
                false,
                [2, 1, 1],
                Some(1),
                "202202002000",
                false,
            ),
            (
                HaproxyFn::Crc32,
                true,
                [1, 1, 1],
                None,
                "122222220020",
                false,
            ),
            (HaproxyFn::Sdbm, true, [1, 2, 1], None, "01011121", true),
        ];
        for (f, avalanche, weights, disabled, expected, by_source) in cases {
            let mut pool = Pool::new(
                weights
                    .iter()
                    .enumerate()
                    .map(|(i, &w)| BackendView {
                        addr: SocketAddr::from(([127, 0, 0, 1], 18181 + i as u16)),
                        weight: w,
                        health: Health::Up,
                        outstanding: 0,
                        capacity: None,
                    })
                    .collect(),
            );
            if let Some(d) = disabled {
                pool.set_health(BackendId(d), Health::Down);
            }
            let tuning = HashTuning {
                haproxy_fn: f,
                avalanche,
                ..HashTuning::default()
            };
            let mut t = HashTable::new(HashAlgo::HaproxyConsistent, tuning);
            t.build(&pool, OnDraining::Reroute, false);
            let got: String = if by_source {
                ips.iter()
                    .map(|ip| {
                        let ip: IpAddr = ip.parse().unwrap();
                        let b = t.lookup(HashKey::Ip(ip), &pool, OnDraining::Reroute);
                        char::from(b'0' + b.unwrap().0 as u8)
                    })
                    .collect()
            } else {
                keys.iter()
                    .map(|k| {
                        let b = t.lookup(HashKey::Bytes(k.as_bytes()), &pool, OnDraining::Reroute);
                        char::from(b'0' + b.unwrap().0 as u8)
                    })
                    .collect()
            };
            assert_eq!(
                got,
                expected,
                "{} avalanche={avalanche} weights={weights:?}",
                f.name()
            );
        }
    }

    #[test]
    fn full_hash_spreads_consecutive_integers() {
        let mut v: Vec<u32> = (0..4096).map(full_hash).collect();
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), 4096);
    }

    #[test]
    fn points_follow_weight_and_nearest_breaks_ties_to_the_predecessor() {
        let c = Chash::new(&[(1, 1), (2, 3), (3, 0)]);
        assert_eq!(c.len(), 16 * 4);
        let n1 = c.points.iter().filter(|p| p.1 == 1).count();
        assert_eq!(n1, 48);
        // Exactly between two points of different members: predecessor.
        for w in c.points.windows(2) {
            if w[0].1 != w[1].1 && (w[1].0 - w[0].0) % 2 == 0 {
                let mid = w[0].0 + (w[1].0 - w[0].0) / 2;
                assert_eq!(c.member_at(c.nearest(mid)), w[0].1);
                assert_eq!(c.member_at(c.nearest(mid + 1)), w[1].1);
                return;
            }
        }
        panic!("no even gap between members");
    }
}
