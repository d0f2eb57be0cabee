//! Stateless hashing strategies: `source_ip` and `header` over any of the
//! hashes in [`HashAlgo`], and `bounded_load`.
//!
//! The table is built from the pool and rebuilt only when the pool's
//! generation changes. Envoy-style hashes (ring, Maglev), HAProxy's map,
//! jump, rendezvous and modulo are rebuilt over the backends the strategy
//! may use (up, plus draining ones with `on_draining = honor`), so a health
//! flap can move keys. nginx's hashes (`nginx_ip_hash`, `ketama`) keep every
//! configured backend and re-hash past unusable ones, as nginx does.
//! A stateless hash cannot tell a returning client from a new one, so
//! `honor` keeps a draining backend in the table for everyone.

use super::haproxy::{self, BE_WEIGHT_SCALE};
use super::haproxy_chash::{full_hash, gen_hash, Chash};
use super::hash::{ip_hash64, ip_text_crc32, ip_text_xxh64, mix64, xxh64};
use super::jump::{jump, rendezvous_argmax, rendezvous_score, rendezvous_weighted};
use super::maglev::Maglev;
use super::nginx::{hash_step, ip_hash_step, weighted_walk, IP_HASH_SEED, NGINX_MAX_TRIES};
use super::ring::Ring;
use super::{
    BackendId, Balance, Balancer, Decision, HashAlgo, HashTuning, KeySource, OnDraining,
    OnUnavailable, Pool, Refusal, RouteRequest, RouteRng,
};
use std::net::{IpAddr, SocketAddr};

/// A key as the product hashes it.
#[derive(Debug, Clone, Copy)]
pub enum HashKey<'a> {
    /// A client address (hashed as its text, its octets or its integer value,
    /// depending on the hash).
    Ip(IpAddr),
    /// Opaque bytes (a header value).
    Bytes(&'a [u8]),
    /// A precomputed hash value fed straight to the table.
    Raw(u64),
}

/// A hash table built over the pool for one [`HashAlgo`].
#[derive(Debug, Clone)]
pub struct HashTable {
    algo: HashAlgo,
    tuning: HashTuning,
    /// Backends in the table, in pool order.
    members: Vec<BackendId>,
    weights: Vec<u32>,
    total_weight: u64,
    ring: Ring,
    maglev: Maglev,
    map: Vec<u32>,
    chash: Chash,
    nodes: Vec<u64>,
    equal_weights: bool,
    /// Effective weight before each member (bounded loads).
    cumulative: Vec<u64>,
    built_for: Option<u64>,
    /// The membership the table was built for: member, address, weight.
    sig: Vec<(BackendId, SocketAddr, u32)>,
}

impl HashTable {
    /// An empty table for `algo`; it is built on first use, and rebuilt when
    /// the pool's membership changes.
    pub fn new(algo: HashAlgo, tuning: HashTuning) -> Self {
        HashTable {
            algo,
            tuning,
            members: Vec::new(),
            weights: Vec::new(),
            total_weight: 0,
            ring: Ring::default(),
            maglev: Maglev::default(),
            map: Vec::new(),
            chash: Chash::default(),
            nodes: Vec::new(),
            equal_weights: true,
            cumulative: Vec::new(),
            built_for: None,
            sig: Vec::new(),
        }
    }

