//! Real load-balancer configurations in and out: `stickysim import` reads
//! nginx `upstream` blocks and HAProxy `backend`/`listen` sections into
//! `[[strategies]]`, and `stickysim export` writes a scenario's strategy
//! back as an nginx or HAProxy snippet. See `docs/import-export.md` for
//! every directive and what it becomes.

pub mod export;
pub mod haproxy;
pub mod nginx;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Where a directive was written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Src {
    /// The file, as given or as the include named it.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
}

impl std::fmt::Display for Src {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self.file.file_name().map_or_else(
            || self.file.display().to_string(),
            |n| n.to_string_lossy().to_string(),
        );
        write!(f, "{name}:{}", self.line)
    }
}

/// A file that is not the configuration syntax it should be, or can't be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}", file = .file.display())]
pub struct ParseError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (0 when the file could not be read).
    pub line: usize,
    /// What was expected and what was found.
    pub message: String,
}

/// A directive stickysim does not model, or models only approximately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// Where it was written.
    pub src: Src,
    /// The directive as written.
    pub directive: String,
    /// Why it is not (or not exactly) modelled.
    pub why: String,
}

/// One `key = value` line of an imported strategy and the directive it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The TOML key.
    pub key: &'static str,
    /// The TOML value, already quoted if a string.
    pub value: String,
    /// The directive it came from, as written.
    pub directive: String,
    /// Where.
    pub src: Src,
}

/// A strategy read from an `upstream` block or `backend` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// The block's name (the strategy's name).
    pub name: String,
    /// `upstream NAME` or `backend NAME`, and where.
    pub header: String,
    /// Where the block starts.
    pub src: Src,
    /// `kind` first, then the other keys.
    pub lines: Vec<Line>,
    /// Server lines, kept as comments (address, weight, flags), with their source.
    pub servers: Vec<(String, Src)>,
}

/// What an import produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Import {
    /// One strategy per block, in file order.
    pub strategies: Vec<Imported>,
    /// Unmodelled directives, in file order.
    pub warnings: Vec<Warning>,
}

impl Import {
    /// The `[[strategies]]` TOML, a comment naming each line's directive.
    pub fn to_toml(&self, from: &Path) -> String {
        let mut s = String::new();
        writeln!(
            s,
            "# Strategies imported by `stickysim import` from {}.\n\
             # Each line names the directive it came from; backend addresses are\n\
             # comments (a scenario's [backends] sets only their number).",
            from.display()
        )
        .unwrap();
        for st in &self.strategies {
            writeln!(s, "\n# {} ({})\n[[strategies]]", st.header, st.src).unwrap();
            writeln!(s, "name = {}", toml_str(&st.name)).unwrap();
            let width = st
                .lines
                .iter()
                .map(|l| l.key.len() + 3 + l.value.len())
                .max()
                .unwrap_or(0);
            for l in &st.lines {
                let kv = format!("{} = {}", l.key, l.value);
                writeln!(s, "{kv:width$}  # {} ({})", l.directive, l.src).unwrap();
            }
            for (srv, src) in &st.servers {
                writeln!(s, "# backend: {srv} ({src})").unwrap();
            }
        }
        if !self.warnings.is_empty() {
            s.push_str("\n# Not modelled (see the warnings):\n");
            for w in &self.warnings {
                writeln!(s, "#   {}: {} — {}", w.src, w.directive, w.why).unwrap();
            }
        }
        s
    }
}

/// A TOML basic string.
pub fn toml_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => write!(o, "\\u{:04x}", c as u32).unwrap(),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// A duration in seconds from `text` with the product's suffixes
/// (`default_unit` seconds per bare number: 1 for nginx, 0.001 for HAProxy).
pub fn parse_duration(text: &str, default_unit: f64) -> Option<f64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit {
        "" => default_unit,
        "us" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 604_800.0,
        _ => return None,
    };
    Some(n * mult)
}

/// A size with `k`/`m`/`g` suffixes (powers of 1024, as HAProxy's).
pub fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim().to_ascii_lowercase();
    let (num, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1u64 << 10),
        'm' => (&t[..t.len() - 1], 1 << 20),
        'g' => (&t[..t.len() - 1], 1 << 30),
        _ => (&t[..], 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// A number of seconds as a TOML value (integer when whole).
pub(crate) fn secs_value(s: f64) -> String {
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s}")
    }
}

/// Which product's syntax a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// nginx.
    Nginx,
    /// HAProxy.
    Haproxy,
}

/// Guesses the syntax: HAProxy when a line starts with a section keyword
/// (`global`, `defaults`, `frontend`, `backend`, `listen`) and no `{`
/// follows it, else nginx.
pub fn sniff(text: &str) -> Format {
    for line in text.lines() {
        let l = line.split('#').next().unwrap_or("").trim();
        let first = l.split_whitespace().next().unwrap_or("");
        if haproxy::SECTIONS.contains(&first) && !l.contains('{') {
            return Format::Haproxy;
        }
        if !l.is_empty() && (l.ends_with(';') || l.ends_with('{')) {
            return Format::Nginx;
        }
    }
    Format::Nginx
}

/// Reads `path` in the syntax it is written in (or `format`).
pub fn import(path: &Path, format: Option<Format>) -> Result<Import, ParseError> {
    let text = read(path)?;
    let mut imp = match format.unwrap_or_else(|| sniff(&text)) {
        Format::Nginx => nginx::import(path, &text)?,
        Format::Haproxy => haproxy::import(path, &text)?,
    };
    // One warning per directive and reason (a server line with both
    // `max_fails` and `fail_timeout` says it once).
    let mut seen = std::collections::HashSet::new();
    imp.warnings
        .retain(|w| seen.insert((w.src.clone(), w.directive.clone(), w.why.clone())));
    Ok(imp)
}

pub(crate) fn read(path: &Path) -> Result<String, ParseError> {
    let bytes = std::fs::read(path).map_err(|e| ParseError {
        file: path.to_path_buf(),
        line: 0,
        message: format!("cannot read: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        ParseError {
            file: path.to_path_buf(),
            line: upto.iter().filter(|&&b| b == b'\n').count() + 1,
            message: "expected a text configuration file, found bytes that are not UTF-8".into(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("30m", 0.001), Some(1800.0));
        assert_eq!(parse_duration("500", 0.001), Some(0.5));
        assert_eq!(parse_duration("10", 1.0), Some(10.0));
        assert_eq!(parse_duration("1h", 1.0), Some(3600.0));
        assert_eq!(parse_duration("x", 1.0), None);
        assert_eq!(parse_size("1m"), Some(1 << 20));
        assert_eq!(parse_size("200k"), Some(200 << 10));
        assert_eq!(parse_size("12"), Some(12));
    }

    #[test]
    fn sniffs_the_syntax() {
        assert_eq!(sniff("# c\nglobal\n  maxconn 10\n"), Format::Haproxy);
        assert_eq!(
            sniff("events {}\nhttp { upstream a { server x; } }"),
            Format::Nginx
        );
    }

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_str("a\"b\\"), "\"a\\\"b\\\\\"");
    }
}
