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

/// The position of the highest-scoring node for `key` (the first one on a
/// tie), over a non-empty slice. O(N) by nature — every backend scores
/// every key — so the loop is kept to one [`mix64`] per node (the node
/// hashes are precomputed when the table is built) and no branch on the
/// scores: score and position are packed into one `u128` (position
/// complemented so the first wins a tie) and folded with `max`, which
/// compiles to compare-and-move instead of a mispredicted jump each time
/// the running best changes.
#[inline]
pub fn rendezvous_argmax(key: u64, nodes: &[u64]) -> usize {
    rendezvous_argmax_scalar(key, nodes)
}

/// Branch-free scan: score and index packed in one `u128` (the index
/// inverted so the first of equal scores wins).
#[inline]
fn rendezvous_argmax_scalar(key: u64, nodes: &[u64]) -> usize {
    debug_assert!(!nodes.is_empty());
    let mut best = 0u128;
    for (i, &node) in nodes.iter().enumerate() {
        let packed = (rendezvous_score(key, node) as u128) << 64 | !(i as u64) as u128;
        best = best.max(packed);
    }
    !(best as u64) as usize
}

/// Weighted score `−w / ln(u)`, `u` in (0, 1) from the 53 high bits.
#[inline]
pub fn rendezvous_weighted(score: u64, weight: u32) -> f64 {
    let u = ((score >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    -(weight as f64) / u.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The branch-free argmax picks what the plain scan picks (first on a tie).
    #[test]
    fn rendezvous_argmax_matches_a_plain_scan() {
        for n in (1..40u64).chain([127, 128, 129, 300]) {
            let nodes: Vec<u64> = (0..n).map(|i| mix64(i ^ 0x5555)).collect();
            for key in 0..500u64 {
                let k = mix64(key);
                let mut best = 0;
                let mut best_s = 0u64;
                for (i, &node) in nodes.iter().enumerate() {
                    let s = rendezvous_score(k, node);
                    if i == 0 || s > best_s {
                        best = i;
                        best_s = s;
                    }
                }
                assert_eq!(rendezvous_argmax(k, &nodes), best);
                assert_eq!(rendezvous_argmax_scalar(k, &nodes), best);
            }
        }
        // Equal scores: the first node wins.
        assert_eq!(rendezvous_argmax(3, &[9, 9, 9]), 0);
        assert_eq!(rendezvous_argmax_scalar(3, &[9, 9, 9]), 0);
        assert_eq!(rendezvous_argmax(3, &[9; 300]), 0);
    }
}