    /// The membership a build over `pool` would have: member, address, weight.
    fn signature(
        pool: &Pool,
        on_draining: OnDraining,
        keep_all: bool,
    ) -> impl Iterator<Item = (BackendId, SocketAddr, u32)> + '_ {
        pool.backends()
            .iter()
            .enumerate()
            .filter(move |(_, b)| keep_all || b.eligible(on_draining))
            .map(|(i, b)| (BackendId(i as u32), b.addr, b.weight.max(1)))
    }

    /// Whether the table was built for the membership `pool` has now.
    fn built_for_membership(&self, pool: &Pool, on_draining: OnDraining, keep_all: bool) -> bool {
        Self::signature(pool, on_draining, keep_all).eq(self.sig.iter().copied())
    }

    /// The backends the table was last built over, in pool order (the
    /// indices the ring, Maglev table and map store point into this).
    pub fn members(&self) -> &[BackendId] {
        &self.members
    }

    /// The Maglev table (member positions per slot); empty for other hashes.
    pub fn maglev_table(&self) -> &[u32] {
        &self.maglev.table
    }

    /// Rebuilds if the pool changed since the last build.
    #[inline]
    pub fn ensure(&mut self, pool: &Pool, on_draining: OnDraining, keep_all: bool) {
        if self.built_for == Some(pool.generation()) {
            return;
        }
        if self.built_for.is_none() {
            return self.build(pool, on_draining, keep_all);
        }
        if self.built_for_membership(pool, on_draining, keep_all) {
            // A change that leaves the membership as it was (a draining
            // backend under `reroute`, a down one for nginx's full table).
            self.built_for = Some(pool.generation());
            return;
        }
        self.build(pool, on_draining, keep_all);
    }

    /// Builds over every backend (`keep_all`, nginx) or the eligible ones.
    pub fn build(&mut self, pool: &Pool, on_draining: OnDraining, keep_all: bool) {
        self.sig.clear();
        self.sig
            .extend(Self::signature(pool, on_draining, keep_all));
        self.members.clear();
        self.members.extend(self.sig.iter().map(|m| m.0));
        let addrs: Vec<(SocketAddr, u32)> = self.sig.iter().map(|&(_, a, w)| (a, w)).collect();
        self.weights = addrs.iter().map(|a| a.1).collect();
        self.total_weight = self.weights.iter().map(|&w| w as u64).sum();
        self.equal_weights = self.weights.windows(2).all(|w| w[0] == w[1]);
        let mut cum = 0u64;
        self.cumulative = self
            .weights
            .iter()
            .map(|&w| {
                let c = cum;
                cum += w as u64 * BE_WEIGHT_SCALE;
                c
            })
            .collect();
        self.ring = Ring::default();
        self.maglev = Maglev::default();
        self.map.clear();
        self.chash = Chash::default();
        self.nodes.clear();
        match self.algo {
            HashAlgo::Ketama => self.ring = Ring::ketama(&addrs),
            HashAlgo::EnvoyRing => {
                self.ring =
                    Ring::envoy(&addrs, self.tuning.min_ring_size, self.tuning.max_ring_size)
            }
            HashAlgo::Maglev => self.maglev = Maglev::new(&addrs, self.tuning.table_size),
            HashAlgo::HaproxySource => {
                // `init_server_map` divides by the gcd of every configured
                // server's weight, usable or not.
                let all: Vec<u32> = pool.backends().iter().map(|b| b.weight.max(1)).collect();
                self.map = haproxy::server_map(&haproxy::map_eweights_over(&self.weights, &all))
            }
            HashAlgo::HaproxyConsistent => {
                // A server's id (`puid`) is its position in the backend, from 1.
                let m: Vec<(u32, u32)> = self.sig.iter().map(|&(id, _, w)| (id.0 + 1, w)).collect();
                self.chash = Chash::new(&m)
            }
            HashAlgo::Rendezvous => {
                self.nodes = addrs
                    .iter()
                    .map(|(a, _)| xxh64(a.to_string().as_bytes(), 0))
                    .collect()
            }
            HashAlgo::Modulo | HashAlgo::NginxIpHash | HashAlgo::NginxHash | HashAlgo::Jump => {}
        }
        self.built_for = Some(pool.generation());
    }

    /// The 64-bit hash of a key for the 64-bit hashes.
    #[inline]
    fn hash64(&self, key: HashKey) -> u64 {
        match key {
            HashKey::Raw(h) => h,
            HashKey::Bytes(b) => xxh64(b, 0),
            HashKey::Ip(ip) => match self.algo {
                HashAlgo::Modulo => ip_hash64(ip),
                _ => ip_text_xxh64(ip),
            },
        }
    }

    /// The per-key state a probe sequence starts from.
    #[inline]
    pub fn start(&self, key: HashKey) -> u64 {
        match self.algo {
            HashAlgo::NginxIpHash => IP_HASH_SEED as u64,
            HashAlgo::Ketama => {
                let h = match key {
                    HashKey::Raw(h) => h as u32,
                    HashKey::Bytes(b) => super::hash::crc32(b),
                    HashKey::Ip(ip) => ip_text_crc32(ip),
                };
                self.ring.first_at(h as u64) as u64
            }
            HashAlgo::EnvoyRing => self.ring.first_at(self.hash64(key)) as u64,
            HashAlgo::HaproxySource => {
                if self.members.len() == 1 {
                    return 0; // HAProxy does not hash for a single server.
                }
                self.haproxy_hash(key) as u64
            }
            HashAlgo::HaproxyConsistent => {
                if self.members.len() == 1 {
                    return 0;
                }
                self.chash.nearest(self.haproxy_hash(key)) as u64
            }
            HashAlgo::NginxHash => 0,
            _ => self.hash64(key),
        }
    }

    /// HAProxy's hash of a key: the address as an integer (`balance
    /// source`) or the bytes through the backend's function, then
    /// `full_hash` under `avalanche` (`gen_hash`, `get_server_sh`).
    #[inline]
    fn haproxy_hash(&self, key: HashKey) -> u32 {
        match key {
            HashKey::Raw(h) => h as u32,
            HashKey::Bytes(b) => gen_hash(self.tuning.haproxy_fn, self.tuning.avalanche, b),
            HashKey::Ip(ip) => {
                let h = haproxy::source_hash(ip);
                if self.tuning.avalanche {
                    full_hash(h)
                } else {
                    h
                }
            }
        }
    }

    /// The member position of the `attempt`-th candidate (0 = first choice).
    /// `state` comes from [`start`](Self::start) and is updated (nginx's
    /// hash keeps accumulating across tries). The table must be non-empty.
    #[inline]
    pub fn probe(&self, key: HashKey, attempt: u32, state: &mut u64) -> usize {
        let n = self.members.len();
        debug_assert!(n > 0);
        match self.algo {
            HashAlgo::Modulo => ((*state).wrapping_add(attempt as u64) % n as u64) as usize,
            HashAlgo::NginxIpHash => {
                let mut buf = [0u8; 16];
                let bytes: &[u8] = match key {
                    HashKey::Ip(IpAddr::V4(v4)) => {
                        buf[..3].copy_from_slice(&v4.octets()[..3]);
                        &buf[..3]
                    }
                    HashKey::Ip(IpAddr::V6(v6)) => {
                        buf = v6.octets();
                        &buf[..]
                    }
                    HashKey::Bytes(b) => b,
                    HashKey::Raw(h) => {
                        buf[..8].copy_from_slice(&h.to_be_bytes());
                        &buf[..8]
                    }
                };
                let h = ip_hash_step(*state as u32, bytes);
                *state = h as u64;
                if self.equal_weights {
                    // The walk lands on `w / weight` when every weight is equal.
                    ((h as u64 % self.total_weight) / self.weights[0] as u64) as usize
                } else {
                    weighted_walk(h as u64, &self.weights, self.total_weight)
                }
            }
            HashAlgo::HaproxySource => {
                let tot = self.map.len() as u64;
                self.map[((*state + attempt as u64) % tot) as usize] as usize
            }
            HashAlgo::Ketama | HashAlgo::EnvoyRing => {
                self.ring.member_at(*state as usize + attempt as usize) as usize
            }
            HashAlgo::HaproxyConsistent => {
                self.chash.member_at(*state as usize + attempt as usize) as usize
            }
            HashAlgo::NginxHash => {
                let h = match key {
                    HashKey::Ip(ip) => hash_step(attempt, super::hash::IpText::new(ip).as_bytes()),
                    HashKey::Bytes(b) => hash_step(attempt, b),
                    HashKey::Raw(h) => hash_step(attempt, &h.to_le_bytes()),
                };
                *state += h as u64;
                weighted_walk(*state, &self.weights, self.total_weight)
            }
            HashAlgo::Maglev => self.maglev.lookup(*state, attempt) as usize,
            HashAlgo::Jump => {
                let k = if attempt == 0 {
                    *state
                } else {
                    mix64(*state ^ attempt as u64)
                };
                jump(k, n as u32) as usize
            }
            HashAlgo::Rendezvous => {
                let k = if attempt == 0 {
                    *state
                } else {
                    mix64(*state ^ attempt as u64)
                };
                if self.equal_weights {
                    rendezvous_argmax(k, &self.nodes)
                } else {
                    let mut best = 0;
                    let mut best_s = f64::NEG_INFINITY;
                    for (i, &node) in self.nodes.iter().enumerate() {
                        let s = rendezvous_weighted(rendezvous_score(k, node), self.weights[i]);
                        if s > best_s {
                            best = i;
                            best_s = s;
                        }
                    }
                    best
                }
            }
        }
    }

    /// The first-choice backend for a key, or `None` if the table is empty
    /// (what `stickysim route` prints; skips unusable backends as the product does).
    pub fn lookup(&self, key: HashKey, pool: &Pool, on_draining: OnDraining) -> Option<BackendId> {
        if self.members.is_empty() {
            return None;
        }
        let mut st = self.start(key);
        for attempt in 0..NGINX_MAX_TRIES.max(self.members.len() as u32) {
            let b = self.members[self.probe(key, attempt, &mut st)];
            if pool.get(b).eligible(on_draining) {
                return Some(b);
            }
            if attempt + 1 >= NGINX_MAX_TRIES && self.algo.skips_unusable() {
                break;
            }
        }
        None
    }
}

