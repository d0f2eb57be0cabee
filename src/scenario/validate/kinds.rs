//! `[[strategies]]`: each entry's kind parsed into routing's vocabulary,
//! its keys checked against the kind's, and its spec built.

use super::*;
use crate::routing::TuningError;

pub(super) fn strategies(raw: &[RawStrategy]) -> R<Vec<StrategyConfig>> {
    let k = KeyPath::from("strategies");
    if raw.is_empty() {
        return problem(&k, "expected at least one [[strategies]] entry, found none");
    }
    let mut out: Vec<StrategyConfig> = Vec::with_capacity(raw.len());
    for (i, s) in raw.iter().enumerate() {
        let sk = k.i(i);
        name(&sk.k("name"), &s.name)?;
        if let Some(j) = out.iter().position(|o| o.name == s.name) {
            return problem(
                &sk.k("name"),
                format!(
                    "expected unique strategy names, found `{}` again (first at strategies[{j}])",
                    s.name
                ),
            );
        }
        let spec = strategy(&sk, s)?;
        let upstream = upstream(&sk, s, &spec)?;
        out.push(StrategyConfig {
            name: s.name.clone(),
            spec,
            session_state: None,
            retry: s
                .retry
                .as_ref()
                .map(|r| lb_retry(&sk.k("retry"), r))
                .transpose()?,
            upstream,
        });
    }
    Ok(out)
}

pub(super) fn balance(b: Option<RawBalance>) -> Balance {
    match b.unwrap_or(RawBalance::RoundRobin) {
        RawBalance::RoundRobin => Balance::RoundRobin,
        RawBalance::Random => Balance::Random,
        RawBalance::LeastConn => Balance::LeastConn,
        RawBalance::P2c => Balance::P2c,
    }
}

pub(super) fn on_unavailable(o: Option<RawOnUnavailable>) -> OnUnavailable {
    match o.unwrap_or(RawOnUnavailable::Redispatch) {
        RawOnUnavailable::Redispatch => OnUnavailable::Redispatch,
        RawOnUnavailable::Reject => OnUnavailable::Reject,
    }
}

pub(super) fn on_draining(o: Option<RawOnDraining>) -> OnDraining {
    match o.unwrap_or(RawOnDraining::Reroute) {
        RawOnDraining::Reroute => OnDraining::Reroute,
        RawOnDraining::Honor => OnDraining::Honor,
    }
}

pub(super) fn ip_hash(h: Option<RawHashAlgo>, default: RawHashAlgo) -> HashAlgo {
    match h.unwrap_or(default) {
        RawHashAlgo::Modulo => HashAlgo::Modulo,
        RawHashAlgo::NginxIpHash => HashAlgo::NginxIpHash,
        RawHashAlgo::HaproxySource => HashAlgo::HaproxySource,
        RawHashAlgo::Ketama => HashAlgo::Ketama,
        RawHashAlgo::EnvoyRing => HashAlgo::EnvoyRing,
        RawHashAlgo::Maglev => HashAlgo::Maglev,
        RawHashAlgo::Jump => HashAlgo::Jump,
        RawHashAlgo::Rendezvous => HashAlgo::Rendezvous,
        RawHashAlgo::NginxHash => HashAlgo::NginxHash,
        RawHashAlgo::HaproxyConsistent => HashAlgo::HaproxyConsistent,
    }
}

/// Maglev `table_size` (prime, Envoy's limits), ring `min_ring_size`, and
/// HAProxy's `hash_function` and `avalanche`.
pub(super) fn tuning(k: &KeyPath, s: &RawStrategy, hash: HashAlgo) -> R<HashTuning> {
    let mut t = sizes(k, s, hash)?;
    haproxy_hash_options(k, s, hash, &mut t)?;
    Ok(t)
}

