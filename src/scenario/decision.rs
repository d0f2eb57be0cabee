//! What a scenario asks and what it requires: the optional `[decision]`
//! table (the question, an objective, constraints) and `[[slo]]`
//! assertions, plus the `--assert` flag's string form. Constraints and
//! assertions share one small grammar, `COLUMN OP NUMBER`, where `COLUMN`
//! is one of [`DECISION_COLUMNS`] and `OP` one of `<`, `<=`, `>`, `>=`,
//! `==`:
//!
//! ```toml
//! [decision]
//! question = "Which stickiness keeps checkout sessions without hotspots?"
//! minimize = "sessions_lost_pct"
//! constraints = ["util_max <= 0.8", "latency_p99_ms <= 500", "rejected_pct <= 0.1"]
//!
//! [[slo]]
//! strategy = "cookie-1d"          # or "all"
//! assert = "sessions_lost_pct < 1"
//! bound = "upper"                 # "mean" (default), "upper" or "lower"
//! ```

use super::error::{did_you_mean, KeyPath, Problem};
pub use crate::metrics::columns::DECISION_COLUMNS;
use serde::Deserialize;
use std::fmt;

/// `[decision]` as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Decision")]
pub struct RawDecision {
    /// The question the scenario answers, in the user's words.
    pub question: Option<String>,
    /// A column to minimise (exclusive with `maximize`).
    pub minimize: Option<String>,
    /// A column to maximise (exclusive with `minimize`).
    pub maximize: Option<String>,
    /// Constraints every acceptable strategy meets, e.g. `"util_max <= 0.8"`.
    pub constraints: Option<Vec<String>>,
}

/// Which value of a replicated column an assertion tests, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Bound")]
pub enum RawBound {
    /// The mean over replications.
    Mean,
    /// The upper end of the 95 % confidence interval.
    Upper,
    /// The lower end of the 95 % confidence interval.
    Lower,
}

/// One `[[slo]]` entry as written.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Slo")]
pub struct RawSlo {
    /// A strategy's name, or `"all"`.
    pub strategy: String,
    /// The assertion, e.g. `"sessions_lost_pct < 1"`.
    pub assert: String,
    /// Which value is tested (default `mean`).
    pub bound: Option<RawBound>,
}

/// A comparison operator of the constraint grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
}

impl Op {
    /// Every operator, longest spelling first (the order the parser tries).
    pub const ALL: [Op; 5] = [Op::Le, Op::Ge, Op::Eq, Op::Lt, Op::Gt];

    /// How the operator is written.
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
        }
    }

    /// Whether `lhs OP rhs`.
    pub fn holds(self, lhs: f64, rhs: f64) -> bool {
        match self {
            Op::Lt => lhs < rhs,
            Op::Le => lhs <= rhs,
            Op::Gt => lhs > rhs,
            Op::Ge => lhs >= rhs,
            Op::Eq => lhs == rhs,
        }
    }
}

/// `COLUMN OP NUMBER`, parsed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Constraint {
    /// One of [`DECISION_COLUMNS`].
    pub column: &'static str,
    /// The comparison.
    pub op: Op,
    /// The number compared against.
    pub value: f64,
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.column, self.op.symbol(), self.value)
    }
}

impl Constraint {
    /// Whether `v` (the column's value) meets the constraint.
    pub fn holds(&self, v: f64) -> bool {
        self.op.holds(v, self.value)
    }

    /// By how much `v` misses the constraint (its distance to the bound,
    /// ≥ 0); 0 when it holds.
    pub fn shortfall(&self, v: f64) -> f64 {
        if self.holds(v) {
            0.0
        } else {
            (v - self.value).abs()
        }
    }
}

/// The column list for error messages.
fn column_list() -> String {
    DECISION_COLUMNS.join(", ")
}

/// A column name of [`DECISION_COLUMNS`], or an error naming the valid ones.
pub fn column(name: &str) -> Result<&'static str, String> {
    DECISION_COLUMNS
        .iter()
        .find(|c| **c == name)
        .copied()
        .ok_or_else(|| {
            format!(
                "unknown column `{name}`{}; columns are: {}",
                did_you_mean(name, DECISION_COLUMNS),
                column_list()
            )
        })
}