/// `source_ip` and `header`: a stateless hash of the key.
#[derive(Debug, Clone)]
pub struct Hashed {
    key: KeySource,
    table: HashTable,
    balancer: Balancer,
    on_unavailable: OnUnavailable,
    on_draining: OnDraining,
}

impl Hashed {
    /// Hashes `key` with `hash` over the eligible backends (draining ones
    /// per `on_draining`). A full backend makes it refuse (`Reject`) or probe
    /// on (`Redispatch`); requests without the key, and those no probe finds
    /// an eligible backend for, go to `balance`.
    pub fn new(
        key: KeySource,
        hash: HashAlgo,
        tuning: HashTuning,
        balance: Balance,
        on_unavailable: OnUnavailable,
        on_draining: OnDraining,
    ) -> Self {
        Hashed {
            key,
            table: HashTable::new(hash, tuning),
            balancer: Balancer::new(balance),
            on_unavailable,
            on_draining,
        }
    }

    /// Which part of the request is hashed.
    pub fn key(&self) -> KeySource {
        self.key
    }

    /// Chooses a backend for `req` over `pool` (rebuilding the table first
    /// if the membership changed).
    pub fn route(&mut self, req: &RouteRequest, pool: &Pool, rng: &mut RouteRng) -> Decision {
        let keep_all = self.table.algo.skips_unusable();
        self.table.ensure(pool, self.on_draining, keep_all);
        let mut buf = [0; 8];
        let Some(key) = request_key(self.key, req, &mut buf) else {
            return self.balancer.route(pool, rng, req.exclude);
        };
        if self.table.members.is_empty() {
            return Decision::Refuse(Refusal::NoBackend);
        }
        // A retry re-selects past the backend it failed on, over the same
        // table: the next hash try (nginx, where it uses up a try as a tried
        // peer does), the next attempt (Envoy's `previous_hosts` predicate),
        // the next tree node (HAProxy consistent); HAProxy's map hashes to
        // it again. The pool is not touched, so no table is rebuilt.
        let exclude = req.exclude.filter(|_| self.table.algo.avoids_on_retry());
        let n = self.table.members.len() as u32;
        let tries = if keep_all {
            NGINX_MAX_TRIES
        } else {
            n.clamp(1, NGINX_MAX_TRIES)
        };
        // Outside nginx, landing on the avoided backend costs no try (HAProxy
        // walks the tree until it is past it); the cap only bounds the walk.
        let max_attempts = if keep_all { tries } else { tries + SKIP_CAP };
        let mut st = self.table.start(key);
        let mut first: Option<BackendId> = None;
        let mut tried = 0;
        for attempt in 0..max_attempts {
            if tried == tries {
                break;
            }
            let b = self.table.members[self.table.probe(key, attempt, &mut st)];
            if Some(b) == exclude && !keep_all {
                continue;
            }
            tried += 1;
            let v = pool.get(b);
            if !v.eligible(self.on_draining) || Some(b) == exclude {
                continue;
            }
            if v.has_room() {
                return forward(b);
            }
            if self.on_unavailable == OnUnavailable::Reject {
                return Decision::Refuse(Refusal::PinnedUnavailable);
            }
            first.get_or_insert(b);
        }
        match first {
            // Everything tried is full: the hashed backend will turn it away.
            Some(b) => forward(b),
            // nginx after 20 tries: round robin.
            None => self.balancer.route(pool, rng, req.exclude),
        }
    }
}

