//! A strategy as an nginx `upstream` block or an HAProxy `backend` section,
//! or the reason the product can't express it.

use super::Format;
use crate::routing::haproxy_chash::HaproxyFn;
use crate::routing::{Balance, HashAlgo, Learned, OnUnavailable, StrategySpec, TtlMode};
use std::fmt::Write as _;
use std::net::SocketAddr;

/// The snippet implementing `spec` as block `name` over `servers`
/// (address, weight), or why `to` can't express it.
pub fn export(
    spec: &StrategySpec,
    name: &str,
    servers: &[(SocketAddr, u32)],
    to: Format,
) -> Result<String, String> {
    match to {
        Format::Nginx => nginx(spec, name, servers),
        Format::Haproxy => haproxy(spec, name, servers),
    }
}

fn secs(ns: u64) -> String {
    let s = ns as f64 / 1e9;
    if s.fract() == 0.0 {
        format!("{}s", s as u64)
    } else {
        format!("{}ms", (s * 1000.0).round() as u64)
    }
}

fn nginx(spec: &StrategySpec, name: &str, servers: &[(SocketAddr, u32)]) -> Result<String, String> {
    let hash = |h: HashAlgo, key: &str| -> Result<String, String> {
        match h {
            HashAlgo::NginxIpHash if key == "$remote_addr" => Ok("ip_hash;".into()),
            HashAlgo::NginxHash => Ok(format!("hash {key};")),
            HashAlgo::Ketama => Ok(format!("hash {key} consistent;")),
            other => Err(format!(
                "nginx has no `{}` hash: its hashes are ip_hash (nginx_ip_hash, source address only), hash (nginx_hash) and hash … consistent (ketama)",
                other.name()
            )),
        }
    };
    let balancer = |b: Balance| -> &'static str {
        match b {
            Balance::RoundRobin => "",
            Balance::LeastConn => "least_conn;",
            Balance::Random => "random;",
            Balance::P2c => "random two least_conn;",
        }
    };
    let directive = match spec {
        StrategySpec::Balance(b) => balancer(*b).to_string(),
        StrategySpec::SourceIp { hash: h, .. } => hash(*h, "$remote_addr")?,
        StrategySpec::Header { name: hn, hash: h, balance, .. } => {
            if *balance != Balance::RoundRobin {
                return Err("nginx balances requests without the hash key round robin; the strategy's `balance` must be round_robin".into());
            }
            let var = format!("$http_{}", hn.to_ascii_lowercase().replace('-', "_"));
            hash(*h, &var)?
        }
        StrategySpec::LbCookie { ttl_ns, ttl_mode, cookie, balance, on_unavailable, .. } => {
            if *on_unavailable == OnUnavailable::Reject {
                return Err("nginx's sticky cookie always falls back to the balancer when the pinned server is unavailable (on_unavailable = \"reject\" is HAProxy `option persist`)".into());
            }
            let expires = match ttl_mode {
                TtlMode::Sliding => format!(" expires={}", secs(*ttl_ns)),
                TtlMode::Session => String::new(),
                TtlMode::Absolute => return Err("nginx's sticky cookie has no absolute lifetime (ttl_mode = \"absolute\" is HAProxy `maxlife`)".into()),
            };
            let mut d = String::new();
            if !balancer(*balance).is_empty() {
                d.push_str(balancer(*balance));
                d.push_str("\n    ");
            }
            write!(d, "# nginx open source 1.29.6 or later (or NGINX Plus): `sticky` is not in nginx 1.22.\n    sticky cookie {}{expires} path={}", cookie.name, cookie.path).unwrap();
            if cookie.http_only {
                d.push_str(" httponly");
            }
            if cookie.secure {
                d.push_str(" secure");
            }
            d.push(';');
            d
        }
        StrategySpec::Learn { learned: Learned::AppCookie, name: c, timeout_ns, .. } => format!(
            "# nginx open source 1.29.6 or later (or NGINX Plus): `sticky` is not in nginx 1.22.\n    sticky learn create=$upstream_cookie_{c} lookup=$cookie_{c} zone={name}_sticky:1m timeout={};",
            secs(*timeout_ns)
        ),
        StrategySpec::Learn { learned: Learned::SessionId, .. } => {
            return Err("nginx learns affinity only from cookies (`sticky learn`), not from a session id outside cookies".into())
        }
        StrategySpec::SourceIpTable { .. } => {
            return Err("nginx has no source-address affinity table (ip_hash and hash are stateless)".into())
        }
        StrategySpec::BoundedLoad { .. } => return Err("nginx has no consistent hashing with bounded loads".into()),
    };
    let mut s = format!("upstream {name} {{\n");
    if !directive.is_empty() {
        writeln!(s, "    {directive}").unwrap();
    }
    for (a, w) in servers {
        writeln!(s, "    server {a} weight={w};").unwrap();
    }
    s.push_str("}\n");
    Ok(s)
}

