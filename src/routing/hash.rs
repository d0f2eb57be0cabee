//! The routing core's own hash functions (no dependency on the engine's RNG).

use std::net::IpAddr;

/// SplitMix64's finaliser: a fast, well-mixed 64-bit → 64-bit bijection.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A 64-bit hash of an address: IPv4 and IPv6 are kept apart.
#[inline]
pub fn ip_hash64(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => mix64(u32::from(v4) as u64),
        IpAddr::V6(v6) => {
            let x = u128::from(v6);
            mix64((x as u64) ^ mix64((x >> 64) as u64 ^ 0x6a09_e667_f3bc_c909))
        }
    }
}

/// A keyed hash (`secret` is the load balancer's key): cookie values made
/// with it name a backend without revealing or letting clients guess which.
#[inline]
pub fn keyed(secret: u64, x: u64) -> u64 {
    mix64(mix64(secret ^ 0x9e37_79b9_7f4a_7c15) ^ x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix64_is_not_identity_and_spreads_small_inputs() {
        let hs: Vec<u64> = (0..1000u64).map(mix64).collect();
        let mut sorted = hs.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 1000);
        // Low bits of consecutive inputs are balanced.
        let odd = hs.iter().filter(|h| *h & 1 == 1).count();
        assert!((400..600).contains(&odd), "{odd}");
    }

    #[test]
    fn keyed_depends_on_the_secret() {
        assert_ne!(keyed(1, 5), keyed(2, 5));
        assert_eq!(keyed(1, 5), keyed(1, 5));
    }
}
