//! Your fleet (`[backends] addresses`, `names`, `weights`,
//! `address_pool`): a run on the fleet's addresses routes every key where
//! `stickysim route --scenario` says it goes, the lists are checked entry
//! by entry, names reach the data files, and launched instances draw from
//! the pool.

use crate::common::bin;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use stickysim::engine::{run_strategy_traced, TraceKind};
use stickysim::routing::BackendId;
use stickysim::scenario::{self, Scenario};

const FLEET: &str = r#"
[simulation]
name = "fleet"
duration = 300
seed = 9

[workload]
session_rate = 4
requests_per_session = { dist = "geometric", mean = 3 }
think_time = { dist = "exponential", mean = 5 }
service_time = { dist = "exponential", mean = 0.02 }

[[clients]]
name = "home"
share = 0.8
users = 5000
token_header = true

[[clients]]
name = "v6"
share = 0.2
users = 500
ipv6 = true
token_header = true

[backends]
addresses = ["10.1.0.5:8080", "10.1.0.6:8080", "10.1.7.20:8080", "192.168.3.4:80", "10.1.0.9:8080", "172.16.0.1:443"]
names = ["web-a", "web-b", "web-c", "web-d", "web-e", "web-f"]
weights = [3, 1, 2, 1, 1, 2]
workers = 8

[[strategies]]
name = "ring"
kind = "source_ip"
hash = "envoy_ring"

[[strategies]]
name = "maglev"
kind = "source_ip"
hash = "maglev"
table_size = 257

[[strategies]]
name = "ip-hash"
kind = "source_ip"
hash = "nginx_ip_hash"

[[strategies]]
name = "ketama"
kind = "source_ip"
hash = "ketama"

[[strategies]]
name = "hdr"
kind = "header"
hash = "envoy_ring"
"#;

fn load(text: &str) -> Result<Scenario, scenario::ScenarioError> {
    scenario::from_str(text, "fleet.toml", "fleet", &[])
}

/// Per distinct key of strategy `s`'s run: the backend address its first
/// request was accepted on. The key is the source address, or the header
/// token's bytes in hex for `header`.
fn engine_answers(sc: &Scenario, s: usize, header: bool) -> BTreeMap<String, SocketAddr> {
    let out = run_strategy_traced(sc, s);
    let mut sent: BTreeMap<u64, (IpAddr, Option<u64>)> = BTreeMap::new();
    let mut found = BTreeMap::new();
    for t in &out.trace {
        match t.what {
            TraceKind::Sent { src, header } => {
                sent.insert(t.session, (src, header));
            }
            TraceKind::Accepted(BackendId(b)) => {
                let (src, token) = sent[&t.session];
                let key = if header {
                    let bytes = token.expect("the clients send tokens").to_le_bytes();
                    bytes.iter().map(|b| format!("{b:02x}")).collect()
                } else {
                    src.to_string()
                };
                let addr = sc.backends.fleet.initial_addr(b as usize);
                // Every request of a key lands in one place (nothing fails).
                if let Some(prev) = found.insert(key.clone(), addr) {
                    assert_eq!(prev, addr, "{key} moved between requests");
                }
            }
            TraceKind::Failed(_) | TraceKind::Rejected => panic!("nothing fails in this run"),
            _ => {}
        }
    }
    found
}

