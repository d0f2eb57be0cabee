//! Validated strategy configurations: what `[[strategies]]` entries become
//! once the scenario has checked them. Building a [`Router`](super::Router)
//! from a spec is the only way strategies come to life.

use super::StrategyKind;

/// How a sticky strategy reacts when the backend it is pinned to is down
/// (as the load balancer sees it) or at capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum OnUnavailable {
    /// Pick another backend with the strategy's balancer and re-pin
    /// (ALB, HAProxy `option redispatch`, nginx sticky fallback).
    Redispatch,
    /// Refuse the request rather than move the session (HAProxy
    /// `option persist` without redispatch; Envoy stateful session strict mode).
    Reject,
}

/// The balancer a sticky strategy uses for requests that carry no usable
/// affinity (first request, expired cookie, redispatch), and the
/// non-sticky baselines themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Balance {
    /// Smooth weighted round robin (nginx `ngx_http_upstream_get_peer`).
    RoundRobin,
    /// Uniformly random among available backends.
    Random,
    /// Fewest outstanding requests, ties broken round robin (HAProxy `leastconn`).
    LeastConn,
    /// Power of two choices on outstanding requests (Envoy `LEAST_REQUEST`,
    /// `choice_count` 2).
    P2c,
}

/// When an LB-inserted cookie stops pinning a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TtlMode {
    /// Expiry reset on every request: AWS ALB, nginx `sticky cookie expires=`.
    Sliding,
    /// Expiry fixed at first assignment: HAProxy `maxlife`, Envoy stateful session.
    Absolute,
    /// Browser-session cookie without `Max-Age`: lives as long as the client's session.
    Session,
}

/// Which stateless hash maps a key (source address, header, cookie) to a
/// backend. Each follows one product; see `docs/strategies.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum HashAlgo {
    /// A 64-bit mix of the key, modulo the number of healthy backends.
    Modulo,
    /// nginx `ip_hash`: first three octets of IPv4 (all 16 of IPv6),
    /// `hash = (hash * 113 + byte) % 6271` from 89, weighted walk, 20 tries, then round robin.
    NginxIpHash,
    /// HAProxy `balance source` with `hash-type map-based`: the address as
    /// an integer modulo the total weight of the usable servers' map.
    HaproxySource,
    /// nginx `hash … consistent` (ketama): CRC32 points, 160 per weight unit.
    Ketama,
    /// Envoy `RING_HASH`: xxHash64 points, `minimum_ring_size` (default 1024).
    EnvoyRing,
    /// Envoy `MAGLEV`: permutation table filled per the paper, prime size (default 65537).
    Maglev,
    /// Jump consistent hash (Lamping & Veach 2014) over the healthy backends.
    Jump,
    /// Rendezvous (highest random weight) hashing.
    Rendezvous,
    /// nginx `hash $key` without `consistent` (Cache::Memcached): CRC32 of
    /// the key (with the try number in front from the second try),
    /// `(crc >> 16) & 0x7fff` added up, weighted walk, 20 tries, then round robin.
    NginxHash,
    /// HAProxy `hash-type consistent`: a tree of `full_hash`ed points, 16
    /// per unit of weight, keyed by server id; the nearer neighbour of the
    /// key's hash wins (`src/lb_chash.c`). The key's function and
    /// `avalanche` are [`HashTuning::haproxy_fn`] and [`HashTuning::avalanche`].
    HaproxyConsistent,
}

impl HashAlgo {
    /// Every hash, in the order documentation and `--help` list them.
    pub const ALL: [HashAlgo; 10] = [
        HashAlgo::Modulo,
        HashAlgo::NginxIpHash,
        HashAlgo::HaproxySource,
        HashAlgo::Ketama,
        HashAlgo::EnvoyRing,
        HashAlgo::Maglev,
        HashAlgo::Jump,
        HashAlgo::Rendezvous,
        HashAlgo::NginxHash,
        HashAlgo::HaproxyConsistent,
    ];