/// Parses `COLUMN OP NUMBER` (spaces optional), e.g. `"util_max <= 0.8"`.
/// Errors quote the constraint and say what was expected.
pub fn parse_constraint(text: &str) -> Result<Constraint, String> {
    let fail = |what: String| format!("constraint \"{}\": {what}", text.escape_debug());
    let form =
        "the form is `COLUMN OP NUMBER`, e.g. `util_max <= 0.8`, with OP one of <, <=, >, >=, ==";
    let s = text.trim();
    let name_end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    let name = &s[..name_end];
    if name.is_empty() {
        return Err(fail(format!("expected a column name first; {form}")));
    }
    let column = column(name).map_err(fail)?;
    let rest = s[name_end..].trim_start();
    let Some(op) = Op::ALL.into_iter().find(|op| rest.starts_with(op.symbol())) else {
        let found = rest.split_whitespace().next().unwrap_or("nothing");
        return Err(fail(format!(
            "expected an operator after `{name}`, found `{found}`; {form}"
        )));
    };
    let num = rest[op.symbol().len()..].trim();
    let value = match num.parse::<f64>() {
        Ok(v) if v.is_finite() => v,
        _ if num.is_empty() => {
            return Err(fail(format!(
                "expected a number after `{}`; {form}",
                op.symbol()
            )))
        }
        _ => {
            return Err(fail(format!(
                "expected a finite number after `{}`, found `{num}`; {form}",
                op.symbol()
            )))
        }
    };
    Ok(Constraint { column, op, value })
}

/// Minimise or maximise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// Smaller is better.
    Minimize,
    /// Larger is better.
    Maximize,
}

/// The column a decision optimises, and in which direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Objective {
    /// Minimise or maximise.
    pub goal: Goal,
    /// One of [`DECISION_COLUMNS`].
    pub column: &'static str,
}

impl Objective {
    /// Whether value `a` is strictly better than `b`.
    pub fn better(&self, a: f64, b: f64) -> bool {
        match self.goal {
            Goal::Minimize => a < b,
            Goal::Maximize => a > b,
        }
    }

    /// `minimize sessions_lost_pct`
    pub fn describe(&self) -> String {
        let verb = match self.goal {
            Goal::Minimize => "minimize",
            Goal::Maximize => "maximize",
        };
        format!("{verb} {}", self.column)
    }
}

/// Which value of a replicated column an assertion tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// The mean over replications.
    Mean,
    /// The upper end of the 95 % confidence interval of the mean: the
    /// cautious reading of `<` and `<=` assertions.
    Upper,
    /// The lower end of the 95 % confidence interval: the cautious reading
    /// of `>` and `>=` assertions.
    Lower,
}

impl Bound {
    /// How the bound is written.
    pub fn name(self) -> &'static str {
        match self {
            Bound::Mean => "mean",
            Bound::Upper => "upper",
            Bound::Lower => "lower",
        }
    }
}

/// Which strategies an assertion is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SloTarget {
    /// Every strategy of the scenario.
    All,
    /// The strategy of this name.
    Strategy(String),
}

/// One assertion: a constraint on a strategy's (or every strategy's)
/// column, tested on its mean or a confidence bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// Which strategies it is about.
    pub target: SloTarget,
    /// What must hold.
    pub constraint: Constraint,
    /// Which value is tested.
    pub bound: Bound,
}

impl fmt::Display for Slo {
    /// `cookie-1d: sessions_lost_pct < 1` (`… (upper bound)` when not on the mean).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            SloTarget::All => write!(f, "all: {}", self.constraint)?,
            SloTarget::Strategy(s) => write!(f, "{s}: {}", self.constraint)?,
        }
        match self.bound {
            Bound::Mean => Ok(()),
            b => write!(f, " ({} bound)", b.name()),
        }
    }
}