/// `stickysim route --scenario` for `keys`, as key → backend.
fn route_answers(
    file: &std::path::Path,
    strategy: &str,
    keys: &[&String],
    hex: bool,
) -> Vec<(String, String)> {
    let mut cmd = bin();
    cmd.arg("route")
        .arg("--scenario")
        .arg(file)
        .args(["--strategy", strategy, "--json"]);
    if hex {
        cmd.arg("--hex-key");
    }
    let out = cmd.args(keys.iter().map(|k| k.as_str())).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["key"].as_str().unwrap().to_string(),
                o["backend"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_run_on_the_fleets_addresses_routes_every_key_where_route_says() {
    let sc = load(FLEET).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, FLEET).unwrap();
    for (s, st) in sc.strategies.iter().enumerate() {
        let header = st.name == "hdr";
        let answers = engine_answers(&sc, s, header);
        assert!(answers.len() > 500, "{}: {} keys", st.name, answers.len());
        let keys: Vec<&String> = answers.keys().collect();
        let routed = route_answers(&file, &st.name, &keys, header);
        assert_eq!(routed.len(), keys.len());
        let mut used = std::collections::BTreeSet::new();
        for (key, backend) in routed {
            assert_eq!(
                backend,
                answers[&key].to_string(),
                "{}: key {key} went to {} in the run, route says {backend}",
                st.name,
                answers[&key]
            );
            used.insert(backend);
        }
        // The keys spread over the real fleet, not a default one.
        assert!(used.len() >= 5, "{}: {used:?}", st.name);
        assert!(used.iter().all(|a| !a.starts_with("10.0.0.")), "{used:?}");
    }
}

#[test]
fn route_with_a_scenario_needs_a_hashing_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, FLEET).unwrap();
    let out = bin()
        .args(["route", "--scenario"])
        .arg(&file)
        .arg("192.0.2.7")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--strategy") && err.contains("`ring`"),
        "{err}"
    );
    let out = bin()
        .args(["route", "--scenario"])
        .arg(&file)
        .args(["--strategy", "nope", "192.0.2.7"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = bin()
        .args(["route", "--hash", "ketama", "--scenario"])
        .arg(&file)
        .arg("192.0.2.7")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "--hash and --scenario conflict");
}

/// The message of the error `text` gives, with the key it names.
fn error_of(text: &str) -> String {
    load(text).map(|_| ()).unwrap_err().to_string()
}

fn with_backends(backends: &str) -> String {
    let start = FLEET.find("[backends]").unwrap();
    let end = FLEET.find("[[strategies]]").unwrap();
    format!(
        "{}[backends]\n{backends}\n{}",
        &FLEET[..start],
        &FLEET[end..]
    )
}

#[test]
fn fleet_lists_are_checked_entry_by_entry() {
    for (backends, key, want) in [
        (
            r#"addresses = ["10.1.0.5:8080", "10.1.0.6"]"#,
            "backends.addresses[1]",
            "ip:port",
        ),
        (
            r#"addresses = ["10.1.0.5:8080", "10.1.0.5:8080"]"#,
            "backends.addresses[1]",
            "first at addresses[0]",
        ),
        (
            r#"count = 3
addresses = ["10.1.0.5:8080", "10.1.0.6:8080"]"#,
            "backends.addresses",
            "one entry per backend (3",
        ),
        (
            r#"addresses = ["10.1.0.5:8080", "10.1.0.6:8080"]
names = ["a", "a"]"#,
            "backends.names[1]",
            "unique",
        ),
        (
            r#"addresses = ["10.1.0.5:8080", "10.1.0.6:8080"]
names = ["b1", "x"]"#,
            "backends.names[0]",
            "another backend's number",
        ),
        (
            r#"addresses = ["10.1.0.5:8080", "10.1.0.6:8080"]
weights = [1, 0]"#,
            "backends.weights[1]",
            "1 to 256",
        ),
        (
            r#"addresses = ["10.1.0.5:8080", "10.1.0.6:8080"]
address_pool = "10.1.2.7/24""#,
            "backends.address_pool",
            "did you mean `10.1.2.0/24`",
        ),
        (
            r#"addresses = ["10.1.0.5:8080", "10.1.0.6:8080"]
address_pool = "2001:db8::/64""#,
            "backends.address_pool",
            "address family",
        ),
    ] {
        let e = error_of(&with_backends(backends));
        assert!(e.contains(key) && e.contains(want), "{backends}:\n{e}");
    }
}

