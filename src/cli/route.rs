//! `stickysim route`: where does this key land? The routing core's hashes as
//! a tool, hashing each key the way the product does.

use crate::routing::{
    BackendView, HashAlgo, HashKey, HashTable, HashTuning, Health, OnDraining, Pool, StrategySpec,
    TuningError, MAX_MAGLEV_TABLE_SIZE, MAX_RING_POINTS, MAX_RING_SIZE,
};
use anyhow::{bail, Result};
use clap::Args;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

/// Largest `--weights` value (HAProxy's `weight` limit), as the scenario's.
const MAX_WEIGHT: u32 = crate::scenario::addresses::MAX_WEIGHT;

#[derive(Debug, Args)]
#[command(after_help = super::examples::ROUTE)]
pub struct RouteArgs {
    /// Hash algorithm: modulo, nginx_ip_hash, haproxy_source, ketama,
    /// envoy_ring, maglev, jump, rendezvous, nginx_hash, haproxy_consistent.
    #[arg(long, value_name = "ALGO", required_unless_present = "scenario")]
    pub hash: Option<String>,
    /// Backends as `ip:port`, comma-separated, in configuration order.
    #[arg(
        long,
        value_name = "ADDR[,ADDR…]",
        value_delimiter = ',',
        required_unless_present = "scenario"
    )]
    pub backends: Vec<String>,
    /// Take the fleet (`[backends] addresses`, `weights`) and the hash with
    /// its tuning from a scenario's strategy, as `run` builds them.
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with_all = ["hash", "backends", "weights", "table_size", "min_ring_size", "hash_function", "avalanche"]
    )]
    pub scenario: Option<std::path::PathBuf>,
    /// With --scenario: the hashing strategy (its `name`); may be left out
    /// when the scenario has one hashing strategy.
    #[arg(long, value_name = "NAME", requires = "scenario")]
    pub strategy: Option<String>,
    /// With --scenario: override a scenario key, as `run --set KEY=VALUE` does.
    #[arg(long = "set", value_name = "KEY=VALUE", requires = "scenario")]
    pub set: Vec<String>,
    /// Weights, one per backend (default 1 each).
    #[arg(long, value_name = "W[,W…]", value_delimiter = ',')]
    pub weights: Vec<String>,
    /// Backends marked down (must be among `--backends`).
    #[arg(long, value_name = "ADDR[,ADDR…]", value_delimiter = ',')]
    pub down: Vec<String>,
    /// Maglev table size (prime; Envoy default 65537).
    #[arg(long, value_name = "N")]
    pub table_size: Option<u64>,
    /// Envoy ring hash minimum ring size (default 1024).
    #[arg(long, value_name = "N")]
    pub min_ring_size: Option<u64>,
    /// HAProxy `hash-type` function for string keys: sdbm (default), djb2,
    /// wt6, crc32 (haproxy_source, haproxy_consistent).
    #[arg(long, value_name = "FN")]
    pub hash_function: Option<String>,
    /// HAProxy `hash-type … avalanche`: full_hash over the key's hash.
    #[arg(long)]
    pub avalanche: bool,
    /// Treat each KEY as a decimal 64-bit hash value fed straight to the table.
    #[arg(long, conflicts_with = "hex_key")]
    pub raw_key: bool,
    /// Treat each KEY as bytes written in hex (`0a1b…`): a binary header
    /// value, hashed as its bytes.
    #[arg(long)]
    pub hex_key: bool,
    /// Print a JSON array on stdout, one object per key in the order given:
    /// `{"key": …, "backend": "ip:port"}` (`null` when every backend is down).
    #[arg(long)]
    pub json: bool,
    /// Keys: client addresses (`192.0.2.7`, `2001:db8::1`) or any string.
    #[arg(required = true, value_name = "KEY")]
    pub keys: Vec<String>,
}

fn parse_addr(flag: &str, s: &str) -> Result<SocketAddr> {
    match s.trim().parse::<SocketAddr>() {
        Ok(a) => Ok(a),
        Err(_) => bail!(
            "{flag}: expected an address `ip:port` (e.g. `10.0.0.1:8080` or `[2001:db8::1]:80`), found `{s}`"
        ),
    }
}

/// What a lookup needs: the hash, its tuning, and the backends with weights.
type Fleet = (HashAlgo, HashTuning, Vec<SocketAddr>, Vec<u32>);