/// HAProxy's `hash-type` function and `avalanche`, for HAProxy's hashes only.
fn haproxy_hash_options(k: &KeyPath, s: &RawStrategy, hash: HashAlgo, t: &mut HashTuning) -> R<()> {
    let haproxy = matches!(hash, HashAlgo::HaproxySource | HashAlgo::HaproxyConsistent);
    for (key, set) in [
        ("hash_function", s.hash_function.is_some()),
        ("avalanche", s.avalanche.is_some()),
    ] {
        if set && !haproxy {
            return problem(
                &k.k(key),
                format!(
                    "`{key}` applies to `hash = \"haproxy_source\"` or `\"haproxy_consistent\"` only, found hash `{}`",
                    hash.name()
                ),
            );
        }
    }
    if let Some(f) = &s.hash_function {
        match crate::routing::haproxy_chash::HaproxyFn::from_name(f) {
            Some(f) => t.haproxy_fn = f,
            None => {
                return problem(
                    &k.k("hash_function"),
                    format!("expected one of sdbm, djb2, wt6, crc32, found `{f}`"),
                )
            }
        }
    }
    t.avalanche = s.avalanche.unwrap_or(false);
    Ok(())
}

/// Maglev `table_size` (prime, Envoy's limits) and ring `min_ring_size`.
fn sizes(k: &KeyPath, s: &RawStrategy, hash: HashAlgo) -> R<HashTuning> {
    HashTuning::check(hash, s.table_size, s.min_ring_size).or_else(|e| match e {
        TuningError::TableSizeNotMaglev(h) => problem(
            &k.k("table_size"),
            format!(
                "`table_size` applies to `hash = \"maglev\"` only, found hash `{}`",
                h.name()
            ),
        ),
        TuningError::TableSizeNotPrime(m) => problem(
            &k.k("table_size"),
            format!(
                "expected a prime number up to {MAX_MAGLEV_TABLE_SIZE} (e.g. 65537), found {m}"
            ),
        ),
        TuningError::RingSizeNotEnvoyRing(h) => problem(
            &k.k("min_ring_size"),
            format!(
                "`min_ring_size` applies to `hash = \"envoy_ring\"` only, found hash `{}`",
                h.name()
            ),
        ),
        TuningError::RingSizeOutOfRange(r) => problem(
            &k.k("min_ring_size"),
            format!("expected a ring size from 1 to {MAX_RING_SIZE}, found {r}"),
        ),
    })
}

/// An affinity-table idle timeout in seconds, within 1 s and `max`.
pub(super) fn table_timeout(k: &KeyPath, v: Option<f64>, default: f64, max: f64) -> R<u64> {
    let t = within(
        &k.k("timeout"),
        v.unwrap_or(default),
        1.0,
        max,
        "an idle timeout in seconds",
    )?;
    Ok(secs_to_ns(t))
}

pub(super) fn table_size(k: &KeyPath, v: Option<u32>) -> R<u32> {
    match v {
        Some(0) => problem(
            &k.k("size"),
            "expected a table size of at least 1 entry, found 0",
        ),
        Some(n) => Ok(n),
        None => Ok(DEFAULT_TABLE_SIZE),
    }
}

pub(super) fn header_name(k: &KeyPath, v: &Option<String>, default: &str) -> R<String> {
    let n = v.clone().unwrap_or_else(|| default.to_string());
    if !is_token(&n) {
        return problem(
            &k.k("header_name"),
            format!("expected a header name of token characters, found {n:?}"),
        );
    }
    Ok(n)
}

/// RFC 9110 `tchar`: what a cookie name may be made of.
pub(super) fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

pub(super) fn strategy(k: &KeyPath, s: &RawStrategy) -> R<StrategySpec> {
    let Some(kind) = StrategyKind::from_name(&s.kind) else {
        let names = StrategyKind::names();
        return Err(Problem::one_of(k.k("kind"), &s.kind, &names));
    };
    let allowed = kind.keys();
    for key in s.present_keys() {
        if !allowed.contains(&key) {
            let takes = if allowed.is_empty() {
                "it takes only `name` and `kind`".to_string()
            } else {
                format!("its keys are {}", ticked(&allowed))
            };
            return problem(
                &k.k(key),
                format!("`{key}` does not apply to kind `{kind}`; {takes}"),
            );
        }
    }
    match kind {
        StrategyKind::RoundRobin => Ok(StrategySpec::Balance(Balance::RoundRobin)),
        StrategyKind::Random => Ok(StrategySpec::Balance(Balance::Random)),
        StrategyKind::LeastConn => Ok(StrategySpec::Balance(Balance::LeastConn)),
        StrategyKind::P2c => Ok(StrategySpec::Balance(Balance::P2c)),
        StrategyKind::LbCookie => lb_cookie(k, s),
        StrategyKind::SourceIp => source_ip(k, s),
        StrategyKind::Header => header(k, s),
        StrategyKind::SourceIpTable => source_ip_table(k, s),
        StrategyKind::AppCookie | StrategyKind::SessionId => learn(k, s, kind),
        StrategyKind::BoundedLoad => bounded_load(k, s),
    }
}

