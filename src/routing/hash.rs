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

/// CRC-32 (IEEE, as nginx's `ngx_crc32_long` and `ngx_crc32_update`).
#[inline]
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// xxHash64 with a seed (Envoy's `HashUtil::xxHash64(key, seed)`, seed 0 by default).
#[inline]
pub fn xxh64(bytes: &[u8], seed: u64) -> u64 {
    xxhash_rust::xxh64::xxh64(bytes, seed)
}

/// A stack buffer holding the text form of an address (`192.0.2.7`,
/// `2001:db8::1`), which is what nginx `hash $remote_addr` and Envoy's
/// `source_ip` hash policy hash. Formatting needs no allocation.
#[derive(Clone, Copy)]
pub struct IpText {
    buf: [u8; 48],
    len: u8,
}

impl IpText {
    pub fn new(ip: IpAddr) -> Self {
        let mut t = IpText {
            buf: [0; 48],
            len: 0,
        };
        match ip {
            IpAddr::V4(v4) => {
                // Hand-rolled: the common case, and faster than `fmt`.
                let mut n = 0;
                for (i, o) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        t.buf[n] = b'.';
                        n += 1;
                    }
                    if o >= 100 {
                        t.buf[n] = b'0' + o / 100;
                        n += 1;
                    }
                    if o >= 10 {
                        t.buf[n] = b'0' + (o / 10) % 10;
                        n += 1;
                    }
                    t.buf[n] = b'0' + o % 10;
                    n += 1;
                }
                t.len = n as u8;
            }
            IpAddr::V6(v6) => {
                use std::io::Write;
                let mut cur = std::io::Cursor::new(&mut t.buf[..]);
                // 45 bytes is the longest IPv6 text form; the buffer holds 48.
                let _ = write!(cur, "{v6}");
                t.len = cur.position() as u8;
            }
        }
        t
    }

    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }
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
    fn ip_text_matches_display() {
        for ip in [
            "0.0.0.0",
            "192.0.2.7",
            "10.100.255.9",
            "2001:db8::1",
            "::1",
            "2a00:1450:4001:82b::200e",
        ] {
            let a: IpAddr = ip.parse().unwrap();
            assert_eq!(IpText::new(a).as_bytes(), a.to_string().as_bytes());
        }
    }

    #[test]
    fn crc32_and_xxh64_known_values() {
        // CRC-32/IEEE check value; xxHash64 of the empty string (seed 0).
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(xxh64(b"", 0), 0xef46_db37_51d8_e999);
    }

    #[test]
    fn keyed_depends_on_the_secret() {
        assert_ne!(keyed(1, 5), keyed(2, 5));
        assert_eq!(keyed(1, 5), keyed(1, 5));
    }
}