    /// The name a scenario and `stickysim route --hash` use.
    pub fn name(self) -> &'static str {
        match self {
            HashAlgo::Modulo => "modulo",
            HashAlgo::NginxIpHash => "nginx_ip_hash",
            HashAlgo::HaproxySource => "haproxy_source",
            HashAlgo::Ketama => "ketama",
            HashAlgo::EnvoyRing => "envoy_ring",
            HashAlgo::Maglev => "maglev",
            HashAlgo::Jump => "jump",
            HashAlgo::Rendezvous => "rendezvous",
            HashAlgo::NginxHash => "nginx_hash",
            HashAlgo::HaproxyConsistent => "haproxy_consistent",
        }
    }

    /// The product whose hash this is, if it is one product's (jump,
    /// rendezvous and modulo are no product's).
    pub fn product(self) -> Option<super::Product> {
        use super::Product;
        match self {
            HashAlgo::NginxIpHash | HashAlgo::Ketama | HashAlgo::NginxHash => Some(Product::Nginx),
            HashAlgo::HaproxySource | HashAlgo::HaproxyConsistent => Some(Product::Haproxy),
            HashAlgo::EnvoyRing | HashAlgo::Maglev => Some(Product::Envoy),
            HashAlgo::Modulo | HashAlgo::Jump | HashAlgo::Rendezvous => None,
        }
    }

    /// The hash a scenario or `--hash` names, `None` for an unknown name.
    pub fn from_name(s: &str) -> Option<HashAlgo> {
        HashAlgo::ALL.into_iter().find(|h| h.name() == s)
    }

    /// Whether the hash keeps its table over every configured backend and
    /// skips unusable ones (nginx), rather than rebuilding over the healthy
    /// set (Envoy, HAProxy's map, jump, rendezvous, modulo).
    pub fn skips_unusable(self) -> bool {
        matches!(
            self,
            HashAlgo::NginxIpHash | HashAlgo::Ketama | HashAlgo::NginxHash
        )
    }

    /// Whether a retry avoids the backend the failed attempt went to. Every
    /// hash does — nginx skips tried peers as it re-hashes, Envoy re-selects
    /// with the next attempt under the `previous_hosts` retry predicate,
    /// HAProxy's consistent tree walks on past `prev_srv` — except
    /// HAProxy's map-based hash: `get_server_sh` passes the server to avoid
    /// only to `chash_get_server_hash`, so a redispatch re-hashes to the
    /// same server while it is still in the map (`src/backend.c`).
    pub fn avoids_on_retry(self) -> bool {
        self != HashAlgo::HaproxySource
    }
}

/// Table sizes for the hashes that have one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HashTuning {
    /// Maglev table size (prime). Envoy default 65537.
    pub table_size: u64,
    /// Envoy ring hash `minimum_ring_size`, default 1024.
    pub min_ring_size: u64,
    /// Envoy ring hash `maximum_ring_size`, default 8 M.
    pub max_ring_size: u64,
    /// HAProxy's `hash-type` function for byte keys (`haproxy_source`,
    /// `haproxy_consistent`); sdbm by default.
    pub haproxy_fn: super::haproxy_chash::HaproxyFn,
    /// HAProxy's `hash-type … avalanche`: `full_hash` over the key's hash.
    pub avalanche: bool,
}

/// Why [`HashTuning::check`] refused a tuning value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TuningError {
    /// A Maglev `table_size` given for another hash (the hash given).
    TableSizeNotMaglev(HashAlgo),
    /// A `table_size` that is not a prime up to [`MAX_MAGLEV_TABLE_SIZE`].
    TableSizeNotPrime(u64),
    /// A ring `min_ring_size` given for another hash (the hash given).
    RingSizeNotEnvoyRing(HashAlgo),
    /// A `min_ring_size` outside 1 to [`MAX_RING_SIZE`].
    RingSizeOutOfRange(u64),
}

