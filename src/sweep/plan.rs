//! Expanding and validating a sweep before anything runs.

use super::*;
use crate::scenario::{scenario_hash, select_strategies};

/// What to sweep, as the command line says it.
#[derive(Debug, Clone, Default)]
pub struct SweepRequest {
    /// The scenario file.
    pub scenario: PathBuf,
    /// `--set KEY=VALUE` overrides applied to every grid point.
    pub set: Vec<String>,
    /// `--param KEY=VALUES`, added to (or replacing) the file's `[sweep]` params.
    pub params: Vec<String>,
    /// `--replications`, overriding the file's.
    pub replications: Option<u32>,
    /// `--seed`, overriding the file's.
    pub seed: Option<u64>,
    /// Strategies to run, by name; empty = all.
    pub strategies: Vec<String>,
    /// Run every cell, even a strategy no swept parameter affects (same
    /// numbers, more runs; for checking the sharing).
    pub no_share: bool,
}

/// A sweep ready to run: its identity and every grid point's validated scenario.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The sweep's identity.
    pub meta: SweepMeta,
    /// One validated scenario per grid point (seed = the master seed).
    pub points: Vec<Scenario>,
    /// For each strategy of `meta.strategies`, its index in the scenario.
    pub strategy_index: Vec<usize>,
}

/// Expands and validates a sweep: every grid point is built and validated
/// before anything runs, so a bad value is reported up front, naming the
/// parameter and the value.
pub fn plan(req: &SweepRequest) -> Result<Plan, SweepError> {
    let src = scenario::read_source(&req.scenario)?;
    plan_text(&src.text, &src.origin, &src.name_hint, req)
}

/// [`plan`] from the scenario's text; `origin` names it in messages.
pub fn plan_text(
    text: &str,
    origin: &str,
    name_hint: &str,
    req: &SweepRequest,
) -> Result<Plan, SweepError> {
    let mut overrides = req.set.clone();
    if let Some(seed) = req.seed {
        overrides.push(format!("simulation.seed={seed}"));
    }
    let (base, file_sweep) = scenario::from_str_with_sweep(text, origin, name_hint, &overrides)?;
    let file_sweep = file_sweep.unwrap_or(spec::SweepSpec {
        replications: None,
        axes: Vec::new(),
    });

    let mut axes = file_sweep.axes;
    let mut from_flags: Vec<String> = Vec::new();
    for flag in &req.params {
        let name = format!("--param {flag}");
        let Some((key, values)) = flag.split_once('=') else {
            return Err(SweepError::flag(
                name,
                "expected KEY=VALUES (e.g. `strategies.sticky.ttl=60,300,900` or \
                 `backends.count=4..16:4`), found no `=`",
            ));
        };
        let key = key.trim();
        spec::check_axis_key(key).map_err(|m| SweepError::flag(&name, m))?;
        if from_flags.iter().any(|k| k == key) {
            return Err(SweepError::flag(
                name,
                format!("`{key}` is given twice; list all its values in one --param"),
            ));
        }
        let values = spec::parse_values(key, values).map_err(|m| SweepError::flag(&name, m))?;
        from_flags.push(key.to_string());
        match axes.iter_mut().find(|a| a.key == key) {
            Some(a) => a.values = values,
            None => axes.push(spec::Axis {
                key: key.to_string(),
                values,
            }),
        }
    }
    let mut params = Vec::new();
    for a in &axes {
        let shown: Vec<String> = a.values.iter().map(display_value).collect();
        for (i, v) in shown.iter().enumerate() {
            if shown[..i].contains(v) {
                return Err(SweepError::flag(
                    format!("parameter {}", a.key),
                    format!("value `{v}` is listed twice"),
                ));
            }
        }
        params.push(Param {
            key: a.key.clone(),
            values: shown,
        });
    }

    let replications = req
        .replications
        .or(file_sweep.replications)
        .unwrap_or(DEFAULT_REPLICATIONS);
    if !(1..=spec::MAX_REPLICATIONS).contains(&replications) {
        return Err(SweepError::flag(
            "--replications",
            format!(
                "expected 1 to {}, found {replications}",
                spec::MAX_REPLICATIONS
            ),
        ));
    }

    let names: Vec<&str> = base.strategies.iter().map(|s| s.name.as_str()).collect();
    let mut strategy_index = select_strategies(&names, &req.strategies).map_err(|name| {
        SweepError::flag(
            format!("--strategy {name}"),
            format!(
                "{origin} has no strategy named `{name}`; its strategies are: {}",
                names.join(", ")
            ),
        )
    })?;
    strategy_index.sort_unstable();
    let strategies: Vec<String> = strategy_index
        .iter()
        .map(|&i| names[i].to_string())
        .collect();

    // Checked: 4096^5 × 16 grid points is 2^64, which wraps to 0 unchecked.
    let n_points = params
        .iter()
        .try_fold(1usize, |n, p| n.checked_mul(p.values.len()))
        .filter(|&n| n <= MAX_POINTS)
        .ok_or_else(|| {
            let sizes: Vec<String> = params.iter().map(|p| p.values.len().to_string()).collect();
            SweepError::flag(
                "sweep",
                format!(
                    "expected at most {MAX_POINTS} grid points (each is validated and kept in \
                     memory while planning), found {} values per parameter",
                    sizes.join(" × ")
                ),
            )
        })?;
    let runs_total = n_points
        .checked_mul(strategies.len())
        .and_then(|x| x.checked_mul(replications as usize))
        .filter(|&n| n <= MAX_RUNS)
        .ok_or_else(|| {
            SweepError::flag(
                "sweep",
                format!(
                    "expected at most {MAX_RUNS} runs, found {n_points} grid points × {} \
                     strategies × {replications} replications",
                    strategies.len()
                ),
            )
        })?;

    let mut meta = SweepMeta {
        format: LOG_FORMAT.into(),
        scenario: base.name.clone(),
        scenario_hash: scenario_hash(&base),
        seed: base.simulation.seed,
        replications,
        params,
        strategies,
        stickysim_version: env!("CARGO_PKG_VERSION").into(),
        fingerprint: String::new(),
        runs_total,
        shard: Shard::ALL,
        shared: Vec::new(),
        decision: Some(crate::report::replicated::DecisionRecord::of(
            &crate::scenario::decision::Decision {
                slos: Vec::new(),
                ..base.decision.clone()
            },
            &[],
        )),
        rho: Vec::new(),
    };

    let mut points = Vec::with_capacity(n_points);
    for point in 0..n_points {
        let idx = meta.point_indices(point);
        let mut o = overrides.clone();
        let mut set_flags = Vec::new();
        for (a, &i) in axes.iter().zip(&idx) {
            let flag = format!("{}={}", a.key, a.values[i]);
            set_flags.push((format!("--set {flag}"), format!("--param {flag}")));
            o.push(flag);
        }
        let sc = scenario::from_str(text, origin, name_hint, &o).map_err(|e| {
            let mut message = e.to_string();
            for (set, param) in &set_flags {
                message = message.replace(set.as_str(), param);
            }
            SweepError::Point {
                point: meta.point_label(point),
                message,
            }
        })?;
        for (name, &i) in meta.strategies.iter().zip(&strategy_index) {
            if sc.strategies.get(i).map(|s| &s.name) != Some(name) {
                return Err(SweepError::Point {
                    point: meta.point_label(point),
                    message: format!(
                        "strategy `{name}` is not strategy {i} here; a sweep cannot rename, \
                         add or remove strategies"
                    ),
                });
            }
        }
        points.push(sc);
    }
    meta.rho = points
        .iter()
        .map(|sc| crate::scenario::sanity::offered_load(sc).rho)
        .collect();
    if !req.no_share {
        meta.shared = shared_strategies(&points, &meta.strategies, &strategy_index);
    }
    meta.runs_total = meta.runs().len();
    meta.fingerprint = meta.compute_fingerprint();
    Ok(Plan {
        meta,
        points,
        strategy_index,
    })
}