/// A validated decision: what to optimise, what must hold, what to assert.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The scenario's question, when it states one.
    pub question: Option<String>,
    /// What the verdict optimises.
    pub objective: Objective,
    /// What every acceptable strategy meets, tested on means.
    pub constraints: Vec<Constraint>,
    /// Whether objective and constraints are the defaults (no
    /// `[decision]`, or one without `minimize`/`maximize`/`constraints`).
    pub is_default: bool,
    /// `[[slo]]` assertions (`--assert` flags are added by the caller).
    pub slos: Vec<Slo>,
}

/// The default objective: the fewest sessions that lose their state.
pub const DEFAULT_OBJECTIVE: Objective = Objective {
    goal: Goal::Minimize,
    column: "sessions_lost_pct",
};

/// The default constraints: no overloaded backend and at most 0.1 % of
/// requests rejected. Measured utilisation cannot exceed 1 and a saturated
/// backend reads just under it, so "no overload" is read as the hottest
/// backend busy less than 95 % of the measured time.
pub const DEFAULT_CONSTRAINTS: [Constraint; 2] = [
    Constraint {
        column: "util_max",
        op: Op::Lt,
        value: 0.95,
    },
    Constraint {
        column: "rejected_pct",
        op: Op::Le,
        value: 0.1,
    },
];

impl Default for Decision {
    /// No question, [`DEFAULT_OBJECTIVE`] subject to [`DEFAULT_CONSTRAINTS`], no SLOs.
    fn default() -> Self {
        Decision {
            question: None,
            objective: DEFAULT_OBJECTIVE,
            constraints: DEFAULT_CONSTRAINTS.to_vec(),
            is_default: true,
            slos: Vec::new(),
        }
    }
}

/// The strategy an assertion names (`all` for every one), checked against
/// the scenario's strategy names.
fn target(name: &str, strategies: &[&str]) -> Result<SloTarget, String> {
    if name == "all" {
        return Ok(SloTarget::All);
    }
    if strategies.contains(&name) {
        return Ok(SloTarget::Strategy(name.to_string()));
    }
    Err(format!(
        "no strategy named `{name}`{}; expected `all` or one of: {}",
        did_you_mean(name, strategies),
        strategies.join(", ")
    ))
}

/// Checks that a confidence bound reads the assertion cautiously.
fn check_bound(c: &Constraint, bound: Bound) -> Result<(), String> {
    let ok = matches!(
        (bound, c.op),
        (Bound::Mean, _) | (Bound::Upper, Op::Lt | Op::Le) | (Bound::Lower, Op::Gt | Op::Ge)
    );
    if ok {
        return Ok(());
    }
    let fits = match c.op {
        Op::Lt | Op::Le => "`mean` or `upper`",
        Op::Gt | Op::Ge => "`mean` or `lower`",
        Op::Eq => "`mean`",
    };
    Err(format!(
        "bound `{}` does not fit `{c}`: an assertion that the value is {} a limit is tested \
         on {fits}",
        bound.name(),
        match c.op {
            Op::Lt | Op::Le => "below",
            Op::Gt | Op::Ge => "above",
            Op::Eq => "equal to",
        }
    ))
}

/// Parses an `--assert` flag, `STRATEGY: COLUMN OP NUMBER` (`STRATEGY`
/// may be `all`), tested on the mean.
pub fn parse_assert(text: &str, strategies: &[&str]) -> Result<Slo, String> {
    let Some((name, constraint)) = text.split_once(':') else {
        return Err(format!(
            "--assert \"{}\": expected `STRATEGY: COLUMN OP NUMBER`, e.g. \
             `cookie-1d: sessions_lost_pct < 1` (STRATEGY may be `all`), found no `:`",
            text.escape_debug()
        ));
    };
    let flag = |m: String| format!("--assert \"{}\": {m}", text.escape_debug());
    let target = target(name.trim(), strategies).map_err(flag)?;
    let constraint = parse_constraint(constraint).map_err(flag)?;
    Ok(Slo {
        target,
        constraint,
        bound: Bound::Mean,
    })
}