#[test]
fn launched_instances_need_a_pool_big_enough() {
    let deploy = "\n[[deploys]]\nat = 100\nbatch_size = 2\n";
    let text = with_backends(r#"addresses = ["10.1.0.5:8080", "10.1.0.6:8080"]"#) + deploy;
    let e = error_of(&text);
    assert!(
        e.contains("backends.address_pool") && e.contains("required"),
        "{e}"
    );
    // Two backends plus a batch of two: four at once; a /30 has two.
    let text = with_backends(
        r#"addresses = ["10.1.0.5:8080", "10.1.0.6:8080"]
address_pool = "10.1.2.0/30""#,
    ) + deploy;
    let e = error_of(&text);
    assert!(
        e.contains("at least 4 free addresses") && e.contains("with 2"),
        "{e}"
    );
    let text = with_backends(
        r#"addresses = ["10.1.0.5:8080", "10.1.0.6:8080"]
address_pool = "10.1.2.0/29""#,
    ) + deploy;
    load(&text).unwrap();
}

/// After a deploy has replaced every backend, the fleet is the pool's
/// first addresses: a ring hash over them (order does not matter to it)
/// sends each key where `route --backends POOL…` does.
#[test]
fn a_deploy_replaces_the_fleet_with_pool_addresses() {
    let text = FLEET
        .replace(
            r#"weights = [3, 1, 2, 1, 1, 2]"#,
            "address_pool = \"10.9.0.0/28\"",
        )
        .replace("duration = 300", "duration = 900")
        + "\n[[deploys]]\nat = 60\nbatch_size = 6\nderegistration_delay = 0\nboot_time = 10\n";
    let sc = load(&text).unwrap();
    let s = sc.strategies.iter().position(|s| s.name == "ring").unwrap();
    let out = run_strategy_traced(&sc, s);
    let mut sent: BTreeMap<u64, IpAddr> = BTreeMap::new();
    let mut late: BTreeMap<String, u32> = BTreeMap::new();
    for t in &out.trace {
        match t.what {
            TraceKind::Sent { src, .. } => {
                sent.insert(t.session, src);
            }
            // Well after the deploy: every key on a replacement.
            TraceKind::Accepted(BackendId(b)) if t.t > 400_000_000_000 => {
                late.insert(sent[&t.session].to_string(), b);
            }
            _ => {}
        }
    }
    assert!(late.len() > 300, "{}", late.len());
    let pool: Vec<String> = (1..=6).map(|i| format!("10.9.0.{i}:8080")).collect();
    let keys: Vec<&String> = late.keys().collect();
    let got = bin()
        .args([
            "route",
            "--hash",
            "envoy_ring",
            "--json",
            "--backends",
            &pool.join(","),
        ])
        .args(keys.iter().map(|k| k.as_str()))
        .output()
        .unwrap();
    assert!(got.status.success());
    let v: serde_json::Value = serde_json::from_slice(&got.stdout).unwrap();
    // Slot → address, learned from the answers; each slot must be one address.
    let mut slot_addr: BTreeMap<u32, String> = BTreeMap::new();
    for o in v.as_array().unwrap() {
        let key = o["key"].as_str().unwrap();
        let addr = o["backend"].as_str().unwrap().to_string();
        let prev = slot_addr.insert(late[key], addr.clone());
        assert!(
            prev.is_none_or(|p| p == addr),
            "slot b{} is two addresses",
            late[key]
        );
    }
    assert_eq!(slot_addr.len(), 6, "{slot_addr:?}");
}

#[test]
fn names_reach_the_data_files_only_when_given() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fleet.toml");
    std::fs::write(&file, FLEET).unwrap();
    let out = dir.path().join("out");
    bin()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .args(["--quiet", "--no-charts", "--strategy", "ring"])
        .assert()
        .success();
    let csv = std::fs::read_to_string(out.join("backends.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with("strategy,backend,backend_name,t_start_s"),
        "{header}"
    );
    assert!(csv.contains(",b2,web-c,"), "b2 is web-c");
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(summary.contains("\"backend_names\""));
    // And the report reads the files back.
    bin()
        .arg("report")
        .arg(&out)
        .arg("--no-charts")
        .assert()
        .success();
    // Without names: no column.
    let plain = FLEET.replace(
        r#"names = ["web-a", "web-b", "web-c", "web-d", "web-e", "web-f"]"#,
        "",
    );
    std::fs::write(&file, plain).unwrap();
    let out2 = dir.path().join("out2");
    bin()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out2)
        .args(["--quiet", "--no-charts", "--strategy", "ring"])
        .assert()
        .success();
    let csv = std::fs::read_to_string(out2.join("backends.csv")).unwrap();
    assert!(
        csv.starts_with("strategy,backend,t_start_s"),
        "{}",
        &csv[..60]
    );
    assert!(!std::fs::read_to_string(out2.join("summary.json"))
        .unwrap()
        .contains("backend_names"));
}