fn haproxy(
    spec: &StrategySpec,
    name: &str,
    servers: &[(SocketAddr, u32)],
) -> Result<String, String> {
    let hash_type = |h: HashAlgo, f: HaproxyFn, aval: bool| -> Result<String, String> {
        let ty = match h {
            HashAlgo::HaproxySource => "map-based",
            HashAlgo::HaproxyConsistent => "consistent",
            other => {
                return Err(format!(
                    "HAProxy has no `{}` hash: its hash-types are map-based (haproxy_source) and consistent (haproxy_consistent)",
                    other.name()
                ))
            }
        };
        Ok(format!(
            "hash-type {ty} {}{}",
            f.name(),
            if aval { " avalanche" } else { "" }
        ))
    };
    let balancer = |b: Balance| -> &'static str {
        match b {
            Balance::RoundRobin => "balance roundrobin",
            Balance::LeastConn => "balance leastconn",
            Balance::Random => "balance random(1)",
            Balance::P2c => "balance random(2)",
        }
    };
    let mut lines: Vec<String> = Vec::new();
    let mut cookies = false;
    match spec {
        StrategySpec::Balance(b) => lines.push(balancer(*b).into()),
        StrategySpec::SourceIp { hash, tuning, .. } => {
            lines.push("balance source".into());
            lines.push(hash_type(*hash, tuning.haproxy_fn, tuning.avalanche)?);
        }
        StrategySpec::Header { name: hn, hash, tuning, balance, .. } => {
            if *balance != Balance::RoundRobin {
                return Err("HAProxy balances requests without the header round robin; the strategy's `balance` must be round_robin".into());
            }
            lines.push(format!("balance hdr({hn})"));
            lines.push(hash_type(*hash, tuning.haproxy_fn, tuning.avalanche)?);
        }
        StrategySpec::LbCookie { ttl_ns, ttl_mode, cookie, balance, on_unavailable, .. } => {
            lines.push(balancer(*balance).into());
            let mut c = format!("cookie {} insert indirect nocache", cookie.name);
            match ttl_mode {
                TtlMode::Sliding => write!(c, " maxidle {}", secs(*ttl_ns)).unwrap(),
                TtlMode::Absolute => write!(c, " maxlife {}", secs(*ttl_ns)).unwrap(),
                TtlMode::Session => {}
            }
            if cookie.http_only {
                c.push_str(" httponly");
            }
            if cookie.secure {
                c.push_str(" secure");
            }
            lines.push(c);
            lines.push(match on_unavailable {
                OnUnavailable::Redispatch => "option redispatch".into(),
                OnUnavailable::Reject => "option persist".into(),
            });
            cookies = true;
        }
        StrategySpec::SourceIpTable { timeout_ns, size, balance, on_unavailable, .. } => {
            lines.push(balancer(*balance).into());
            lines.push(format!("stick-table type ip size {size} expire {}", secs(*timeout_ns)));
            lines.push("stick on src".into());
            if *on_unavailable == OnUnavailable::Redispatch {
                lines.push("option redispatch".into());
            }
        }
        StrategySpec::Learn { learned: Learned::AppCookie, name: c, timeout_ns, size, balance, .. } => {
            lines.push(balancer(*balance).into());
            lines.push(format!("stick-table type string len 64 size {size} expire {}", secs(*timeout_ns)));
            lines.push(format!("stick on req.cook({c})"));
            lines.push(format!("stick store-response res.cook({c})"));
        }
        StrategySpec::Learn { learned: Learned::SessionId, name: h, timeout_ns, size, balance, .. } => {
            lines.push(balancer(*balance).into());
            lines.push(format!("stick-table type string len 64 size {size} expire {}", secs(*timeout_ns)));
            lines.push(format!("stick on req.hdr({h})"));
            lines.push(format!("stick store-response res.hdr({h})"));
        }
        StrategySpec::BoundedLoad { .. } => {
            return Err("stickysim's bounded loads walk a ketama or Envoy ring, not HAProxy's tree: HAProxy's `hash-balance-factor` would place keys differently".into())
        }
    }
    let mut s = format!("backend {name}\n");
    for l in lines {
        writeln!(s, "    {l}").unwrap();
    }
    for (i, (a, w)) in servers.iter().enumerate() {
        write!(s, "    server s{i} {a} weight {w}").unwrap();
        if cookies {
            write!(s, " cookie s{i}").unwrap();
        }
        s.push('\n');
    }
    Ok(s)
}