/// `lb_cookie`: TTL, cookie name and path checked, attributes defaulted.
fn lb_cookie(k: &KeyPath, s: &RawStrategy) -> R<StrategySpec> {
    let (lo, hi) = COOKIE_TTL_RANGE_S;
    let ttl = within(
        &k.k("ttl"),
        s.ttl.unwrap_or(DEFAULT_COOKIE_TTL_S),
        lo,
        hi,
        "a cookie TTL in seconds",
    )?;
    let defaults = CookieAttrs::default();
    let cookie_name = s.cookie_name.clone().unwrap_or(defaults.name);
    if !is_token(&cookie_name) {
        return problem(
            &k.k("cookie_name"),
            format!(
                "expected a cookie name of token characters (no whitespace, `;`, `=`, \
                 `,`, quotes or brackets), found {cookie_name:?}"
            ),
        );
    }
    let path = s.cookie_path.clone().unwrap_or(defaults.path);
    if !path.starts_with('/') || path.chars().any(|c| c == ';' || c.is_control()) {
        return problem(
            &k.k("cookie_path"),
            format!(
                "expected a path starting with `/` without `;` or control characters, \
                 found {path:?}"
            ),
        );
    }
    Ok(StrategySpec::LbCookie {
        ttl_ns: secs_to_ns(ttl),
        ttl_mode: match s.ttl_mode.unwrap_or(RawTtlMode::Sliding) {
            RawTtlMode::Sliding => TtlMode::Sliding,
            RawTtlMode::Absolute => TtlMode::Absolute,
            RawTtlMode::Session => TtlMode::Session,
        },
        cookie: CookieAttrs {
            name: cookie_name,
            path,
            secure: s.secure.unwrap_or(false),
            http_only: s.http_only.unwrap_or(false),
            same_site: s.same_site.map(|ss| match ss {
                RawSameSite::Strict => SameSite::Strict,
                RawSameSite::Lax => SameSite::Lax,
                RawSameSite::None => SameSite::None,
            }),
        },
        balance: balance(s.balance),
        on_unavailable: on_unavailable(s.on_unavailable),
        on_draining: on_draining(s.on_draining),
    })
}

/// `source_ip`: the hash (modulo by default) and its tuning.
fn source_ip(k: &KeyPath, s: &RawStrategy) -> R<StrategySpec> {
    let hash = ip_hash(s.hash, RawHashAlgo::Modulo);
    Ok(StrategySpec::SourceIp {
        hash,
        tuning: tuning(k, s, hash)?,
        on_unavailable: on_unavailable(s.on_unavailable),
        on_draining: on_draining(s.on_draining),
    })
}

/// `header`: the header name (`Authorization` by default), the hash
/// (Envoy ring by default) and its tuning.
fn header(k: &KeyPath, s: &RawStrategy) -> R<StrategySpec> {
    let hash = ip_hash(s.hash, RawHashAlgo::EnvoyRing);
    Ok(StrategySpec::Header {
        name: header_name(k, &s.header_name, "Authorization")?,
        hash,
        tuning: tuning(k, s, hash)?,
        balance: balance(s.balance),
        on_unavailable: on_unavailable(s.on_unavailable),
        on_draining: on_draining(s.on_draining),
    })
}

/// `source_ip_table`: idle timeout and size of the affinity table.
fn source_ip_table(k: &KeyPath, s: &RawStrategy) -> R<StrategySpec> {
    Ok(StrategySpec::SourceIpTable {
        timeout_ns: table_timeout(k, s.timeout, DEFAULT_TABLE_TIMEOUT_S, MAX_TABLE_TIMEOUT_S)?,
        size: table_size(k, s.size)?,
        balance: balance(s.balance),
        on_unavailable: on_unavailable(s.on_unavailable),
        on_draining: on_draining(s.on_draining),
    })
}