/// Validates `[decision]` and `[[slo]]` against the scenario's strategy
/// names; errors name the key (`decision.constraints[1]`, `slo[0].assert`).
pub(crate) fn validate(
    raw: Option<&RawDecision>,
    slos: Option<&[RawSlo]>,
    strategies: &[&str],
) -> Result<Decision, Problem> {
    let mut d = Decision::default();
    let k = KeyPath::from("decision");
    if let Some(raw) = raw {
        d.question = raw.question.as_ref().map(|q| q.trim().to_string());
        if let Some(q) = &d.question {
            if q.is_empty() {
                return Err(Problem::new(
                    k.k("question"),
                    "expected the question in words, found an empty string",
                ));
            }
        }
        let objective = match (&raw.minimize, &raw.maximize) {
            (Some(_), Some(_)) => {
                return Err(Problem::new(
                    k.k("maximize"),
                    "expected one of `minimize` and `maximize`, found both",
                ))
            }
            (Some(c), None) => Some((Goal::Minimize, "minimize", c)),
            (None, Some(c)) => Some((Goal::Maximize, "maximize", c)),
            (None, None) => None,
        };
        if let Some((goal, key, name)) = objective {
            let column = column(name).map_err(|m| Problem::new(k.k(key), m))?;
            d.objective = Objective { goal, column };
            d.is_default = false;
        }
        if let Some(list) = &raw.constraints {
            d.constraints = list
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    parse_constraint(c).map_err(|m| Problem::new(k.k("constraints").i(i), m))
                })
                .collect::<Result<_, _>>()?;
            d.is_default = false;
        }
    }
    let sk = KeyPath::from("slo");
    for (i, s) in slos.unwrap_or(&[]).iter().enumerate() {
        let target =
            target(&s.strategy, strategies).map_err(|m| Problem::new(sk.i(i).k("strategy"), m))?;
        let constraint =
            parse_constraint(&s.assert).map_err(|m| Problem::new(sk.i(i).k("assert"), m))?;
        let bound = match s.bound.unwrap_or(RawBound::Mean) {
            RawBound::Mean => Bound::Mean,
            RawBound::Upper => Bound::Upper,
            RawBound::Lower => Bound::Lower,
        };
        check_bound(&constraint, bound).map_err(|m| Problem::new(sk.i(i).k("bound"), m))?;
        d.slos.push(Slo {
            target,
            constraint,
            bound,
        });
    }
    Ok(d)
}