impl HashTuning {
    /// The tuning for `hash` with an optional Maglev table size and ring
    /// minimum, each checked to apply to the hash and to be in range (the
    /// one rule the scenario and `stickysim route` share; each words the
    /// error in its own terms).
    pub fn check(
        hash: HashAlgo,
        table_size: Option<u64>,
        min_ring_size: Option<u64>,
    ) -> Result<HashTuning, TuningError> {
        let mut t = HashTuning::default();
        if let Some(m) = table_size {
            if hash != HashAlgo::Maglev {
                return Err(TuningError::TableSizeNotMaglev(hash));
            }
            // Range first: the primality test of a huge number is slow.
            if m > MAX_MAGLEV_TABLE_SIZE || !is_prime(m) {
                return Err(TuningError::TableSizeNotPrime(m));
            }
            t.table_size = m;
        }
        if let Some(r) = min_ring_size {
            if hash != HashAlgo::EnvoyRing {
                return Err(TuningError::RingSizeNotEnvoyRing(hash));
            }
            if r == 0 || r > MAX_RING_SIZE {
                return Err(TuningError::RingSizeOutOfRange(r));
            }
            t.min_ring_size = r;
        }
        Ok(t)
    }
}

/// Envoy's `MaglevLbConfig.table_size` default.
pub const DEFAULT_MAGLEV_TABLE_SIZE: u64 = 65_537;
/// Envoy's largest allowed Maglev table size.
pub const MAX_MAGLEV_TABLE_SIZE: u64 = 5_000_011;
/// Envoy's `RingHashLbConfig.minimum_ring_size` default.
pub const DEFAULT_MIN_RING_SIZE: u64 = 1024;
/// Envoy's `RingHashLbConfig.maximum_ring_size` default (and upper limit).
pub const MAX_RING_SIZE: u64 = 8 * 1024 * 1024;

/// The HAProxy fields appear only when set: a scenario's hash (the `Debug`
/// text of the validated scenario) stays what it was for every scenario
/// that doesn't use them.
impl Default for HashTuning {
    fn default() -> Self {
        HashTuning {
            table_size: DEFAULT_MAGLEV_TABLE_SIZE,
            min_ring_size: DEFAULT_MIN_RING_SIZE,
            max_ring_size: MAX_RING_SIZE,
            haproxy_fn: super::haproxy_chash::HaproxyFn::Sdbm,
            avalanche: false,
        }
    }
}

/// Most points a hash ring or map may hold (backends × weight × points per
/// weight unit), 2^24 (~16.8 M, ~200 MB): ketama with 10,000 backends of
/// weight 256 would need 5.4 GB.
pub const MAX_RING_POINTS: u64 = 1 << 24;

/// Points a ring or map of `hash` holds for backends whose weights sum to
/// `total_weight`: ketama 160 per weight unit, HAProxy's consistent tree
/// 16 (`BE_WEIGHT_SCALE`), HAProxy's map-based hash one; hashes without a
/// weighted structure (Maglev and Envoy's ring have their own size limits)
/// one per unit too, as an upper bound. Saturating.
pub fn ring_points(hash: HashAlgo, total_weight: u64) -> u64 {
    let per_unit = match hash {
        HashAlgo::Ketama => 160,
        HashAlgo::HaproxyConsistent => 16,
        _ => 1,
    };
    total_weight.saturating_mul(per_unit)
}

/// Whether `n` is prime (trial division; table sizes are at most a few million).
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    if n.is_multiple_of(2) {
        return n == 2;
    }
    // `d * d` in u128: no overflow near u64::MAX (which would never end).
    let mut d = 3u64;
    while u128::from(d) * u128::from(d) <= u128::from(n) {
        if n.is_multiple_of(d) {
            return false;
        }
        d += 2;
    }
    true
}

/// How a sticky strategy treats a pinned backend that is draining
/// (deregistered, finishing its work).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum OnDraining {
    /// Move the client at once (AWS ALB deregistration).
    #[default]
    Reroute,
    /// Keep sending it there until the drain ends (HAProxy DRAIN, nginx
    /// `drain`, Azure Application Gateway).
    Honor,
}

/// What a hashing strategy keys on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum KeySource {
    /// The connection's source address.
    SourceIp,
    /// A request header (the client's API token).
    Header,
    /// The application's session cookie.
    Cookie,
}

/// What a learned-affinity strategy learns from the application's response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Learned {
    /// A cookie the application sets (ALB `app_cookie`, nginx `sticky learn`):
    /// clients that block cookies never send it back.
    AppCookie,
    /// A session id the application returns in its body or a header and the
    /// client sends back (HAProxy `stick store-response` / `stick match`).
    SessionId,
}