/// `app_cookie` and `session_id`: the identifier's cookie or header
/// name, then the table's timeout and size.
fn learn(k: &KeyPath, s: &RawStrategy, kind: StrategyKind) -> R<StrategySpec> {
    let app = kind == StrategyKind::AppCookie;
    let name = if app {
        let n = s
            .cookie_name
            .clone()
            .unwrap_or_else(|| "JSESSIONID".to_string());
        if !is_token(&n) {
            return problem(
                &k.k("cookie_name"),
                format!("expected a cookie name of token characters, found {n:?}"),
            );
        }
        n
    } else {
        header_name(k, &s.header_name, "X-Session-Id")?
    };
    Ok(StrategySpec::Learn {
        learned: if app {
            Learned::AppCookie
        } else {
            Learned::SessionId
        },
        name,
        timeout_ns: table_timeout(k, s.timeout, DEFAULT_LEARN_TIMEOUT_S, COOKIE_TTL_RANGE_S.1)?,
        size: table_size(k, s.size)?,
        balance: balance(s.balance),
        on_unavailable: on_unavailable(s.on_unavailable),
        on_draining: on_draining(s.on_draining),
    })
}

/// `bounded_load`: a ring hash, the balance factor, the key and its
/// header name.
fn bounded_load(k: &KeyPath, s: &RawStrategy) -> R<StrategySpec> {
    let hash = ip_hash(s.hash, RawHashAlgo::Ketama);
    if !matches!(hash, HashAlgo::Ketama | HashAlgo::EnvoyRing) {
        return problem(
            &k.k("hash"),
            format!(
                "expected `ketama` or `envoy_ring` (bounded loads walk a ring), found `{}`",
                hash.name()
            ),
        );
    }
    let factor = s.factor.unwrap_or(DEFAULT_BALANCE_FACTOR);
    if !(101..=10_000).contains(&factor) {
        return problem(
            &k.k("factor"),
            format!(
                "expected a hash-balance-factor from 101 to 10000 (percent of the average \
                 load; HAProxy suggests 125-200), found {factor}"
            ),
        );
    }
    let key = match s.key.unwrap_or(RawKeySource::Source) {
        RawKeySource::Source => KeySource::SourceIp,
        RawKeySource::Header => KeySource::Header,
        RawKeySource::Cookie => KeySource::Cookie,
    };
    if s.header_name.is_some() && key != KeySource::Header {
        return problem(
            &k.k("header_name"),
            "`header_name` applies only with `key = \"header\"`",
        );
    }
    Ok(StrategySpec::BoundedLoad {
        key,
        hash,
        factor,
        tuning: tuning(k, s, hash)?,
        balance: balance(s.balance),
        on_draining: on_draining(s.on_draining),
    })
}

/// The longest `connect_timeout`, s.
pub(super) const MAX_CONNECT_TIMEOUT_S: f64 = 600.0;
/// The longest `read_timeout`, s (ALB's longest idle timeout).
pub(super) const MAX_READ_TIMEOUT_S: f64 = 4000.0;
/// The most failures/errors a passive-health threshold may count.
pub(super) const MAX_PASSIVE_COUNT: u32 = 1000;
/// The longest passive-health time (`fail_timeout`, ejection times), s: a day.
pub(super) const MAX_PASSIVE_TIME_S: f64 = 86_400.0;
/// The shortest Envoy `interval`, s.
pub(super) const MIN_OUTLIER_INTERVAL_S: f64 = 0.1;

/// The keys of `passive_health` each product takes.
pub(super) fn passive_keys(p: Product) -> &'static [&'static str] {
    match p {
        Product::Nginx => &["max_fails", "fail_timeout"],
        Product::Envoy => &[
            "consecutive_5xx",
            "consecutive_gateway_failure",
            "enforcing_consecutive_5xx",
            "enforcing_consecutive_gateway_failure",
            "interval",
            "base_ejection_time",
            "max_ejection_time",
            "max_ejection_percent",
        ],
        Product::Haproxy => &["observe", "error_limit", "on_error"],
        Product::Alb => &[],
    }
}