/// The strategies (of `names`, at `index` in the scenario) that no grid
/// point changes: with the other strategies left out, their validated
/// scenario hashes the same at every point. A `strategies.<name>.…` key
/// changes only that strategy; workload, backends, faults and simulation
/// keys change every strategy. A strategy's run reads only the scenario's
/// shared sections and its own entry, so one run per replication serves
/// every grid point.
fn shared_strategies(points: &[Scenario], names: &[String], index: &[usize]) -> Vec<String> {
    if points.len() < 2 {
        return Vec::new();
    }
    let alone = |sc: &Scenario, i: usize| {
        let mut one = sc.clone();
        one.strategies = vec![sc.strategies[i].clone()];
        scenario_hash(&one)
    };
    names
        .iter()
        .zip(index)
        .filter(|(_, &i)| {
            let first = alone(&points[0], i);
            points[1..].iter().all(|sc| alone(sc, i) == first)
        })
        .map(|(n, _)| n.clone())
        .collect()
}

/// What a plan costs, computed before anything runs (`sweep --dry-run`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cost {
    /// Cells of the outputs: grid points × strategies × replications.
    pub cells: usize,
    /// Simulations to run (cells minus the shared strategies' copies).
    pub runs: usize,
    /// Simulations sharing saves (`cells − runs`).
    pub saved: usize,
    /// Requests the runs are expected to simulate, from each grid point's
    /// own arithmetic (mean session rate × duration × requests per session).
    pub requests: f64,
}

/// The cost of `plan` (see [`Cost`]).
pub fn cost(plan: &Plan) -> Cost {
    let meta = &plan.meta;
    let cells = meta.points() * meta.strategies.len() * meta.replications as usize;
    let requests = meta
        .runs()
        .iter()
        .map(|id| expected_requests(&plan.points[id.point]))
        .sum();
    Cost {
        cells,
        runs: meta.runs_total,
        saved: cells - meta.runs_total,
        requests,
    }
}

/// Requests one run of `sc` is expected to simulate.
fn expected_requests(sc: &Scenario) -> f64 {
    let load = crate::scenario::sanity::offered_load(sc);
    load.session_rate
        * (sc.simulation.duration_ns as f64 / 1e9)
        * sc.workload.requests_per_session.mean()
}
