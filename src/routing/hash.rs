//! The routing core's own hash functions (no dependency on the engine's RNG).

use std::net::{IpAddr, Ipv4Addr};

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

/// The text of every octet value as nginx and Envoy see it inside an IPv4
/// address (`0` … `255`, no leading zeros), followed by the `.` that comes
/// after the first three octets: `(bytes little-endian, length)`.
const OCTET_DOT: [(u32, u32); 256] = {
    let mut t = [(0u32, 0u32); 256];
    let mut o = 0;
    while o < 256 {
        let (d, n) = if o >= 100 {
            (
                (b'0' as u32 + o as u32 / 100)
                    | (b'0' as u32 + (o as u32 / 10) % 10) << 8
                    | (b'0' as u32 + o as u32 % 10) << 16,
                3,
            )
        } else if o >= 10 {
            (
                (b'0' as u32 + o as u32 / 10) | (b'0' as u32 + o as u32 % 10) << 8,
                2,
            )
        } else {
            (b'0' as u32 + o as u32, 1)
        };
        t[o] = (d | (b'.' as u32) << (8 * n), n + 1);
        o += 1;
    }
    t
};

/// The text form of an IPv4 address (`192.0.2.7`, 7 to 15 bytes) packed
/// little-endian into a `u128`, with its length: no buffer, no branch on
/// the digits (a table per octet), so the per-request text hashes below
/// cost a few table reads and the hash itself.
#[inline]
pub fn ipv4_text(v4: Ipv4Addr) -> (u128, u32) {
    let o = v4.octets();
    let mut x = 0u128;
    let mut n = 0u32;
    for &b in &o[..3] {
        let (d, l) = OCTET_DOT[b as usize];
        x |= (d as u128) << (8 * n);
        n += l;
    }
    // The last octet has no dot: drop it from the length (the dot's byte
    // lands above the text and is masked off by the length).
    let (d, l) = OCTET_DOT[o[3] as usize];
    x |= (d as u128) << (8 * n);
    n += l - 1;
    x &= (1u128 << (8 * n)) - 1;
    (x, n)
}

const P1: u64 = 0x9E37_79B1_85EB_CA87;
const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const P3: u64 = 0x1656_67B1_9E37_79F9;
const P4: u64 = 0x85EB_CA77_C2B2_AE63;
const P5: u64 = 0x27D4_EB2F_1656_67C5;

/// xxHash64 (seed 0) of a message of `len` ≤ 15 bytes packed little-endian
/// in `x`: the short-input path of XXH64 (`XXH64_finalize`) with the
/// message in registers. Equal to [`xxh64`] on the same bytes.
#[inline]
fn xxh64_short(mut x: u128, len: u32) -> u64 {
    debug_assert!(len < 16);
    let mut h = P5.wrapping_add(len as u64);
    let mut r = len;
    if r >= 8 {
        let k = (x as u64).wrapping_mul(P2).rotate_left(31).wrapping_mul(P1);
        h = (h ^ k).rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
        x >>= 64;
        r -= 8;
    }
    let mut y = x as u64;
    if r >= 4 {
        h ^= (y as u32 as u64).wrapping_mul(P1);
        h = h.rotate_left(23).wrapping_mul(P2).wrapping_add(P3);
        y >>= 32;
        r -= 4;
    }
    while r > 0 {
        h ^= (y & 0xff).wrapping_mul(P5);
        h = h.rotate_left(11).wrapping_mul(P1);
        y >>= 8;
        r -= 1;
    }
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

/// Slice-by-16 tables of the reflected CRC-32/IEEE polynomial:
/// `CRC16[k][b]` is the register after byte `b` then `k` zero bytes,
/// starting from a zero register.
static CRC16: [[u32; 256]; 16] = {
    let mut t = [[0u32; 256]; 16];
    let mut b = 0;
    while b < 256 {
        let mut c = b as u32;
        let mut i = 0;
        while i < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
            i += 1;
        }
        t[0][b] = c;
        b += 1;
    }
    let mut k = 1;
    while k < 16 {
        let mut b = 0;
        while b < 256 {
            let p = t[k - 1][b];
            t[k][b] = (p >> 8) ^ t[0][(p & 0xff) as usize];
            b += 1;
        }
        k += 1;
    }
    t
};