/// A strategy's `product`, timeouts and `passive_health`, with the
/// product's defaults.
fn upstream(sk: &KeyPath, s: &RawStrategy, spec: &StrategySpec) -> R<Upstream> {
    let product = match s.product {
        None => spec.default_product(),
        Some(RawProduct::Nginx) => Product::Nginx,
        Some(RawProduct::Haproxy) => Product::Haproxy,
        Some(RawProduct::Envoy) => Product::Envoy,
        Some(RawProduct::Alb) => Product::Alb,
    };
    let mut up = Upstream::of(product);
    up.explicit = s.product.is_some()
        || s.connect_timeout.is_some()
        || s.read_timeout.is_some()
        || s.passive_health.is_some();
    let timeout = |key: &str, v: f64, max: f64| -> R<u64> {
        let k = sk.k(key);
        let ns = secs(&k, v, false)?;
        if v > max {
            return problem(&k, format!("expected at most {max} s, found {v} s"));
        }
        Ok(ns)
    };
    if let Some(c) = s.connect_timeout {
        up.connect_timeout_ns = timeout("connect_timeout", c, MAX_CONNECT_TIMEOUT_S)?;
    }
    if let Some(r) = s.read_timeout {
        up.read_timeout_ns = timeout("read_timeout", r, MAX_READ_TIMEOUT_S)?;
    }
    if let Some(ph) = &s.passive_health {
        up.passive = Some(passive_health(&sk.k("passive_health"), ph, product)?);
    }
    Ok(up)
}

/// `passive_health = { … }` for `product`: only its keys, each in range.
fn passive_health(k: &KeyPath, ph: &RawPassiveHealth, product: Product) -> R<PassiveHealth> {
    let own = passive_keys(product);
    if product == Product::Alb {
        return problem(
            k,
            "ALB has no passive health checks (its targets are judged by the active checks \
             of [health_check] only); set `product` to \"nginx\", \"envoy\" or \"haproxy\"",
        );
    }
    for key in ph.present_keys() {
        if !own.contains(&key) {
            let owner = Product::ALL
                .into_iter()
                .find(|p| passive_keys(*p).contains(&key))
                .map_or("another product", Product::name);
            return problem(
                &k.k(key),
                format!(
                    "`{key}` is {owner}'s; `product = \"{}\"` takes {}",
                    product.name(),
                    ticked(own)
                ),
            );
        }
    }
    let count = |key: &str, v: Option<u32>, default: u32| -> R<u32> {
        let v = v.unwrap_or(default);
        if !(1..=MAX_PASSIVE_COUNT).contains(&v) {
            return problem(
                &k.k(key),
                format!("expected 1 ..= {MAX_PASSIVE_COUNT}, found {v}"),
            );
        }
        Ok(v)
    };
    let time = |key: &str, v: Option<f64>, default: f64, min: f64| -> R<u64> {
        let v = v.unwrap_or(default);
        let kk = k.k(key);
        let ns = secs(&kk, v, false)?;
        if v < min || v > MAX_PASSIVE_TIME_S {
            return problem(
                &kk,
                format!("expected {min} ..= {MAX_PASSIVE_TIME_S} s, found {v} s"),
            );
        }
        Ok(ns)
    };
    let enforcing = |key: &str, v: Option<u32>, default: u32| -> R<bool> {
        match v.unwrap_or(default) {
            0 => Ok(false),
            100 => Ok(true),
            v => problem(
                &k.k(key),
                format!(
                    "expected 0 or 100 (a share in between is a random draw per \
                     ejection, which is not modelled), found {v}"
                ),
            ),
        }
    };
    Ok(match product {
        Product::Nginx => PassiveHealth::Nginx {
            max_fails: count("max_fails", ph.max_fails, 1)?,
            fail_timeout_ns: time("fail_timeout", ph.fail_timeout, 10.0, 0.001)?,
        },
        Product::Envoy => {
            let base_ejection_ns = time("base_ejection_time", ph.base_ejection_time, 30.0, 0.001)?;
            let max_ejection_ns = time("max_ejection_time", ph.max_ejection_time, 300.0, 0.001)?;
            if max_ejection_ns < base_ejection_ns {
                return problem(
                    &k.k("max_ejection_time"),
                    format!(
                        "expected at least `base_ejection_time` ({} s), found {} s",
                        base_ejection_ns as f64 / NS_PER_S,
                        max_ejection_ns as f64 / NS_PER_S
                    ),
                );
            }
            let pct = ph.max_ejection_percent.unwrap_or(10);
            if pct > 100 {
                return problem(
                    &k.k("max_ejection_percent"),
                    format!("expected 0 ..= 100, found {pct}"),
                );
            }
            PassiveHealth::Envoy {
                consecutive_5xx: count("consecutive_5xx", ph.consecutive_5xx, 5)?,
                consecutive_gateway_failure: count(
                    "consecutive_gateway_failure",
                    ph.consecutive_gateway_failure,
                    5,
                )?,
                enforcing_5xx: enforcing(
                    "enforcing_consecutive_5xx",
                    ph.enforcing_consecutive_5xx,
                    100,
                )?,
                enforcing_gateway: enforcing(
                    "enforcing_consecutive_gateway_failure",
                    ph.enforcing_consecutive_gateway_failure,
                    0,
                )?,
                interval_ns: time("interval", ph.interval, 10.0, MIN_OUTLIER_INTERVAL_S)?,
                base_ejection_ns,
                max_ejection_ns,
                max_ejection_percent: pct,
            }
        }
        Product::Haproxy | Product::Alb => PassiveHealth::Haproxy {
            observe: match ph.observe {
                Some(RawObserve::Layer4) => Observe::Layer4,
                None | Some(RawObserve::Layer7) => Observe::Layer7,
            },
            error_limit: count("error_limit", ph.error_limit, 10)?,
            on_error: match ph.on_error {
                Some(RawOnError::Fastinter) => OnError::Fastinter,
                None | Some(RawOnError::FailCheck) => OnError::FailCheck,
                Some(RawOnError::SuddenDeath) => OnError::SuddenDeath,
                Some(RawOnError::MarkDown) => OnError::MarkDown,
            },
        },
    })
}

