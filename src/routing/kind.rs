//! The strategy vocabulary: every `kind` a scenario may name, in one place.
//! Names, the scenario keys each kind accepts and whether it is sticky are
//! spelled here and nowhere else; the scenario, the recorder and the report
//! parse into [`StrategyKind`] rather than spelling the names again.

/// A strategy `kind`, as a scenario names it and as outputs record it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrategyKind {
    /// Smooth weighted round robin, no affinity.
    RoundRobin,
    /// Uniformly random, no affinity.
    Random,
    /// Fewest outstanding requests, no affinity.
    LeastConn,
    /// Power of two choices, no affinity.
    P2c,
    /// Load-balancer-inserted cookie naming the backend.
    LbCookie,
    /// Stateless hash of the source address.
    SourceIp,
    /// Stateless hash of a request header.
    Header,
    /// Affinity table keyed by source address.
    SourceIpTable,
    /// Affinity learned from the application's session cookie.
    AppCookie,
    /// Affinity learned from the application's session id.
    SessionId,
    /// Consistent hashing with bounded loads.
    BoundedLoad,
}

impl StrategyKind {
    /// Every kind, in the order error messages and docs list them.
    pub const ALL: [StrategyKind; 11] = [
        StrategyKind::RoundRobin,
        StrategyKind::Random,
        StrategyKind::LeastConn,
        StrategyKind::P2c,
        StrategyKind::LbCookie,
        StrategyKind::SourceIp,
        StrategyKind::Header,
        StrategyKind::SourceIpTable,
        StrategyKind::AppCookie,
        StrategyKind::SessionId,
        StrategyKind::BoundedLoad,
    ];

    /// The name a scenario's `kind` and the outputs' `kind` column use.
    pub fn name(self) -> &'static str {
        match self {
            StrategyKind::RoundRobin => "round_robin",
            StrategyKind::Random => "random",
            StrategyKind::LeastConn => "least_conn",
            StrategyKind::P2c => "p2c",
            StrategyKind::LbCookie => "lb_cookie",
            StrategyKind::SourceIp => "source_ip",
            StrategyKind::Header => "header",
            StrategyKind::SourceIpTable => "source_ip_table",
            StrategyKind::AppCookie => "app_cookie",
            StrategyKind::SessionId => "session_id",
            StrategyKind::BoundedLoad => "bounded_load",
        }
    }

    /// The kind called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<StrategyKind> {
        StrategyKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Every kind's name, in [`ALL`](Self::ALL) order.
    pub fn names() -> [&'static str; 11] {
        StrategyKind::ALL.map(StrategyKind::name)
    }

    /// The keys of a `[[strategies]]` entry (besides `name`, `kind` and
    /// `placement`) this kind accepts, all optional, in schema order.
    pub fn keys(self) -> Vec<&'static str> {
        /// What a pinned client's backend being down or draining does.
        const PINNED: &[&str] = &["on_unavailable", "on_draining"];
        /// How a hash table or ring is built.
        const HASH_TUNING: &[&str] = &["table_size", "min_ring_size", "hash_function", "avalanche"];
        let parts: &[&[&str]] = match self {
            StrategyKind::RoundRobin
            | StrategyKind::Random
            | StrategyKind::LeastConn
            | StrategyKind::P2c => &[],
            StrategyKind::LbCookie => &[
                &[
                    "ttl",
                    "ttl_mode",
                    "cookie_name",
                    "cookie_path",
                    "secure",
                    "http_only",
                    "same_site",
                    "balance",
                ],
                PINNED,
            ],
            StrategyKind::SourceIp => &[&["hash"], PINNED, HASH_TUNING],
            StrategyKind::Header => &[&["header_name", "hash", "balance"], PINNED, HASH_TUNING],
            StrategyKind::SourceIpTable => &[&["timeout", "size", "balance"], PINNED],
            StrategyKind::AppCookie => &[&["cookie_name", "timeout", "size", "balance"], PINNED],
            StrategyKind::SessionId => &[&["header_name", "timeout", "size", "balance"], PINNED],
            StrategyKind::BoundedLoad => &[&[
                "key",
                "hash",
                "factor",
                "header_name",
                "min_ring_size",
                "balance",
                "on_draining",
            ]],
        };
        parts.concat()
    }

    /// Whether the kind keeps a client on a backend across requests (has
    /// affinity), rather than balancing every request afresh.
    pub fn is_sticky(self) -> bool {
        !matches!(
            self,
            StrategyKind::RoundRobin
                | StrategyKind::Random
                | StrategyKind::LeastConn
                | StrategyKind::P2c
        )
    }

    /// Whether the kind's affinity follows the client's source address
    /// (a hash of it or a table keyed by it).
    pub fn follows_source_ip(self) -> bool {
        matches!(self, StrategyKind::SourceIp | StrategyKind::SourceIpTable)
    }
}

