//! What `run` and `sweep` both need of a validated scenario: which of its
//! strategies the `--strategy` flags pick, and the hash that names it in
//! every output.

use super::Scenario;
use crate::sim::name_key;

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

/// The hash `stickysim run` records for a validated scenario.
pub fn scenario_hash(sc: &Scenario) -> String {
    format!("{:016x}", name_key(&format!("{sc:?}")))
}