/// How many candidates landing on the backend a retry avoids a hash may
/// step past beyond its usual tries (a server owns several neighbouring
/// ring points).
const SKIP_CAP: u32 = 64;

/// The key `source` names in `req`, or `None` when the request has none.
/// A header or cookie identifier is hashed as its bytes, kept in `buf`.
#[inline]
fn request_key<'a>(
    source: KeySource,
    req: &RouteRequest,
    buf: &'a mut [u8; 8],
) -> Option<HashKey<'a>> {
    let id = match source {
        KeySource::SourceIp => return Some(HashKey::Ip(req.src)),
        KeySource::Header => req.header?,
        KeySource::Cookie => req.app_id?,
    };
    *buf = id.to_le_bytes();
    Some(HashKey::Bytes(buf))
}

#[inline]
fn forward(backend: BackendId) -> Decision {
    Decision::Forward {
        backend,
        set_cookie: None,
    }
}

/// Consistent hashing with bounded loads as HAProxy implements it
/// (`hash-type consistent` + `hash-balance-factor`, `src/lb_chash.c`): walk
/// the ring from the key's point to the first server that is usable and
/// passes `chash_server_is_eligible` (`served < slots`, slots shared from
/// `ceil((total served + 1) × factor / 100)` in proportion to weight). The
/// ring is our ketama or Envoy ring, not HAProxy's eb32 tree of
/// `full_hash`ed node keys, and its lookup takes the successor point, not
/// the nearer of the two neighbours.
#[derive(Debug, Clone)]
pub struct BoundedLoad {
    key: KeySource,
    factor: u32,
    table: HashTable,
    balancer: Balancer,
    on_draining: OnDraining,
}