/// `[[strategies]] retry = { policy, attempts, on, redispatch,
/// budget_percent, min_retry_concurrency }`: the policy's product defaults,
/// then each key given; attempts 0 to [`MAX_LB_RETRIES`], a budget of 0 to
/// 100 % with at least one retry at once.
pub(super) fn lb_retry(k: &KeyPath, raw: &RawLbRetry) -> R<LbRetry> {
    let policy = match raw.policy.unwrap_or(RawRetryPolicy::Once) {
        RawRetryPolicy::Once => RetryPolicy::Once,
        RawRetryPolicy::Nginx => RetryPolicy::Nginx,
        RawRetryPolicy::Envoy => RetryPolicy::Envoy,
        RawRetryPolicy::Haproxy => RetryPolicy::Haproxy,
    };
    let mut r = LbRetry::preset(policy);
    if let Some(a) = raw.attempts {
        if a > MAX_LB_RETRIES {
            return problem(
                &k.k("attempts"),
                format!("expected 0 to {MAX_LB_RETRIES} retries of one attempt, found {a}"),
            );
        }
        // nginx's `proxy_next_upstream_tries 0` is "no limit but the pool".
        r.attempts = match (policy, a) {
            (RetryPolicy::Nginx, 0) => None,
            _ => Some(a),
        };
    }
    if let Some(on) = &raw.on {
        r.on_error = on.contains(&RawRetryOn::Error);
        r.on_overloaded = on.contains(&RawRetryOn::Overloaded);
        r.on_timeout = on.contains(&RawRetryOn::Timeout);
    }
    if let Some(t) = raw.per_try_timeout {
        let tk = k.k("per_try_timeout");
        if t > MAX_PER_TRY_TIMEOUT_S {
            return problem(
                &tk,
                format!("expected at most {MAX_PER_TRY_TIMEOUT_S} s, found {t} s"),
            );
        }
        r.per_try_timeout_ns = Some(secs(&tk, t, false)?);
    }
    if let Some(d) = raw.redispatch {
        r.same_backend = d == RawRedispatch::Last;
    }
    let min_k = k.k("min_retry_concurrency");
    if let Some(m) = raw.min_retry_concurrency {
        if !(1..=MAX_RETRY_CONCURRENCY).contains(&m) {
            return problem(
                &min_k,
                format!("expected 1 to {MAX_RETRY_CONCURRENCY} retries at once, found {m}"),
            );
        }
    }
    match (raw.budget_percent, raw.min_retry_concurrency) {
        (Some(p), m) => {
            let percent = within(&k.k("budget_percent"), p, 0.0, 100.0, "a percentage")?;
            r.budget = Some(RetryBudget {
                percent,
                min_concurrency: m.unwrap_or(DEFAULT_MIN_RETRY_CONCURRENCY),
            });
        }
        (None, Some(m)) => {
            let percent = r.budget.map_or(0.0, |b| b.percent);
            r.budget = Some(RetryBudget {
                percent,
                min_concurrency: m,
            });
        }
        (None, None) => {}
    }
    Ok(r)
}
