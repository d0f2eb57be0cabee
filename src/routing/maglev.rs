//! Maglev hashing as Envoy builds it (`maglev_lb.cc`,
//! `MaglevTable::constructMaglevTableInternal` and
//! `OriginalMaglevTable::constructImplementationInternals`), which follows
//! Eisenbud et al., NSDI 2016, §3.4 listing 1.
//!
//! Hosts are sorted by their key (`ip:port`); each gets
//! `offset = xxHash64(key, 0) % M` and `skip = xxHash64(key, 1) % (M−1) + 1`
//! and, in turn, claims the next free slot of its permutation
//! `(offset + skip·j) % M`. Weights make a host skip turns: it takes one when
//! `iteration × weight ≥ target`, then `target += max weight`. A key goes to
//! `table[hash % M]`; retry attempt `a > 0` first does `hash ^= !0 − a + 1`.

use super::hash::xxh64;
use std::net::SocketAddr;

/// A filled Maglev table of member indices.
#[derive(Debug, Clone, Default)]
pub struct Maglev {
    /// `table[slot]` = the member owning that slot, as its position in the
    /// slice given to [`Maglev::new`]; length M (prime), empty without members.
    pub table: Vec<u32>,
}

impl Maglev {
    /// Builds the table of size `m` (prime) over `members` (addresses and
    /// weights in pool order; the table stores positions in that slice).
    pub fn new(members: &[(SocketAddr, u32)], m: u64) -> Maglev {
        if members.is_empty() {
            return Maglev::default();
        }
        debug_assert!(super::is_prime(m), "maglev table size {m} is not prime");
        let total: f64 = members.iter().map(|&(_, w)| w as f64).sum();
        let max_w = members
            .iter()
            .map(|&(_, w)| w as f64 / total)
            .fold(0.0, f64::max);
        struct Entry {
            member: u32,
            offset: u64,
            skip: u64,
            weight: f64,
            target: f64,
            next: u64,
        }
        let mut keyed: Vec<(String, u32, f64)> = members
            .iter()
            .enumerate()
            .map(|(i, &(a, w))| (a.to_string(), i as u32, w as f64 / total))
            .collect();
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let mut entries: Vec<Entry> = keyed
            .iter()
            .map(|(k, i, w)| Entry {
                member: *i,
                offset: xxh64(k.as_bytes(), 0) % m,
                skip: xxh64(k.as_bytes(), 1) % (m - 1) + 1,
                weight: *w,
                target: 0.0,
                next: 0,
            })
            .collect();
        const EMPTY: u32 = u32::MAX;
        let mut table = vec![EMPTY; m as usize];
        let mut filled = 0u64;
        let mut iteration = 1u64;
        while filled < m {
            for e in entries.iter_mut() {
                if filled >= m {
                    break;
                }
                if (iteration as f64) * e.weight < e.target {
                    continue;
                }
                e.target += max_w;
                let mut c = (e.offset + e.skip * e.next) % m;
                while table[c as usize] != EMPTY {
                    e.next += 1;
                    c = (e.offset + e.skip * e.next) % m;
                }
                table[c as usize] = e.member;
                e.next += 1;
                filled += 1;
            }
            iteration += 1;
        }
        Maglev { table }
    }

    /// The member for a 64-bit key hash on retry attempt `attempt`.
    #[inline]
    pub fn lookup(&self, mut h: u64, attempt: u32) -> u32 {
        if attempt > 0 {
            h ^= (!0u64).wrapping_sub(attempt as u64).wrapping_add(1);
        }
        self.table[(h % self.table.len() as u64) as usize]
    }
}