/// `CRC_INIT[n]`: the register after `n` zero bytes from the initial `!0`.
const CRC_INIT: [u32; 17] = {
    let mut t = [0u32; 17];
    let mut reg = !0u32;
    let mut n = 0;
    while n < 17 {
        t[n] = reg;
        let mut i = 0;
        while i < 8 {
            reg = if reg & 1 != 0 {
                (reg >> 1) ^ 0xEDB8_8320
            } else {
                reg >> 1
            };
            i += 1;
        }
        n += 1;
    }
    t
};

/// CRC-32/IEEE of a message of `len` ≤ 15 bytes packed little-endian in
/// `x`. CRC is linear: the register after the message is the register
/// after `len` zero bytes from `!0` ([`CRC_INIT`]) xor the register after
/// the message from zero, and from a zero register leading zero bytes
/// change nothing — so the message is right-aligned in a 16-byte block and
/// folded with 16 independent table reads (slice-by-16), instead of a
/// byte-at-a-time chain. Equal to [`crc32`] on the same bytes.
#[inline]
fn crc32_short(x: u128, len: u32) -> u32 {
    debug_assert!(len < 16);
    // (Two shifts: `16 − len` bytes would overflow for `len` = 0.)
    let block = ((x << 8) << (8 * (15 - len))).to_le_bytes();
    let mut reg = CRC_INIT[len as usize];
    for (i, &b) in block.iter().enumerate() {
        reg ^= CRC16[15 - i][b as usize];
    }
    !reg
}

/// CRC-32 of an address's text form (nginx `hash $remote_addr consistent`).
#[inline]
pub fn ip_text_crc32(ip: IpAddr) -> u32 {
    match ip {
        IpAddr::V4(v4) => {
            let (x, n) = ipv4_text(v4);
            crc32_short(x, n)
        }
        IpAddr::V6(_) => crc32(IpText::new(ip).as_bytes()),
    }
}

/// xxHash64 (seed 0) of an address's text form (Envoy's `source_ip` hash
/// policy; our jump and rendezvous keys).
#[inline]
pub fn ip_text_xxh64(ip: IpAddr) -> u64 {
    match ip {
        IpAddr::V4(v4) => {
            let (x, n) = ipv4_text(v4);
            xxh64_short(x, n)
        }
        IpAddr::V6(_) => xxh64(IpText::new(ip).as_bytes(), 0),
    }
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
    /// The canonical text form of `ip` (dotted quad; RFC 5952 for IPv6).
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

    /// The text's bytes (ASCII, no terminator).
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

    /// The register-packed text hashes equal the byte-slice ones: every
    /// octet value in every position, plus a million pseudo-random addresses.
    #[test]
    fn ip_text_hashes_match_hashing_the_text() {
        let check = |a: IpAddr| {
            let text = a.to_string();
            assert_eq!(ip_text_crc32(a), crc32(text.as_bytes()), "{text}");
            assert_eq!(ip_text_xxh64(a), xxh64(text.as_bytes(), 0), "{text}");
            if let IpAddr::V4(v4) = a {
                let (x, n) = ipv4_text(v4);
                assert_eq!(&x.to_le_bytes()[..n as usize], text.as_bytes());
                assert_eq!(x >> (8 * n), 0);
            }
        };
        for o in 0..=255u8 {
            for pos in 0..4 {
                let mut b = [7u8, 0, 255, 99];
                b[pos] = o;
                check(IpAddr::from(b));
            }
        }
        for i in 0..1_000_000u64 {
            check(IpAddr::from(Ipv4Addr::from((mix64(i) >> 32) as u32)));
        }
        for ip in ["::", "::1", "2001:db8::1", "2a00:1450:4001:82b::200e"] {
            check(ip.parse().unwrap());
        }
    }

    /// The short-message routines against the crates for every length.
    #[test]
    fn short_crc32_and_xxh64_match_the_crates() {
        for len in 0..16u32 {
            for seed in 0..200u64 {
                let bytes: Vec<u8> = (0..len as u64)
                    .map(|j| mix64(seed * 31 + j) as u8)
                    .collect();
                let mut buf = [0u8; 16];
                buf[..len as usize].copy_from_slice(&bytes);
                let x = u128::from_le_bytes(buf);
                assert_eq!(crc32_short(x, len), crc32(&bytes), "{bytes:?}");
                assert_eq!(xxh64_short(x, len), xxh64(&bytes, 0), "{bytes:?}");
            }
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
