//! nginx `ip_hash` (`src/http/modules/ngx_http_upstream_ip_hash_module.c`,
//! `ngx_http_upstream_get_ip_hash_peer`).
//!
//! The key is the first three octets of an IPv4 address (a whole /24 lands
//! together) or all 16 of IPv6. Starting from `hash = 89`, every try folds
//! the key in again, `hash = (hash × 113 + byte) % 6271`, then walks the
//! peers' weights with `w = hash % total_weight`. A peer that is down or
//! full makes it try again (the hash keeps accumulating); after 20 tries
//! nginx falls back to round robin. Down peers stay in the walk, so a
//! failure moves only the keys that hashed to that peer.

/// Folds `key` into `hash` once (one try).
#[inline]
pub fn ip_hash_step(mut hash: u32, key: &[u8]) -> u32 {
    for &b in key {
        hash = (hash * 113 + b as u32) % 6271;
    }
    hash
}

/// nginx's initial value.
pub const IP_HASH_SEED: u32 = 89;
/// nginx gives up and uses round robin after this many tries.
pub const NGINX_MAX_TRIES: u32 = 20;

/// The peer for `hash` in a weighted walk over `weights` (total `total`).
#[inline]
pub fn weighted_walk(hash: u64, weights: &[u32], total: u64) -> usize {
    let mut w = hash % total;
    for (i, &pw) in weights.iter().enumerate() {
        if w < pw as u64 {
            return i;
        }
        w -= pw as u64;
    }
    weights.len() - 1
}

/// One try of nginx `hash $key` without `consistent`
/// (`ngx_http_upstream_get_hash_peer`, "compatible with Cache::Memcached"):
/// CRC32 of the try number in decimal (from the second try on) followed by
/// the key, `(crc >> 16) & 0x7fff`; the caller adds it to the running hash
/// and walks the weights with the sum.
#[inline]
pub fn hash_step(attempt: u32, key: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    if attempt > 0 {
        h.update(attempt.to_string().as_bytes());
    }
    h.update(key);
    (h.finalize() >> 16) & 0x7fff
}
