//! The bundled scenarios load and name the strategies their comments discuss.

use std::path::Path;
use stickysim::routing::{HashAlgo, Learned, StrategySpec};

fn load(name: &str) -> stickysim::scenario::Scenario {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    stickysim::scenario::load(&p, &[]).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn corporate_nat_loads() {
    let sc = load("corporate_nat.toml");
    assert!(sc.strategies.iter().any(|s| matches!(
        s.spec,
        StrategySpec::SourceIp {
            hash: HashAlgo::NginxIpHash,
            ..
        }
    )));
    assert!(sc.clients[0].users_per_ip >= 1000);
}

#[test]
fn mobile_api_loads() {
    let sc = load("mobile_api.toml");
    assert!(sc
        .clients
        .iter()
        .all(|c| c.token_header && c.token_rotation_ns > 0));
    assert!(sc.strategies.iter().any(|s| matches!(
        s.spec,
        StrategySpec::Learn {
            learned: Learned::SessionId,
            ..
        }
    )));
    assert!(sc
        .strategies
        .iter()
        .any(|s| matches!(s.spec, StrategySpec::Header { .. })));
}
