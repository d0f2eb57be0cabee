//! Errors a scenario can produce, each rendered as one paragraph that names
//! the file, the key (`strategies[2].ttl`), where it is (line and column, or
//! the `--set` flag that put it there), what was expected and what was found.

use std::fmt;

/// One step of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A key's place in the scenario, displayed as `strategies[2].ttl`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    pub(crate) fn root() -> Self {
        KeyPath(Vec::new())
    }
    /// `self.key`
    pub(crate) fn k(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(key.to_string()));
        p
    }
    /// `self[index]`
    pub(crate) fn i(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(index));
        p
    }
    pub(crate) fn starts_with(&self, prefix: &KeyPath) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

impl From<&str> for KeyPath {
    /// A dotted path of table keys (no indices), e.g. `"workload.session_rate"`.
    fn from(s: &str) -> Self {
        KeyPath(s.split('.').map(|k| Seg::Key(k.to_string())).collect())
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if n == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// Where in the input a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 1-based line and column (in characters) in the scenario file.
    Span {
        /// Line, from 1.
        line: usize,
        /// Column in characters, from 1.
        column: usize,
    },
    /// The value was put there by this `--set` flag.
    Flag(String),
    /// The file does not say (e.g. a required key that is missing from a
    /// table the file never opens).
    Unknown,
}

/// The parts of a message that scripts want apart, when the check that
/// found the problem knows them (`stickysim validate --json`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Detail {
    /// What the key takes, e.g. `` one of `round_robin`, `cookie` `` or `a number`.
    pub expected: Option<String>,
    /// What the file says instead.
    pub found: Option<String>,
    /// The likely intended value or key, for a near-miss typo.
    pub suggestion: Option<String>,
}

/// Anything wrong with a scenario, its file or its `--set` flags.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario file `{path}`: {cause}")]
    Read {
        /// The path as given.
        path: String,
        /// The operating system's error.
        cause: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{origin}:{line}:{column}: TOML syntax error: {message}")]
    Syntax {
        /// The file's name as shown in messages.
        origin: String,
        /// Line of the error, from 1.
        line: usize,
        /// Column of the error in characters, from 1.
        column: usize,
        /// The TOML parser's description.
        message: String,
    },
    /// A `--set` flag is malformed or addresses something that is not there.
    #[error("{}", override_message(origin, flag, reason))]
    Override {
        /// The scenario file, when the flag was being applied to one.
        origin: Option<String>,
        /// The flag as given, without `--set `.
        flag: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file parses but says something wrong: unknown key, wrong type,
    /// value out of range, inconsistent keys.
    #[error("{}", invalid_message(origin, key, location, message))]
    Invalid {
        /// The file's name as shown in messages.
        origin: String,
        /// Dotted key path, e.g. `strategies[2].ttl`; empty for the whole file.
        key: String,
        /// Where the offending value is, when known.
        location: Location,
        /// What was expected and what was found.
        message: String,
        /// The expected, found and suggested values apart, where known
        /// (boxed: errors stay small on the happy path).
        detail: Box<Detail>,
    },
}

impl ScenarioError {
    /// The dotted key path the error is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ScenarioError::Invalid { key, .. } if !key.is_empty() => Some(key),
            _ => None,
        }
    }
}

fn override_message(origin: &Option<String>, flag: &str, reason: &str) -> String {
    match origin {
        Some(o) => format!("{o}: --set {flag}: {reason}"),
        None => format!("--set {flag}: {reason}"),
    }
}