/// The load-balancer product whose upstream behaviour a strategy follows:
/// its connect and read timeouts and its passive health checks
/// (`docs/strategies.md`, "Failures the load balancer sees").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Product {
    /// nginx: `proxy_connect_timeout` / `proxy_read_timeout`, `max_fails` / `fail_timeout`.
    Nginx,
    /// HAProxy: `timeout connect` / `timeout server`, `observe` / `error-limit` / `on-error`.
    Haproxy,
    /// Envoy: cluster `connect_timeout`, route `timeout`, `outlier_detection`.
    Envoy,
    /// AWS Application Load Balancer: target connection timeout, idle timeout; no passive checks.
    Alb,
}

impl Product {
    /// Every product, in the order error messages and docs list them.
    pub const ALL: [Product; 4] = [
        Product::Nginx,
        Product::Haproxy,
        Product::Envoy,
        Product::Alb,
    ];

    /// The name a scenario's `product` key uses.
    pub fn name(self) -> &'static str {
        match self {
            Product::Nginx => "nginx",
            Product::Haproxy => "haproxy",
            Product::Envoy => "envoy",
            Product::Alb => "alb",
        }
    }

    /// The product called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Product> {
        Product::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The product's default `(connect, read)` timeouts in seconds: nginx
    /// `proxy_connect_timeout` 60 s and `proxy_read_timeout` 60 s; HAProxy has
    /// no built-in value (it warns and waits forever), so the configuration
    /// manual's usual `timeout connect 5s` / `timeout server 50s`; Envoy's
    /// cluster `connect_timeout` 5 s and route `timeout` 15 s; ALB's 10 s
    /// target connection timeout and 60 s idle timeout.
    pub fn default_timeouts_s(self) -> (f64, f64) {
        match self {
            Product::Nginx => (60.0, 60.0),
            Product::Haproxy => (5.0, 50.0),
            Product::Envoy => (5.0, 15.0),
            Product::Alb => (10.0, 60.0),
        }
    }
}

impl StrategyKind {
    /// The product a strategy of this kind follows unless its `product`
    /// key says otherwise: the first product `docs/strategies.md` names for
    /// the kind (a hashing kind follows its hash, see
    /// [`HashAlgo::product`](super::HashAlgo::product)).
    pub fn default_product(self) -> Product {
        match self {
            StrategyKind::RoundRobin => Product::Nginx,
            StrategyKind::Random | StrategyKind::LeastConn => Product::Haproxy,
            StrategyKind::P2c | StrategyKind::Header => Product::Envoy,
            StrategyKind::LbCookie | StrategyKind::AppCookie => Product::Alb,
            StrategyKind::SourceIp => Product::Nginx,
            StrategyKind::SourceIpTable | StrategyKind::SessionId | StrategyKind::BoundedLoad => {
                Product::Haproxy
            }
        }
    }
}

impl std::fmt::Display for StrategyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_distinct() {
        for k in StrategyKind::ALL {
            assert_eq!(StrategyKind::from_name(k.name()), Some(k));
        }
        let mut names = StrategyKind::names().to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), StrategyKind::ALL.len());
        assert_eq!(StrategyKind::from_name("sticky"), None);
    }

    #[test]
    fn only_the_plain_balancers_are_not_sticky() {
        let plain: Vec<_> = StrategyKind::ALL
            .into_iter()
            .filter(|k| !k.is_sticky())
            .collect();
        assert_eq!(
            plain,
            [
                StrategyKind::RoundRobin,
                StrategyKind::Random,
                StrategyKind::LeastConn,
                StrategyKind::P2c
            ]
        );
        // The plain balancers take no keys of their own; every sticky kind does.
        for k in StrategyKind::ALL {
            assert_eq!(k.keys().is_empty(), !k.is_sticky(), "{k}");
        }
    }
}