/// `SameSite` attribute of an issued cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SameSite {
    /// `SameSite=Strict`: sent on same-site requests only.
    Strict,
    /// `SameSite=Lax`: also sent on top-level cross-site navigations.
    Lax,
    /// `SameSite=None`: sent cross-site too (browsers require `Secure`).
    None,
}

/// Attributes of the `Set-Cookie` a cookie strategy writes back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CookieAttrs {
    /// Cookie name (ALB's `AWSALB` by default).
    pub name: String,
    /// `Path` attribute (`/` by default).
    pub path: String,
    /// Whether the `Secure` attribute is written.
    pub secure: bool,
    /// Whether the `HttpOnly` attribute is written.
    pub http_only: bool,
    /// `SameSite` attribute, `None` = not written.
    pub same_site: Option<SameSite>,
}

impl Default for CookieAttrs {
    fn default() -> Self {
        CookieAttrs {
            name: "AWSALB".to_string(),
            path: "/".to_string(),
            secure: false,
            http_only: false,
            same_site: None,
        }
    }
}

/// A validated strategy.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum StrategySpec {
    /// Non-sticky baseline.
    Balance(Balance),
    /// Load-balancer-inserted cookie naming the backend.
    LbCookie {
        /// Cookie lifetime in ns, from issue (absolute) or from the last
        /// response (sliding); ignored for session cookies.
        ttl_ns: u64,
        /// When the cookie stops pinning the client.
        ttl_mode: TtlMode,
        /// Attributes of the `Set-Cookie` written back.
        cookie: CookieAttrs,
        /// Balancer for requests without usable affinity (first request,
        /// expired or missing key, redispatch).
        balance: Balance,
        /// Whether a client whose backend is down or full is moved
        /// (redispatch) or refused.
        on_unavailable: OnUnavailable,
        /// Whether pinned clients keep going to a draining backend or are
        /// moved at once.
        on_draining: OnDraining,
    },
    /// Stateless hash of the client's source address.
    SourceIp {
        /// Which product's hash maps the key to a backend.
        hash: HashAlgo,
        /// Table and ring sizes and product options of `hash`.
        tuning: HashTuning,
        /// Whether a client whose backend is down or full is moved
        /// (redispatch) or refused.
        on_unavailable: OnUnavailable,
        /// Whether pinned clients keep going to a draining backend or are
        /// moved at once.
        on_draining: OnDraining,
    },
    /// Stateless hash of a named request header (Envoy `hash_policy`
    /// header, GCP `HEADER_FIELD`, HAProxy `balance hdr()`). Requests
    /// without it are balanced with `balance`.
    Header {
        /// The request header whose value is hashed (an RFC 9110 token).
        name: String,
        /// Which product's hash maps the key to a backend.
        hash: HashAlgo,
        /// Table and ring sizes and product options of `hash`.
        tuning: HashTuning,
        /// Balancer for requests without usable affinity (first request,
        /// expired or missing key, redispatch).
        balance: Balance,
        /// Whether a client whose backend is down or full is moved
        /// (redispatch) or refused.
        on_unavailable: OnUnavailable,
        /// Whether pinned clients keep going to a draining backend or are
        /// moved at once.
        on_draining: OnDraining,
    },
    /// Affinity table keyed by source address with a sliding idle timeout
    /// and a size limit (HAProxy `stick-table` + `stick on src`, Kubernetes
    /// `sessionAffinity: ClientIP`).
    SourceIpTable {
        /// Idle time in ns after which an entry expires (every hit
        /// restarts it).
        timeout_ns: u64,
        /// Maximum entries; when full, the least recently used idle entry
        /// is evicted.
        size: u32,
        /// Balancer for requests without usable affinity (first request,
        /// expired or missing key, redispatch).
        balance: Balance,
        /// Whether a client whose backend is down or full is moved
        /// (redispatch) or refused.
        on_unavailable: OnUnavailable,
        /// Whether pinned clients keep going to a draining backend or are
        /// moved at once.
        on_draining: OnDraining,
    },
    /// Affinity to an identifier the application issues, learned from its
    /// response, with a sliding idle timeout.
    Learn {
        /// Which identifier the application issues (cookie or session id).
        learned: Learned,
        /// The application's cookie or parameter name (documentation only).
        name: String,
        /// Idle time in ns after which an entry expires (every hit
        /// restarts it).
        timeout_ns: u64,
        /// Maximum entries; when full, the least recently used idle entry
        /// is evicted.
        size: u32,
        /// Balancer for requests without usable affinity (first request,
        /// expired or missing key, redispatch).
        balance: Balance,
        /// Whether a client whose backend is down or full is moved
        /// (redispatch) or refused.
        on_unavailable: OnUnavailable,
        /// Whether pinned clients keep going to a draining backend or are
        /// moved at once.
        on_draining: OnDraining,
    },
    /// Consistent hashing with bounded loads (HAProxy `hash-type consistent`
    /// + `hash-balance-factor`).
    BoundedLoad {
        /// Which part of the request is hashed (address, header, cookie).
        key: KeySource,
        /// Which product's hash maps the key to a backend.
        hash: HashAlgo,
        /// `hash-balance-factor`: no backend above factor/100 × the average.
        factor: u32,
        /// Table and ring sizes and product options of `hash`.
        tuning: HashTuning,
        /// Balancer for requests without usable affinity (first request,
        /// expired or missing key, redispatch).
        balance: Balance,
        /// Whether pinned clients keep going to a draining backend or are
        /// moved at once.
        on_draining: OnDraining,
    },
}