fn invalid_message(origin: &str, key: &str, location: &Location, message: &str) -> String {
    let key = if key.is_empty() {
        String::new()
    } else {
        format!("`{key}`")
    };
    match location {
        Location::Span { line, column } if key.is_empty() => {
            format!("{origin}:{line}:{column}: {message}")
        }
        Location::Span { line, column } => format!("{origin}:{line}:{column}: {key}: {message}"),
        Location::Flag(flag) if key.is_empty() => {
            let flag = crate::text::cut_to(&crate::text::terminal(flag), 100);
            format!("{origin} (after `--set {flag}`): {message}")
        }
        Location::Flag(flag) => {
            let flag = crate::text::cut_to(&crate::text::terminal(flag), 100);
            format!("{origin}: {key} (set by `--set {flag}`): {message}")
        }
        Location::Unknown if key.is_empty() => format!("{origin}: {message}"),
        Location::Unknown => format!("{origin}: {key}: {message}"),
    }
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
pub(crate) fn line_col(text: &str, at: usize) -> (usize, usize) {
    let at = at.min(text.len());
    let at = (0..=at)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The candidate nearest to `found`, if it is near enough to be a likely typo.
pub(crate) fn suggest<'a>(found: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(found, c), *c))
        .filter(|&(d, c)| {
            d <= (c.chars().count().max(found.chars().count()) / 3).max(1)
                || (found.len() >= 3 && c.starts_with(found))
        })
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

/// `` (did you mean `x`?)`` or nothing.
pub(crate) fn did_you_mean(found: &str, candidates: &[&str]) -> String {
    match suggest(found, candidates) {
        Some(s) => format!(" (did you mean `{s}`?)"),
        None => String::new(),
    }
}

/// `` `a`, `b`, `c` ``
pub(crate) fn ticked(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Backticked words in a serde message, in order.
fn backticked(msg: &str) -> Vec<&str> {
    msg.split('`').skip(1).step_by(2).collect()
}

/// Serde's type names in human words.
fn humane(s: &str) -> String {
    let s = s.trim();
    let t = match s {
        "f64" | "f32" => "a number",
        "u64" | "u32" | "u16" | "u8" | "usize" => "a non-negative integer",
        "i64" | "i32" => "an integer",
        "map" => "a table",
        "sequence" => "an array",
        "unit value" => "nothing",
        _ if s.starts_with("struct ") => "a table",
        _ if s.starts_with("a sequence") => "an array",
        _ => {
            return s
                .replace("floating point", "number")
                .replace("sequence", "array")
        }
    };
    t.to_string()
}

/// Rewrites a serde/toml deserialization message at `path` into our
/// wording, possibly extending `path` to the key the message is about
/// (an unknown or missing key); the [`Detail`] holds the pieces apart.
pub(crate) fn describe_serde(msg: &str, path: &mut KeyPath) -> (String, Detail) {
    let msg = msg.trim().replace('\n', "; ");
    if let Some(rest) = msg.strip_prefix("unknown field ") {
        let names = backticked(rest);
        if let Some((found, known)) = names.split_first() {
            if path.0.last() != Some(&Seg::Key(found.to_string())) {
                path.0.push(Seg::Key(found.to_string()));
            }
            let hint = did_you_mean(found, known);
            let detail = Detail {
                expected: Some(if known.is_empty() {
                    "no keys".to_string()
                } else {
                    format!("one of {}", ticked(known))
                }),
                found: Some(format!("`{found}`")),
                suggestion: suggest(found, known).map(str::to_string),
            };
            let text = if known.is_empty() {
                format!("unknown key `{found}`; this table takes no keys")
            } else {
                format!(
                    "unknown key `{found}`{hint}; expected one of {}",
                    ticked(known)
                )
            };
            return (text, detail);
        }
    }
    if let Some(rest) = msg.strip_prefix("unknown variant ") {
        let names = backticked(rest);
        if let Some((found, known)) = names.split_first() {
            return one_of(found, known);
        }
    }
    if let Some(rest) = msg.strip_prefix("missing field ") {
        if let Some(name) = backticked(rest).first() {
            path.0.push(Seg::Key(name.to_string()));
            let detail = Detail {
                expected: Some(format!("the key `{name}`")),
                found: Some("nothing".to_string()),
                suggestion: None,
            };
            return (format!("required key `{name}` is missing"), detail);
        }
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            if let Some((found, expected)) = rest.rsplit_once(", expected ") {
                // A 263-digit number is not echoed in full.
                let (expected, found) = (humane(expected), crate::text::cut(&humane(found)));
                let text = format!("expected {expected}, found {found}");
                let detail = Detail {
                    expected: Some(expected),
                    found: Some(found),
                    suggestion: None,
                };
                return (text, detail);
            }
        }
    }
    (msg, Detail::default())
}

/// "expected one of `a`, `b`, found `x` (did you mean `a`?)" and its
/// [`Detail`].
pub(crate) fn one_of(found: &str, known: &[&str]) -> (String, Detail) {
    let text = format!(
        "expected one of {}, found `{found}`{}",
        ticked(known),
        did_you_mean(found, known)
    );
    let detail = Detail {
        expected: Some(format!("one of {}", ticked(known))),
        found: Some(format!("`{found}`")),
        suggestion: suggest(found, known).map(str::to_string),
    };
    (text, detail)
}

/// A problem found by validation, before it is placed in the file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Problem {
    pub key: KeyPath,
    pub message: String,
    pub detail: Detail,
}

impl Problem {
    pub(crate) fn new(key: KeyPath, message: impl Into<String>) -> Self {
        Problem {
            key,
            message: message.into(),
            detail: Detail::default(),
        }
    }
    /// "expected one of …, found `found`" at `key`, with its [`Detail`].
    pub(crate) fn one_of(key: KeyPath, found: &str, known: &[&str]) -> Self {
        let (message, detail) = one_of(found, known);
        Problem {
            key,
            message,
            detail,
        }
    }
}
