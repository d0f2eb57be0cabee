//! HAProxy's map-based hashing (`src/lb_map.c`) and its bounded-load
//! admission test (`src/lb_chash.c`, `chash_server_is_eligible`).
//!
//! `balance source` (`src/backend.c`, `get_server_sh`) XORs the address's
//! 32-bit big-endian words into `h` (IPv4: the address itself) and takes
//! `map[h % total_weight]`. The map lists usable servers, each as many times
//! as its effective weight, interleaved by `recalc_server_map` (declaration
//! order breaks ties). `balance hdr()` hashes the value with sdbm first.

use std::net::IpAddr;

/// `balance source`'s hash of an address.
#[inline]
pub fn source_hash(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(v4) => u32::from(v4),
        IpAddr::V6(v6) => {
            let o = v6.octets();
            o.chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .fold(0, |a, b| a ^ b)
        }
    }
}

/// HAProxy's default `hash-type` function, sdbm (`src/hash.c`, `hash_sdbm`).
#[inline]
pub fn sdbm(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &c in bytes {
        h = (c as u32)
            .wrapping_add(h << 6)
            .wrapping_add(h << 16)
            .wrapping_sub(h);
    }
    h
}

/// `recalc_server_map`: the server map for effective weights `eweights`
/// (positions into the caller's member list).
pub fn server_map(eweights: &[u32]) -> Vec<u32> {
    let tot: i64 = eweights.iter().map(|&w| w as i64).sum();
    let mut map = Vec::with_capacity(tot as usize);
    if tot == 0 {
        return map;
    }
    let mut wscore = vec![0i64; eweights.len()];
    for _ in 0..tot {
        let mut best: Option<usize> = None;
        let mut max = 0i64;
        for (i, &w) in eweights.iter().enumerate() {
            if w == 0 {
                continue;
            }
            if tot == 1 {
                best = Some(i);
                break;
            }
            wscore[i] += w as i64;
            let v = (wscore[i] + tot) / tot;
            if best.is_none() || v > max {
                max = v;
                best = Some(i);
            }
        }
        let b = best.expect("some server has weight");
        map.push(b as u32);
        wscore[b] -= tot;
    }
    map
}

/// Effective weights as `init_server_map` computes them: user weights
/// divided by their greatest common divisor (rounded up).
pub fn map_eweights(weights: &[u32]) -> Vec<u32> {
    fn gcd(a: u32, b: u32) -> u32 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let g = weights.iter().fold(0, |g, &w| gcd(g, w)).max(1);
    weights.iter().map(|&w| w.div_ceil(g)).collect()
}

/// Effective weights of `weights` as `init_server_map` computes them when
/// the backend's servers (usable or not) have the weights `all`: each divided
/// by the gcd of `all`, rounded up.
pub fn map_eweights_over(weights: &[u32], all: &[u32]) -> Vec<u32> {
    fn gcd(a: u32, b: u32) -> u32 {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let g = all.iter().fold(0, |g, &w| gcd(g, w)).max(1);
    weights.iter().map(|&w| w.div_ceil(g)).collect()
}

/// HAProxy's `BE_WEIGHT_SCALE`: a consistent-hash server's effective weight
/// is its weight times this.
pub const BE_WEIGHT_SCALE: u64 = 16;

/// `chash_server_is_eligible`: whether a server with `served` outstanding
/// requests, effective weight `eweight` and `cumulative` effective weight of
/// the servers before it may take one more, when the backend serves
/// `total_served` over a total effective weight `tot_weight`.
#[inline]
pub fn bounded_eligible(
    served: u64,
    eweight: u64,
    cumulative: u64,
    total_served: u64,
    tot_weight: u64,
    factor: u32,
) -> bool {
    bounded_slots(eweight, cumulative, total_served, tot_weight, factor) > served
}

/// The slots a server gets (see [`bounded_eligible`]); never 0.
#[inline]
pub fn bounded_slots(
    eweight: u64,
    cumulative: u64,
    total_served: u64,
    tot_weight: u64,
    factor: u32,
) -> u64 {
    let tot_slots = ((total_served + 1) * factor as u64).div_ceil(100);
    let per_weight = tot_slots / tot_weight;
    let remainder = tot_slots % tot_weight;
    let mut slots = eweight * per_weight;
    slots +=
        ((cumulative + eweight) * remainder) / tot_weight - (cumulative * remainder) / tot_weight;
    slots.max(1)
}