/// ALB `stickiness.lb_cookie.duration_seconds` default: 1 day.
pub const DEFAULT_COOKIE_TTL_S: f64 = 86_400.0;
/// ALB's valid range for the cookie duration: 1 s – 7 days.
pub const COOKIE_TTL_RANGE_S: (f64, f64) = (1.0, 604_800.0);
/// nginx `sticky learn … timeout=` default: 10 minutes.
pub const DEFAULT_LEARN_TIMEOUT_S: f64 = 600.0;
/// Kubernetes `sessionAffinityConfig.clientIP.timeoutSeconds` default: 3 hours.
pub const DEFAULT_TABLE_TIMEOUT_S: f64 = 10_800.0;
/// Longest table idle timeout: HAProxy's `expire` limit (2^31 ms, ~24.8 days).
/// Kubernetes alone caps `timeoutSeconds` at 86400.
pub const MAX_TABLE_TIMEOUT_S: f64 = 2_147_483.647;
/// Default affinity table size: HAProxy's customary `size 1m` (2^20 entries).
pub const DEFAULT_TABLE_SIZE: u32 = 1 << 20;
/// HAProxy's suggested `hash-balance-factor` range starts at 125.
pub const DEFAULT_BALANCE_FACTOR: u32 = 125;

impl StrategySpec {
    /// The product this strategy follows unless its `product` key says
    /// otherwise: a hashing strategy's hash's product, else its kind's
    /// ([`StrategyKind::default_product`]).
    pub fn default_product(&self) -> super::Product {
        let hash = match self {
            StrategySpec::SourceIp { hash, .. }
            | StrategySpec::Header { hash, .. }
            | StrategySpec::BoundedLoad { hash, .. } => Some(*hash),
            _ => None,
        };
        hash.and_then(HashAlgo::product)
            .unwrap_or_else(|| self.kind().default_product())
    }

    /// The `kind` this spec was written as in the scenario.
    pub fn kind(&self) -> StrategyKind {
        match self {
            StrategySpec::Balance(Balance::RoundRobin) => StrategyKind::RoundRobin,
            StrategySpec::Balance(Balance::Random) => StrategyKind::Random,
            StrategySpec::Balance(Balance::LeastConn) => StrategyKind::LeastConn,
            StrategySpec::Balance(Balance::P2c) => StrategyKind::P2c,
            StrategySpec::LbCookie { .. } => StrategyKind::LbCookie,
            StrategySpec::SourceIp { .. } => StrategyKind::SourceIp,
            StrategySpec::Header { .. } => StrategyKind::Header,
            StrategySpec::SourceIpTable { .. } => StrategyKind::SourceIpTable,
            StrategySpec::Learn {
                learned: Learned::AppCookie,
                ..
            } => StrategyKind::AppCookie,
            StrategySpec::Learn {
                learned: Learned::SessionId,
                ..
            } => StrategyKind::SessionId,
            StrategySpec::BoundedLoad { .. } => StrategyKind::BoundedLoad,
        }
    }
}