/// [`validate`] with the names of the validated strategies.
pub(crate) fn validate_for(
    raw: Option<&RawDecision>,
    slos: Option<&[RawSlo]>,
    strategies: &[super::StrategyConfig],
) -> Result<Decision, Problem> {
    let names: Vec<&str> = strategies.iter().map(|s| s.name.as_str()).collect();
    validate(raw, slos, &names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_parses_every_operator_with_or_without_spaces() {
        for (text, op, value) in [
            ("util_max <= 0.8", Op::Le, 0.8),
            ("util_max<0.8", Op::Lt, 0.8),
            ("  util_max >=1e-3 ", Op::Ge, 0.001),
            ("util_max > -2", Op::Gt, -2.0),
            ("util_max == 1", Op::Eq, 1.0),
        ] {
            let c = parse_constraint(text).unwrap();
            assert_eq!((c.column, c.op, c.value), ("util_max", op, value), "{text}");
        }
        let c = parse_constraint("rejected_pct <= 0.1").unwrap();
        assert_eq!(c.to_string(), "rejected_pct <= 0.1");
        assert!(c.holds(0.1) && !c.holds(0.1001));
        assert!((c.shortfall(0.4) - 0.3).abs() < 1e-12);
        assert_eq!(c.shortfall(0.05), 0.0);
    }

    #[test]
    fn grammar_errors_name_the_constraint_and_what_was_expected() {
        for (text, says) in [
            ("latency_p99 <= 500", "did you mean `latency_p99_ms`?"),
            ("latency_p99 <= 500", "columns are: requests, completed"),
            (
                "util_max =< 0.8",
                "expected an operator after `util_max`, found `=<`",
            ),
            ("util_max <= ", "expected a number after `<=`"),
            ("util_max <= 0.8 or so", "found `0.8 or so`"),
            ("util_max <= inf", "finite number"),
            ("<= 3", "expected a column name first"),
            ("", "expected a column name first"),
        ] {
            let e = parse_constraint(text).unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
            assert!(e.starts_with(&format!("constraint \"{text}\"")), "{e}");
        }
    }

    #[test]
    fn assert_flags_name_a_strategy_or_all() {
        let names = ["rr", "cookie-1d"];
        let s = parse_assert("cookie-1d: sessions_lost_pct < 1", &names).unwrap();
        assert_eq!(s.target, SloTarget::Strategy("cookie-1d".into()));
        assert_eq!(s.to_string(), "cookie-1d: sessions_lost_pct < 1");
        let s = parse_assert("all:latency_p99_ms<=500", &names).unwrap();
        assert_eq!(s.target, SloTarget::All);
        let e = parse_assert("cookie-1h: sessions_lost_pct < 1", &names).unwrap_err();
        assert!(
            e.contains("did you mean `cookie-1d`") && e.contains("rr, cookie-1d"),
            "{e}"
        );
        let e = parse_assert("sessions_lost_pct < 1", &names).unwrap_err();
        assert!(e.contains("found no `:`"), "{e}");
        let e = parse_assert("rr: lost < 1", &names).unwrap_err();
        assert!(e.contains("unknown column `lost`"), "{e}");
    }

    fn slo(strategy: &str, assert: &str, bound: Option<RawBound>) -> RawSlo {
        RawSlo {
            strategy: strategy.into(),
            assert: assert.into(),
            bound,
        }
    }

    #[test]
    fn decision_tables_validate_with_keys_in_errors() {
        let d = validate(None, None, &["rr"]).unwrap();
        assert_eq!(d, Decision::default());
        assert_eq!(d.objective.describe(), "minimize sessions_lost_pct");
        let raw = RawDecision {
            question: Some(" Does autoscaling keep latency in check? ".into()),
            minimize: None,
            maximize: Some("completed".into()),
            constraints: Some(vec!["latency_p99_ms <= 500".into()]),
        };
        let slos = [slo("all", "rejected_pct <= 1", Some(RawBound::Upper))];
        let d = validate(Some(&raw), Some(&slos), &["rr"]).unwrap();
        assert_eq!(
            d.question.as_deref(),
            Some("Does autoscaling keep latency in check?")
        );
        assert_eq!(d.objective.goal, Goal::Maximize);
        assert!(d.objective.better(2.0, 1.0));
        assert_eq!(d.constraints.len(), 1);
        assert!(!d.is_default);
        assert_eq!(d.slos[0].bound, Bound::Upper);
        assert_eq!(
            d.slos[0].to_string(),
            "all: rejected_pct <= 1 (upper bound)"
        );

        let bad = RawDecision {
            constraints: Some(vec!["util_max <= 0.8".into(), "p99 < 3".into()]),
            ..raw.clone()
        };
        let e = validate(Some(&bad), None, &["rr"]).unwrap_err();
        assert_eq!(e.key.to_string(), "decision.constraints[1]");
        assert!(e.message.contains("columns are:"), "{}", e.message);
        let both = RawDecision {
            minimize: Some("util_max".into()),
            ..raw.clone()
        };
        assert!(validate(Some(&both), None, &["rr"]).is_err());
        let e = validate(None, Some(&[slo("rx", "util_max < 1", None)]), &["rr"]).unwrap_err();
        assert_eq!(e.key.to_string(), "slo[0].strategy");
        let e = validate(
            None,
            Some(&[slo("rr", "util_max > 0.1", Some(RawBound::Upper))]),
            &["rr"],
        )
        .unwrap_err();
        assert_eq!(e.key.to_string(), "slo[0].bound");
        assert!(e.message.contains("`mean` or `lower`"), "{}", e.message);
    }
}
