//! `[backends] addresses`, `names`, `weights` and `address_pool`: the
//! user's own fleet, checked entry by entry (errors name the key and the
//! index).

use super::*;
use crate::scenario::addresses::{AddressPool, FleetSpec, DEFAULT_PORT, MAX_WEIGHT};
use std::net::SocketAddr;

/// The backend count the fleet lists imply (`addresses`, `names`,
/// `weights`), for a `[backends]` without `count`: the first list given.
pub(super) fn implied_count(raw: &RawBackends) -> Option<(usize, &'static str)> {
    [
        ("addresses", raw.addresses.as_ref().map(Vec::len)),
        ("names", raw.names.as_ref().map(Vec::len)),
        ("weights", raw.weights.as_ref().map(Vec::len)),
    ]
    .into_iter()
    .find_map(|(k, n)| n.map(|n| (n, k)))
}

/// Checks that a list has one entry per backend.
fn one_per_backend(k: &KeyPath, key: &str, len: usize, n: usize) -> R<()> {
    if len != n {
        return problem(
            &k.k(key),
            format!(
                "expected one entry per backend ({n}, from `backends.count` or the first list \
                 given), found {len}"
            ),
        );
    }
    Ok(())
}

/// The fleet lists of `[backends]` with `n` backends.
pub(super) fn fleet(raw: &RawBackends, n: usize) -> R<FleetSpec> {
    let k = KeyPath::from("backends");
    let mut spec = FleetSpec::default();
    if let Some(list) = &raw.addresses {
        one_per_backend(&k, "addresses", list.len(), n)?;
        let mut seen: std::collections::HashMap<SocketAddr, usize> =
            std::collections::HashMap::with_capacity(list.len());
        for (i, s) in list.iter().enumerate() {
            let key = k.k("addresses").i(i);
            let Ok(a) = s.trim().parse::<SocketAddr>() else {
                return problem(
                    &key,
                    format!(
                        "expected a socket address `ip:port` (`10.1.0.5:8080`, \
                         `[2001:db8::5]:8080`), found {}",
                        crate::text::quoted(s)
                    ),
                );
            };
            if a.port() == 0 || a.ip().is_unspecified() {
                return problem(
                    &key,
                    format!("expected an address a backend can listen on, found `{a}`"),
                );
            }
            if let Some(j) = seen.insert(a, i) {
                return problem(
                    &key,
                    format!(
                        "expected distinct addresses, found `{a}` again (first at addresses[{j}])"
                    ),
                );
            }
            spec.addresses.push(a);
        }
    }
    if let Some(list) = &raw.names {
        one_per_backend(&k, "names", list.len(), n)?;
        let mut seen: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(list.len());
        for (i, s) in list.iter().enumerate() {
            let key = k.k("names").i(i);
            name(&key, s)?;
            if let Some(j) = seen.insert(s, i) {
                return problem(
                    &key,
                    format!("expected unique names, found `{s}` again (first at names[{j}])"),
                );
            }
        }
        // A name `b7` for another backend than b7 would make `b7` mean two
        // backends in faults and outputs.
        for (i, s) in list.iter().enumerate() {
            let clash = s
                .strip_prefix('b')
                .and_then(|d| d.parse::<usize>().ok())
                .filter(|&j| j != i && Backends::name(j) == *s);
            if let Some(j) = clash {
                return problem(
                    &k.k("names").i(i),
                    format!(
                        "expected a name that is not another backend's number, found `{s}` \
                         (backend b{j} is `{s}` already; give b{i} another name)"
                    ),
                );
            }
        }
        spec.names = list.clone();
    }
    if let Some(list) = &raw.weights {
        one_per_backend(&k, "weights", list.len(), n)?;
        for (i, &w) in list.iter().enumerate() {
            if !(1..=i64::from(MAX_WEIGHT)).contains(&w) {
                return problem(
                    &k.k("weights").i(i),
                    format!("expected a whole weight from 1 to {MAX_WEIGHT} (HAProxy's maximum), found {w}"),
                );
            }
            spec.weights.push(w as u32);
        }
    }
    if let Some(s) = &raw.address_pool {
        let port = spec.addresses.first().map_or(DEFAULT_PORT, |a| a.port());
        let pool = AddressPool::parse(s, port).or_else(|e| problem(&k.k("address_pool"), e.0))?;
        spec.pool = Some(pool);
    }
    Ok(spec)
}

/// Cross-checks the pool against the run: a fleet of its own addresses
/// whose run launches instances needs a pool for them, and the pool must
/// hold at least `most` addresses besides the starting fleet's (`most`:
/// the most instances the run can hold at once).
pub(super) fn check_pool(spec: &FleetSpec, n: usize, launches: bool, most: u64) -> R<()> {
    let k = KeyPath::from("backends");
    let Some(pool) = spec.pool else {
        if launches && !spec.addresses.is_empty() {
            return problem(
                &k.k("address_pool"),
                "required key `address_pool` is missing: this run launches instances (deploys \
                 or autoscaling) and the fleet has `addresses` of its own, so new instances need \
                 addresses from your network (e.g. `address_pool = \"10.1.2.0/24\"`)",
            );
        }
        return Ok(());
    };
    if let Some(a) = spec
        .addresses
        .iter()
        .find(|a| a.is_ipv4() != pool.network.is_ipv4())
    {
        return problem(
            &k.k("address_pool"),
            format!(
                "expected a block of the fleet's address family (`{a}` is IPv{}), found `{pool}`",
                if a.is_ipv4() { 4 } else { 6 }
            ),
        );
    }
    let taken = (0..n)
        .filter(|&i| pool.contains(spec.initial_addr(i).ip()))
        .count() as u64;
    let free = pool.hosts().saturating_sub(taken);
    if free < most {
        return problem(
            &k.k("address_pool"),
            format!(
                "expected a block with at least {most} free addresses (the most instances this run \
                 can hold at once), found `{pool}` with {free}{}; give a wider block",
                if taken > 0 {
                    format!(" ({taken} of its addresses are in `addresses`)")
                } else {
                    String::new()
                }
            ),
        );
    }
    Ok(())
}
