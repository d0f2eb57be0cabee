//! What `run` and `sweep` both need of a validated scenario: which of its
//! strategies the `--strategy` flags pick, and the hash that names it in
//! every output.

use super::Scenario;

/// The strategies `--strategy NAME` flags pick (`run` and `sweep`), as
/// indices into `names` in flag order, each once; every strategy when no
/// flag is given. `Err` holds the first name `names` does not have.
pub fn select_strategies<'a>(names: &[&str], wanted: &'a [String]) -> Result<Vec<usize>, &'a str> {
    let mut which = Vec::new();
    for name in wanted {
        match names.iter().position(|n| n == name) {
            Some(i) if !which.contains(&i) => which.push(i),
            Some(_) => {}
            None => return Err(name),
        }
    }
    if which.is_empty() {
        which = (0..names.len()).collect();
    }
    Ok(which)
}

/// The hash `stickysim run` records for a validated scenario: xxHash64 of
/// its canonical serialisation — the validated scenario (after `--set`
/// overrides and defaults) as JSON, fields in declaration order,
/// distributions by their parameters — so it changes exactly when what is
/// simulated changes, not with the compiler's `Debug` output.
pub fn scenario_hash(sc: &Scenario) -> String {
    let canonical = serde_json::to_vec(sc).expect("a validated scenario serialises");
    format!("{:016x}", xxhash_rust::xxh64::xxh64(&canonical, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"
        [simulation]
        duration = 600
        [workload]
        session_rate = 2.0
        requests_per_session = { dist = "geometric", mean = 5 }
        think_time = { dist = "exponential", mean = 5 }
        service_time = { dist = "lognormal", mean = 0.05, cv = 1.0 }
        [backends]
        count = 3
        [[strategies]]
        name = "rr"
        kind = "round_robin"
    "#;

    /// The same scenario written with its sections and keys in another order.
    const A_REORDERED: &str = r#"
        [[strategies]]
        kind = "round_robin"
        name = "rr"
        [backends]
        count = 3
        [workload]
        service_time = { cv = 1.0, dist = "lognormal", mean = 0.05 }
        think_time = { mean = 5, dist = "exponential" }
        requests_per_session = { mean = 5, dist = "geometric" }
        session_rate = 2.0
        [simulation]
        duration = 600
    "#;

    fn hash(text: &str, set: &[&str]) -> String {
        let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        scenario_hash(&crate::scenario::from_str(text, "a.toml", "a", &set).unwrap())
    }

    #[test]
    fn scenario_hash_follows_content_not_spelling() {
        let h = hash(A, &[]);
        assert_eq!(h.len(), 16);
        assert_eq!(h, hash(A_REORDERED, &[]));
        // An override that restates a default changes nothing simulated.
        assert_eq!(h, hash(A, &["backends.count=3"]));
        assert_ne!(h, hash(A, &["backends.count=4"]));
        assert_ne!(h, hash(A, &["workload.think_time.mean=6"]));
    }

    #[test]
    fn select_strategies_keeps_flag_order_once() {
        let names = ["a", "b", "c"];
        assert_eq!(select_strategies(&names, &[]), Ok(vec![0, 1, 2]));
        let wanted = ["c".to_string(), "a".to_string(), "c".to_string()];
        assert_eq!(select_strategies(&names, &wanted), Ok(vec![2, 0]));
        let bad = ["x".to_string()];
        assert_eq!(select_strategies(&names, &bad), Err("x"));
    }
}