/// The fleet and hash of a scenario's hashing strategy (`--scenario`).
fn from_scenario(path: &std::path::Path, args: &RouteArgs) -> Result<Fleet> {
    let sc = crate::scenario::load(path, &args.set)?;
    let hashing: Vec<(&str, HashAlgo, HashTuning)> = sc
        .strategies
        .iter()
        .filter_map(|st| match &st.spec {
            StrategySpec::SourceIp { hash, tuning, .. }
            | StrategySpec::Header { hash, tuning, .. }
            | StrategySpec::BoundedLoad { hash, tuning, .. } => {
                Some((st.name.as_str(), *hash, *tuning))
            }
            _ => None,
        })
        .collect();
    let names = || {
        hashing
            .iter()
            .map(|(n, _, _)| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (_, hash, tuning) = match &args.strategy {
        Some(want) => match hashing.iter().find(|(n, _, _)| n == want) {
            Some(x) => *x,
            None if sc.strategies.iter().any(|s| &s.name == want) => bail!(
                "--strategy: `{want}` does not hash (route answers for source_ip, header and                  bounded_load strategies); expected one of {}",
                names()
            ),
            None => bail!(
                "--strategy: expected one of the scenario's hashing strategies ({}), found `{want}`",
                names()
            ),
        },
        None => match hashing.as_slice() {
            [one] => *one,
            [] => bail!(
                "--scenario: `{}` has no hashing strategy (source_ip, header, bounded_load)",
                path.display()
            ),
            _ => bail!(
                "--strategy: required, the scenario has several hashing strategies ({})",
                names()
            ),
        },
    };
    let fleet = &sc.backends.fleet;
    let n = sc.backends.count();
    Ok((
        hash,
        tuning,
        (0..n).map(|i| fleet.initial_addr(i)).collect(),
        (0..n).map(|i| fleet.weight(i)).collect(),
    ))
}

pub(super) fn run(args: RouteArgs) -> Result<ExitCode> {
    let (hash, tuning, addrs, weights) = match &args.scenario {
        Some(path) => from_scenario(path, &args)?,
        None => from_flags(&args)?,
    };
    lookup(&args, hash, tuning, &addrs, &weights)
}

/// The fleet and hash of `--hash`, `--backends`, `--weights` and the tuning flags.
fn from_flags(args: &RouteArgs) -> Result<Fleet> {
    let name = args.hash.as_deref().unwrap_or_default();
    let Some(hash) = HashAlgo::from_name(name) else {
        let names: Vec<&str> = HashAlgo::ALL.iter().map(|h| h.name()).collect();
        bail!(
            "--hash: expected one of {}, found `{}`",
            names.join(", "),
            name
        );
    };
    let addrs: Vec<SocketAddr> = args
        .backends
        .iter()
        .map(|s| parse_addr("--backends", s))
        .collect::<Result<_>>()?;
    for (i, a) in addrs.iter().enumerate() {
        if addrs[..i].contains(a) {
            bail!("--backends: expected distinct addresses, found `{a}` twice");
        }
    }
    let weights: Vec<u32> = if args.weights.is_empty() {
        vec![1; addrs.len()]
    } else {
        if args.weights.len() != addrs.len() {
            bail!(
                "--weights: expected one weight per backend ({}), found {}",
                addrs.len(),
                args.weights.len()
            );
        }
        args.weights
            .iter()
            .map(|w| match w.trim().parse::<u32>() {
                Ok(0) => bail!("--weights: expected weights of at least 1, found 0"),
                // HAProxy's maximum; it also bounds ketama's 160 points per
                // weight unit and HAProxy's weighted map to sane sizes.
                Ok(n) if n > MAX_WEIGHT => {
                    bail!("--weights: expected weights up to {MAX_WEIGHT} (HAProxy's maximum), found {n}")
                }
                Ok(n) => Ok(n),
                Err(_) => bail!("--weights: expected a positive integer, found `{w}`"),
            })
            .collect::<Result<_>>()?
    };
    let total_weight: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    let points = crate::routing::ring_points(hash, total_weight);
    if points > MAX_RING_POINTS {
        bail!(
            "--weights: expected at most {MAX_RING_POINTS} ring points (backends × weight × points \
             per weight for `{}`), found {points} (~{} MB); lower the weights or use fewer backends",
            hash.name(),
            points * 12 / 1_000_000
        );
    }
    let mut tuning = HashTuning::check(hash, args.table_size, args.min_ring_size).or_else(|e| match e {
        TuningError::TableSizeNotMaglev(h) => bail!(
            "--table-size: applies to `--hash maglev` only, found `--hash {}`",
            h.name()
        ),
        TuningError::TableSizeNotPrime(m) => bail!(
            "--table-size: expected a prime number up to {MAX_MAGLEV_TABLE_SIZE} (e.g. 65537), found {m}"
        ),
        TuningError::RingSizeNotEnvoyRing(h) => bail!(
            "--min-ring-size: applies to `--hash envoy_ring` only, found `--hash {}`",
            h.name()
        ),
        TuningError::RingSizeOutOfRange(r) => {
            bail!("--min-ring-size: expected a ring size from 1 to {MAX_RING_SIZE}, found {r}")
        }
    })?;
    if args.table_size.is_some() && tuning.table_size <= addrs.len() as u64 {
        bail!(
            "--table-size: expected a prime larger than the {} backends (each needs a slot), found {}",
            addrs.len(),
            tuning.table_size
        );
    }
    let haproxy = matches!(hash, HashAlgo::HaproxySource | HashAlgo::HaproxyConsistent);
    if let Some(f) = &args.hash_function {
        if !haproxy {
            bail!(
                "--hash-function: applies to `--hash haproxy_source` or `haproxy_consistent` only, found `--hash {}`",
                hash.name()
            );
        }
        let Some(f) = crate::routing::haproxy_chash::HaproxyFn::from_name(f) else {
            bail!("--hash-function: expected one of sdbm, djb2, wt6, crc32, found `{f}`");
        };
        tuning.haproxy_fn = f;
    }
    if args.avalanche {
        if !haproxy {
            bail!(
                "--avalanche: applies to `--hash haproxy_source` or `haproxy_consistent` only, found `--hash {}`",
                hash.name()
            );
        }
        tuning.avalanche = true;
    }
    Ok((hash, tuning, addrs, weights))
}

/// Looks every key up in `hash`'s table over `addrs` and prints where it lands.
fn lookup(
    args: &RouteArgs,
    hash: HashAlgo,
    tuning: HashTuning,
    addrs: &[SocketAddr],
    weights: &[u32],
) -> Result<ExitCode> {
    let mut pool = Pool::new(
        addrs
            .iter()
            .zip(weights)
            .map(|(&addr, &weight)| BackendView {
                addr,
                weight,
                health: Health::Up,
                outstanding: 0,
                capacity: None,
            })
            .collect(),
    );
    for d in &args.down {
        let a = parse_addr("--down", d)?;
        let Some(i) = addrs.iter().position(|x| *x == a) else {
            bail!("--down: expected one of the --backends, found `{a}`");
        };
        pool.set_health(crate::routing::BackendId(i as u32), Health::Down);
    }
    if args.raw_key && hash == HashAlgo::NginxIpHash {
        bail!("--raw-key: nginx_ip_hash has no 64-bit hash stage (it folds address octets); pass addresses");
    }
    // Parse every key before printing anything.
    let mut keys: Vec<(String, Option<u64>, Option<IpAddr>)> = Vec::with_capacity(args.keys.len());
    let mut hex: Vec<Vec<u8>> = Vec::new();
    if args.hex_key && hash == HashAlgo::NginxIpHash {
        bail!("--hex-key: nginx_ip_hash hashes client addresses; pass addresses");
    }
    for k in &args.keys {
        if args.hex_key {
            let Some(bytes) = parse_hex(k) else {
                bail!("KEY: with --hex-key expected bytes in hex (an even number of 0-9a-f), found `{k}`");
            };
            hex.push(bytes);
            keys.push((k.clone(), None, None));
        } else if args.raw_key {
            match k.parse::<u64>() {
                Ok(v) => keys.push((k.clone(), Some(v), None)),
                Err(_) => bail!("KEY: with --raw-key expected a decimal 64-bit value, found `{k}`"),
            }
        } else {
            let ip = k.parse::<IpAddr>().ok();
            if ip.is_none() && hash == HashAlgo::NginxIpHash {
                bail!("KEY: nginx_ip_hash hashes client addresses; expected an IP address, found `{k}`");
            }
            keys.push((k.clone(), None, ip));
        }
    }
    let mut table = HashTable::new(hash, tuning);
    table.build(&pool, OnDraining::Reroute, hash.skips_unusable());
    let mut out = String::new();
    let mut objects = Vec::with_capacity(keys.len());
    for (k, (text, raw, ip)) in keys.iter().enumerate() {
        let key = match (raw, ip, hex.get(k)) {
            (Some(v), _, _) => HashKey::Raw(*v),
            (None, Some(ip), _) => HashKey::Ip(*ip),
            (None, None, Some(bytes)) => HashKey::Bytes(bytes),
            (None, None, None) => HashKey::Bytes(text.as_bytes()),
        };
        let found = table
            .lookup(key, &pool, OnDraining::Reroute)
            .map(|b| pool.get(b).addr.to_string());
        if args.json {
            objects.push(serde_json::json!({ "key": text, "backend": found }));
            continue;
        }
        let backend = found.unwrap_or_else(|| "-".to_string());
        out.push_str(text);
        out.push(' ');
        out.push_str(&backend);
        out.push('\n');
    }
    if args.json {
        out = format!("{:#}\n", serde_json::Value::Array(objects));
    }
    super::print_stdout(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// `0a1B…` as bytes; `None` unless an even number of hex digits.
fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}
