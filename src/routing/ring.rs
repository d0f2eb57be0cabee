//! Hash rings: nginx `hash … consistent` (ketama) and Envoy `RING_HASH`.
//!
//! Both place points for each backend on a ring and send a key to the first
//! point at or after its hash, wrapping at the end. They differ in what they
//! hash and how many points a backend gets — which decides whether a
//! membership change moves keys between the backends that stayed:
//!
//! * ketama (`ngx_http_upstream_hash_module.c`, `ngx_http_upstream_init_chash`):
//!   `160 × weight` points per backend; point `j` is the CRC32 of
//!   `host "\0" port` followed by point `j−1`'s value as 4 little-endian
//!   bytes (0 for the first). Points are sorted and duplicates dropped; a
//!   key's hash is the CRC32 of its bytes. A backend's points never depend
//!   on the others, so survivors keep their keys.
//! * Envoy (`ring_hash_lb.cc`, `RingHashLoadBalancer::Ring::Ring`): the
//!   ring has `ceil(min_ring_size / N)`-ish points per host (scaled so the
//!   lightest host gets a whole number), each the xxHash64 of
//!   `"ip:port_<i>"`; the key hash is a 64-bit xxHash64. Adding a host
//!   shrinks every host's share of points, so keys move between survivors.

use super::hash::xxh64;
use std::io::Write;
use std::net::SocketAddr;

/// `host "\0" port` as nginx splits the configured `server` string
/// `host:port` (IPv6 hosts keep their brackets).
fn nginx_host_port(addr: &SocketAddr) -> (String, String) {
    let s = addr.to_string();
    let i = s.rfind(':').expect("a socket address has a port");
    (s[..i].to_string(), s[i + 1..].to_string())
}

/// Ketama points for one backend: `npoints` CRC32 values chained as nginx does.
pub fn ketama_points(addr: &SocketAddr, weight: u32) -> impl Iterator<Item = u32> {
    let (host, port) = nginx_host_port(addr);
    let mut base = crc32fast::Hasher::new();
    base.update(host.as_bytes());
    base.update(b"\0");
    base.update(port.as_bytes());
    let mut prev = 0u32;
    (0..weight as u64 * 160).map(move |_| {
        let mut h = base.clone();
        h.update(&prev.to_le_bytes());
        prev = h.finalize();
        prev
    })
}

/// A sorted ring of `(point, member index)`, with a first-level index on
/// the points' top bits so a lookup searches only a handful of points.
#[derive(Debug, Clone, Default)]
pub struct Ring {
    /// `(hash point, member index)`, sorted by point (nginx keeps one point
    /// per value; Envoy keeps duplicates in build order).
    pub points: Vec<(u64, u32)>,
    /// Point values alone (what the search reads).
    hashes: Vec<u64>,
    /// `index[j]` = first point whose top `INDEX_BITS` bits are ≥ `j`.
    index: Vec<u32>,
    /// Width of the point values: 32 (ketama's CRC32) or 64.
    bits: u32,
}

const INDEX_BITS: u32 = 12;

impl Ring {
    /// nginx ketama over `members` (addresses and weights, in pool order).
    pub fn ketama(members: &[(SocketAddr, u32)]) -> Ring {
        let mut points: Vec<(u64, u32)> = Vec::new();
        for (m, (addr, w)) in members.iter().enumerate() {
            points.extend(ketama_points(addr, *w).map(|p| (p as u64, m as u32)));
        }
        // nginx qsorts by hash and keeps one point per hash value.
        points.sort_by_key(|&(h, _)| h);
        points.dedup_by_key(|p| p.0);
        Ring::indexed(points, 32)
    }

    fn indexed(points: Vec<(u64, u32)>, bits: u32) -> Ring {
        let hashes: Vec<u64> = points.iter().map(|p| p.0).collect();
        let shift = bits - INDEX_BITS;
        let index = (0..=(1u64 << INDEX_BITS))
            .map(|j| hashes.partition_point(|&h| (h >> shift) < j) as u32)
            .collect();
        Ring {
            points,
            hashes,
            index,
            bits,
        }
    }

    /// Envoy ring hash over `members` with `min_ring_size` / `max_ring_size`.
    pub fn envoy(members: &[(SocketAddr, u32)], min_ring: u64, max_ring: u64) -> Ring {
        if members.is_empty() {
            return Ring::default();
        }
        let total: f64 = members.iter().map(|&(_, w)| w as f64).sum();
        let min_w = members
            .iter()
            .map(|&(_, w)| w as f64 / total)
            .fold(f64::INFINITY, f64::min);
        let scale = ((min_w * min_ring as f64).ceil() / min_w).min(max_ring as f64);
        let mut points = Vec::with_capacity(scale.ceil() as usize);
        let mut current = 0.0f64;
        let mut target = 0.0f64;
        let mut key = Vec::with_capacity(64);
        for (m, &(addr, w)) in members.iter().enumerate() {
            target += scale * (w as f64 / total);
            let mut i = 0u64;
            while current < target {
                key.clear();
                let _ = write!(key, "{addr}_{i}");
                points.push((xxh64(&key, 0), m as u32));
                i += 1;
                current += 1.0;
            }
        }
        points.sort_by_key(|&(h, _)| h);
        Ring::indexed(points, 64)
    }

    /// Index of the first point at or after `h`, wrapping to 0.
    #[inline]
    pub fn first_at(&self, h: u64) -> usize {
        if self.bits == 32 && h > u32::MAX as u64 {
            return 0;
        }
        let j = (h >> (self.bits - INDEX_BITS)) as usize;
        let (lo, hi) = (self.index[j] as usize, self.index[j + 1] as usize);
        let i = lo + self.hashes[lo..hi].partition_point(|&p| p < h);
        if i == self.points.len() {
            0
        } else {
            i
        }
    }

    /// Member owning point `i` (mod the ring size).
    #[inline]
    pub fn member_at(&self, i: usize) -> u32 {
        self.points[i % self.points.len()].1
    }

    /// Whether the ring has no points (no members, or all of weight zero).
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}
