//! An affinity table with a sliding idle timeout and a size limit, as
//! HAProxy's stick tables (`expire`, `size`; the oldest entry goes when the
//! table is full) and Kubernetes' `ClientIP` affinity (`xt_recent --rcheck
//! --seconds T --reap` / `--set`) keep them.
//!
//! Entries live in a slab threaded on a doubly-linked list in order of last
//! use; as time only moves forward, that is also the order of expiry, so
//! expired entries are reaped from the cold end. Lookups never iterate the
//! map, so its order cannot leak into results. Memory grows with live
//! entries; once warm, a decision allocates nothing.

use super::BackendId;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Keys are already well-mixed hashes or addresses: fold and mix them.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    #[inline]
    fn finish(&self) -> u64 {
        super::hash::mix64(self.0)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.0 ^= (i as u64) ^ super::hash::mix64((i >> 64) as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.0 ^= i;
    }
}

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone)]
struct Node {
    key: u128,
    backend: BackendId,
    last_ns: u64,
    prev: u32,
    next: u32,
}

#[derive(Debug, Clone)]
pub struct AffinityTable {
    timeout_ns: u64,
    size: usize,
    map: HashMap<u128, u32, BuildHasherDefault<KeyHasher>>,
    nodes: Vec<Node>,
    free: Vec<u32>,
    /// Most recently used.
    head: u32,
    /// Least recently used.
    tail: u32,
}

impl AffinityTable {
    pub fn new(timeout_ns: u64, size: u32) -> Self {
        debug_assert!(size > 0);
        AffinityTable {
            timeout_ns,
            size: size as usize,
            map: HashMap::default(),
            nodes: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn unlink(&mut self, i: u32) {
        let (p, n) = (self.nodes[i as usize].prev, self.nodes[i as usize].next);
        if p == NIL {
            self.head = n;
        } else {
            self.nodes[p as usize].next = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            self.nodes[n as usize].prev = p;
        }
    }

    fn push_front(&mut self, i: u32) {
        self.nodes[i as usize].prev = NIL;
        self.nodes[i as usize].next = self.head;
        if self.head != NIL {
            self.nodes[self.head as usize].prev = i;
        }
        self.head = i;
        if self.tail == NIL {
            self.tail = i;
        }
    }

    fn remove_tail(&mut self) {
        let t = self.tail;
        self.unlink(t);
        self.map.remove(&self.nodes[t as usize].key);
        self.free.push(t);
    }

    /// Drops every entry idle for `timeout` or longer.
    #[inline]
    fn reap(&mut self, now_ns: u64) {
        while self.tail != NIL
            && now_ns.saturating_sub(self.nodes[self.tail as usize].last_ns) >= self.timeout_ns
        {
            self.remove_tail();
        }
    }

    /// The backend a live entry points at (without refreshing it).
    #[inline]
    pub fn get(&mut self, key: u128, now_ns: u64) -> Option<BackendId> {
        self.reap(now_ns);
        self.map.get(&key).map(|&i| self.nodes[i as usize].backend)
    }

    /// Creates or refreshes an entry: `key` now points at `backend`, last
    /// used `now_ns`. A full table first drops its least recently used entry.
    pub fn put(&mut self, key: u128, backend: BackendId, now_ns: u64) {
        self.reap(now_ns);
        if let Some(&i) = self.map.get(&key) {
            let n = &mut self.nodes[i as usize];
            n.backend = backend;
            n.last_ns = now_ns;
            self.unlink(i);
            self.push_front(i);
            return;
        }
        if self.map.len() >= self.size {
            self.remove_tail();
        }
        let node = Node {
            key,
            backend,
            last_ns: now_ns,
            prev: NIL,
            next: NIL,
        };
        let i = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        self.map.insert(key, i);
        self.push_front(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sliding_timeout_and_size_limit() {
        let mut t = AffinityTable::new(100, 2);
        t.put(1, BackendId(1), 0);
        t.put(2, BackendId(2), 10);
        assert_eq!(t.get(1, 99), Some(BackendId(1)));
        t.put(1, BackendId(1), 99); // refreshed: lives until 199
        assert_eq!(t.get(2, 110), None, "idle for 100 ns");
        assert_eq!(t.get(1, 198), Some(BackendId(1)));
        assert_eq!(t.get(1, 199), None);
        // Full table: the least recently used entry goes.
        t.put(3, BackendId(3), 200);
        t.put(4, BackendId(4), 201);
        t.put(3, BackendId(3), 202);
        t.put(5, BackendId(5), 203);
        assert_eq!(t.len(), 2);
        assert_eq!(t.get(4, 204), None);
        assert_eq!(t.get(3, 204), Some(BackendId(3)));
        assert_eq!(t.get(5, 204), Some(BackendId(5)));
    }
}
