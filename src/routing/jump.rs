//! Jump consistent hash and rendezvous hashing.
//!
//! Jump (Lamping & Veach, "A Fast, Minimal Memory, Consistent Hash
//! Algorithm", arXiv:1406.2294, Figure 1): buckets are numbered `0..n`; only
//! the last bucket can be removed without remapping others, so when a
//! backend in the middle of the healthy list goes, keys of later backends
//! move too.
//!
//! Rendezvous / highest random weight (Thaler & Ravishankar 1998): every
//! backend scores the key, the highest wins; removing a backend moves only
//! its keys. Score = xorshift-multiply mix of `key_hash ^ node_hash` (as
//! dgryski/go-rendezvous), weighted as `−w / ln(u)` when weights differ
//! (Traefik `hrw`, Envoy). No product publishes cross-implementation
//! vectors for it.

use super::hash::mix64;

/// Lamping & Veach's jump hash: the bucket in `0..n` (n ≥ 1) for `key`.
#[inline]
pub fn jump(mut key: u64, n: u32) -> u32 {
    debug_assert!(n > 0);
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < n as i64 {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = (((b + 1) as f64) * ((1u64 << 31) as f64 / (((key >> 33) + 1) as f64))) as i64;
    }
    b as u32
}

/// The rendezvous score of a backend (`node` = hash of its address) for a key.
#[inline]
pub fn rendezvous_score(key: u64, node: u64) -> u64 {
    mix64(key ^ node)
}

/// Weighted score `−w / ln(u)`, `u` in (0, 1) from the 53 high bits.
#[inline]
pub fn rendezvous_weighted(score: u64, weight: u32) -> f64 {
    let u = ((score >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    -(weight as f64) / u.ln()
}