impl BoundedLoad {
    /// Bounded loads over a `hash` ring (ketama or Envoy's only) with
    /// `factor` as HAProxy's `hash-balance-factor` in percent (e.g. 125 lets
    /// a server take 25 % above its fair share); keyless requests go to
    /// `balance`.
    pub fn new(
        key: KeySource,
        hash: HashAlgo,
        factor: u32,
        tuning: HashTuning,
        balance: Balance,
        on_draining: OnDraining,
    ) -> Self {
        debug_assert!(matches!(hash, HashAlgo::Ketama | HashAlgo::EnvoyRing));
        BoundedLoad {
            key,
            factor,
            table: HashTable::new(hash, tuning),
            balancer: Balancer::new(balance),
            on_draining,
        }
    }

    /// Which part of the request is hashed.
    pub fn key(&self) -> KeySource {
        self.key
    }

    /// Chooses a backend for `req`: the first on the ring from the key's
    /// point that is usable and under its bounded share of the load.
    pub fn route(&mut self, req: &RouteRequest, pool: &Pool, rng: &mut RouteRng) -> Decision {
        self.table.ensure(pool, self.on_draining, false);
        let mut buf = [0; 8];
        let Some(key) = request_key(self.key, req, &mut buf) else {
            return self.balancer.route(pool, rng, req.exclude);
        };
        let t = &self.table;
        if t.members.is_empty() {
            return Decision::Refuse(Refusal::NoBackend);
        }
        let tot_weight = t.total_weight * BE_WEIGHT_SCALE;
        // HAProxy counts the backend's `served` over all its servers.
        let total_served = pool.total_outstanding();
        let start = t.start(key) as usize;
        let points = t.ring.points.len();
        let mut first = None;
        for k in 0..points {
            let m = t.ring.member_at(start + k) as usize;
            let b = t.members[m];
            if Some(b) == req.exclude {
                // `chash_get_server_hash` walks on past the server to avoid.
                continue;
            }
            let v = pool.get(b);
            first.get_or_insert(b);
            if v.has_room()
                && haproxy::bounded_eligible(
                    v.outstanding as u64,
                    t.weights[m] as u64 * BE_WEIGHT_SCALE,
                    t.cumulative[m],
                    total_served,
                    tot_weight,
                    self.factor,
                )
            {
                return forward(b);
            }
        }
        // Every server is full: the first choice turns it away.
        match first {
            Some(b) => forward(b),
            // The ring holds only the server a retry avoids.
            None => Decision::Refuse(Refusal::NoBackend),
        }
    }
}
