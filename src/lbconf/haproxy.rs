//! HAProxy configuration: sections (`global`, `defaults`, `frontend`,
//! `backend`, `listen`, …) of keyword lines, `#` comments, and the mapping
//! of `backend` and `listen` sections (with what their `defaults` set) to
//! strategies. HAProxy has no `include` keyword (several files are given
//! with several `-f`); a configuration split over files is imported file by file.

use super::{
    parse_duration, parse_size, secs_value, toml_str, Import, Imported, Line, ParseError, Src,
    Warning,
};
use std::path::Path;

/// Section keywords.
pub const SECTIONS: &[&str] = &[
    "global",
    "defaults",
    "frontend",
    "backend",
    "listen",
    "peers",
    "resolvers",
    "userlist",
    "mailers",
    "program",
    "http-errors",
    "ring",
    "cache",
    "fcgi-app",
];

/// One keyword line.
#[derive(Debug, Clone)]
pub struct Kw {
    /// The words, unquoted.
    pub words: Vec<String>,
    /// Where.
    pub src: Src,
}

impl Kw {
    fn text(&self) -> String {
        self.words.join(" ")
    }
}

/// A section and its lines.
#[derive(Debug, Clone)]
pub struct Section {
    /// `backend`, `defaults`, …
    pub kind: String,
    /// Its name, if given.
    pub name: Option<String>,
    /// Where it starts.
    pub src: Src,
    /// Its keyword lines.
    pub lines: Vec<Kw>,
}

fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    let mut it = line.chars();
    while let Some(c) = it.next() {
        match (quote, c) {
            (None, '#') => break,
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), c) if c == q => quote = None,
            (_, '\\') => {
                if let Some(n) = it.next() {
                    cur.push(n);
                    any = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (_, c) => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// Splits `text` into sections; a keyword line before the first section
/// is not HAProxy syntax.
pub fn parse(file: &Path, text: &str) -> Result<Vec<Section>, ParseError> {
    let mut out: Vec<Section> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let w = words(raw);
        let Some(first) = w.first() else { continue };
        let src = Src {
            file: file.to_path_buf(),
            line: i + 1,
        };
        if SECTIONS.contains(&first.as_str()) {
            out.push(Section {
                kind: first.clone(),
                name: w.get(1).cloned(),
                src,
                lines: Vec::new(),
            });
            continue;
        }
        if raw.trim_end().ends_with(['{', '}', ';']) {
            return Err(ParseError {
                file: file.to_path_buf(),
                line: i + 1,
                message: format!(
                    "expected an HAProxy keyword line, found `{}` (nginx syntax?)",
                    raw.trim()
                ),
            });
        }
        let Some(sec) = out.last_mut() else {
            return Err(ParseError {
                file: file.to_path_buf(),
                line: i + 1,
                message: format!(
                    "expected a section keyword (global, defaults, frontend, backend, listen), found `{first}`"
                ),
            });
        };
        sec.lines.push(Kw { words: w, src });
    }
    Ok(out)
}

/// Reads the `backend` and `listen` sections of `text` (the contents of `file`).
pub fn import(file: &Path, text: &str) -> Result<Import, ParseError> {
    let sections = parse(file, text)?;
    let mut imp = Import::default();
    let mut defaults: Vec<Kw> = Vec::new();
    for s in &sections {
        match s.kind.as_str() {
            "defaults" => defaults = s.lines.clone(),
            "backend" | "listen" => {
                let st = backend(s, &defaults, &mut imp.warnings);
                imp.strategies.push(st);
            }
            _ => {}
        }
    }
    if imp.strategies.is_empty() {
        return Err(ParseError {
            file: file.to_path_buf(),
            line: 1,
            message: "expected at least one `backend` or `listen` section, found none".into(),
        });
    }
    Ok(imp)
}

fn line(key: &'static str, value: String, k: &Kw) -> Line {
    Line {
        key,
        value,
        directive: k.text(),
        src: k.src.clone(),
    }
}

/// Keywords of a backend that only concern the frontend side, logging or
/// the checks' mechanics: no warning for them in `defaults`.
const QUIET_IN_DEFAULTS: &[&str] = &[
    "mode",
    "log",
    "option",
    "timeout",
    "retries",
    "maxconn",
    "default-server",
    "balance",
    "hash-type",
];

fn backend(s: &Section, defaults: &[Kw], warnings: &mut Vec<Warning>) -> Imported {
    let name = s.name.clone().unwrap_or_default();
    let mut warn = |k: &Kw, why: &str| {
        warnings.push(Warning {
            src: k.src.clone(),
            directive: k.text(),
            why: why.to_string(),
        })
    };
    let mut balance: Option<&Kw> = None;
    let mut hash_type: Option<&Kw> = None;
    let mut cookie: Option<&Kw> = None;
    let mut table: Option<&Kw> = None;
    let mut stick_on: Option<&Kw> = None;
    let mut redispatch: Option<&Kw> = None;
    let mut persist: Option<&Kw> = None;
    let mut servers = Vec::new();
    let from_defaults = defaults.iter().map(|k| (k, true));
    for (k, inherited) in from_defaults.chain(s.lines.iter().map(|k| (k, false))) {
        let w: Vec<&str> = k.words.iter().map(String::as_str).collect();
        match w.as_slice() {
            ["balance", ..] => balance = Some(k),
            ["hash-type", ..] => hash_type = Some(k),
            ["cookie", ..] => cookie = Some(k),
            ["stick-table", ..] => table = Some(k),
            ["stick", "on", ..] => stick_on = Some(k),
            ["option", "redispatch", ..] => redispatch = Some(k),
            ["no", "option", "redispatch"] => redispatch = None,
            ["option", "persist"] => persist = Some(k),
            ["server", _name, addr, rest @ ..] => {
                let mut desc = format!("{} {addr}", w[1]);
                let mut i = 0;
                while i < rest.len() {
                    let p = rest[i];
                    let takes = matches!(
                        p,
                        "weight"
                            | "slowstart"
                            | "cookie"
                            | "inter"
                            | "fall"
                            | "rise"
                            | "maxconn"
                            | "id"
                            | "fastinter"
                            | "downinter"
                            | "port"
                            | "addr"
                            | "maxqueue"
                            | "on-marked-down"
                            | "on-error"
                            | "error-limit"
                            | "hash-key"
                    );
                    let v = if takes {
                        rest.get(i + 1).copied()
                    } else {
                        None
                    };
                    desc.push(' ');
                    desc.push_str(p);
                    if let Some(v) = v {
                        desc.push(' ');
                        desc.push_str(v);
                    }
                    match p {
                        "weight" | "disabled" | "cookie" | "check" | "inter" | "fall" | "rise" => {}
                        "backup" => warn(k, "backup servers are not modelled: stickysim's pool has no standby tier (HAProxy sends everything to the first backup when no active server is up)"),
                        "slowstart" => warn(k, "slowstart is not imported (the scenario's slow start is set per fleet, not per server)"),
                        "id" | "hash-key" => warn(k, &format!("`{p}` changes where consistent hashing places the server's points; stickysim numbers servers by position")),
                        _ => warn(k, &format!("server parameter `{p}` is not modelled")),
                    }
                    i += if takes { 2 } else { 1 };
                }
                servers.push((desc, k.src.clone()));
            }
            ["timeout", ..] => {
                if !inherited {
                    warn(k, "timeouts are not modelled (stickysim's backends answer or fail by their model)")
                }
            }
            [first, ..] if inherited && QUIET_IN_DEFAULTS.contains(first) => {}
            // A `listen` section's frontend half.
            ["bind", ..] if s.kind == "listen" => {}
            _ => warn(k, "not modelled"),
        }
    }
    let mut lines = Vec::new();
    let ht: Vec<&str> = hash_type
        .map(|k| k.words.iter().skip(1).map(String::as_str).collect())
        .unwrap_or_default();
    let consistent = ht.first() == Some(&"consistent");
    let hash_lines = |lines: &mut Vec<Line>, b: &Kw| {
        let src = hash_type.unwrap_or(b);
        lines.push(line(
            "hash",
            toml_str(if consistent {
                "haproxy_consistent"
            } else {
                "haproxy_source"
            }),
            src,
        ));
        if let Some(f) = ht.get(1).filter(|f| **f != "avalanche") {
            lines.push(line("hash_function", toml_str(f), src));
        }
        if ht.contains(&"avalanche") {
            lines.push(line("avalanche", "true".into(), src));
        }
    };
    let bal_words: Vec<&str> = balance
        .map(|k| k.words.iter().skip(1).map(String::as_str).collect())
        .unwrap_or_default();
    // The balancer for cookie and table strategies' first requests.
    let simple = match bal_words.first().copied() {
        Some("leastconn") => Some("least_conn"),
        Some(b) if b.starts_with("random") => Some(if b == "random" || b == "random(2)" {
            "p2c"
        } else {
            "random"
        }),
        Some("roundrobin" | "static-rr") | None => Some("round_robin"),
        _ => None,
    };
    if let Some(c) = cookie {
        let cw: Vec<&str> = c.words.iter().map(String::as_str).collect();
        let mode = cw
            .iter()
            .skip(2)
            .find(|m| matches!(**m, "insert" | "rewrite" | "prefix"))
            .copied()
            .unwrap_or("rewrite");
        if mode == "insert" {
            lines.push(line("kind", toml_str("lb_cookie"), c));
            lines.push(line(
                "cookie_name",
                toml_str(cw.get(1).unwrap_or(&"SERVERID")),
                c,
            ));
            let arg = |n: &str| {
                cw.iter()
                    .position(|w| *w == n)
                    .and_then(|i| cw.get(i + 1))
                    .and_then(|v| parse_duration(v, 1.0))
            };
            match (arg("maxidle"), arg("maxlife")) {
                (Some(t), _) => {
                    lines.push(line("ttl", secs_value(t), c));
                    lines.push(line("ttl_mode", toml_str("sliding"), c));
                }
                (None, Some(t)) => {
                    lines.push(line("ttl", secs_value(t), c));
                    lines.push(line("ttl_mode", toml_str("absolute"), c));
                }
                (None, None) => lines.push(line("ttl_mode", toml_str("session"), c)),
            }
            if cw.contains(&"httponly") {
                lines.push(line("http_only", "true".into(), c));
            }
            if cw.contains(&"secure") {
                lines.push(line("secure", "true".into(), c));
            }
            for w in [
                "indirect", "nocache", "preserve", "postonly", "domain", "dynamic", "attr",
            ] {
                if cw.contains(&w) {
                    warn(c, &format!("cookie option `{w}` is not modelled"));
                }
            }
        } else {
            lines.push(line("kind", toml_str("app_cookie"), c));
            lines.push(line(
                "cookie_name",
                toml_str(cw.get(1).unwrap_or(&"JSESSIONID")),
                c,
            ));
        }
        push_balance(&mut lines, simple, balance, &mut warn);
    } else if let (Some(t), Some(on)) = (table, stick_on) {
        let tw: Vec<&str> = t.words.iter().map(String::as_str).collect();
        let arg = |n: &str| {
            tw.iter()
                .position(|w| *w == n)
                .and_then(|i| tw.get(i + 1))
                .copied()
        };
        if on.words.get(2).map(String::as_str) == Some("src")
            && matches!(arg("type"), Some("ip" | "ipv4" | "ipv6"))
        {
            lines.push(line("kind", toml_str("source_ip_table"), on));
            if let Some(e) = arg("expire").and_then(|v| parse_duration(v, 0.001)) {
                lines.push(line("timeout", secs_value(e), t));
            }
            if let Some(n) = arg("size").and_then(parse_size) {
                lines.push(line("size", n.min(u32::MAX as u64).to_string(), t));
            }
        } else {
            lines.push(line("kind", toml_str("round_robin"), on));
            warn(on, "only `stick-table type ip` with `stick on src` is modelled; imported as round_robin");
        }
        push_balance(&mut lines, simple, balance, &mut warn);
    } else {
        match bal_words.first().copied() {
            Some("source") => {
                let b = balance.unwrap();
                lines.push(line("kind", toml_str("source_ip"), b));
                hash_lines(&mut lines, b);
            }
            Some(h) if h.starts_with("hdr(") => {
                let b = balance.unwrap();
                let name = h.trim_start_matches("hdr(").trim_end_matches(')');
                lines.push(line("kind", toml_str("header"), b));
                lines.push(line("header_name", toml_str(name), b));
                hash_lines(&mut lines, b);
            }
            Some(other @ ("uri" | "url_param" | "rdp-cookie" | "first")) => {
                let b = balance.unwrap();
                lines.push(line("kind", toml_str("round_robin"), b));
                warn(b, &format!("`balance {other}` keys on what the model's requests don't carry (URIs, parameters, RDP cookies); imported as round_robin (`stickysim route --hash haproxy_{{source,consistent}}` places such keys exactly)"));
            }
            _ => {
                let (kind, src) = match (simple, balance) {
                    (Some(k), Some(b)) => (k, b.clone()),
                    (Some(k), None) => (
                        k,
                        Kw {
                            words: vec!["(no balance: HAProxy 2.x's roundrobin)".into()],
                            src: s.src.clone(),
                        },
                    ),
                    (None, Some(b)) => {
                        warn(
                            b,
                            "balancing algorithm not modelled; imported as round_robin",
                        );
                        ("round_robin", b.clone())
                    }
                    (None, None) => unreachable!(),
                };
                lines.push(line("kind", toml_str(kind), &src));
            }
        }
    }
    let sticky = lines
        .iter()
        .any(|l| l.key == "kind" && (l.value.contains("cookie") || l.value.contains("table")));
    if sticky {
        if let (Some(p), None) = (persist, redispatch) {
            lines.push(line("on_unavailable", toml_str("reject"), p));
        } else if let Some(r) = redispatch {
            lines.push(line("on_unavailable", toml_str("redispatch"), r));
        }
    }
    if let Some(k) = s
        .lines
        .iter()
        .find(|k| k.words.first().map(String::as_str) == Some("hash-balance-factor"))
    {
        warn(k, "bounded loads over HAProxy's own tree are not modelled (kind = \"bounded_load\" uses ketama or Envoy's ring)");
    }
    Imported {
        name,
        header: format!("{} {}", s.kind, s.name.clone().unwrap_or_default()),
        src: s.src.clone(),
        lines,
        servers,
    }
}

fn push_balance(
    lines: &mut Vec<Line>,
    simple: Option<&str>,
    balance: Option<&Kw>,
    warn: &mut impl FnMut(&Kw, &str),
) {
    if let Some(b) = balance {
        match simple {
            Some(k) if k != "random" => lines.push(line("balance", toml_str(k), b)),
            _ => warn(b, "this balancer is not available for first requests of a sticky strategy; round_robin is used"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_handle_comments_and_quotes() {
        assert_eq!(
            words("  server a 1.2.3.4:80 weight 2 # x"),
            ["server", "a", "1.2.3.4:80", "weight", "2"]
        );
        assert_eq!(
            words("http-request return string \"a b\""),
            ["http-request", "return", "string", "a b"]
        );
    }

    #[test]
    fn not_haproxy_names_the_line() {
        let e = parse(Path::new("h.cfg"), "\n\nhello world\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("section keyword"));
        let e = parse(Path::new("h.cfg"), "global\n  user x;\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    #[test]
    fn cookie_insert_with_redispatch() {
        let imp = import(
            Path::new("h.cfg"),
            "defaults\n  option redispatch\nbackend web\n  balance leastconn\n  cookie SRV insert indirect nocache maxidle 30m\n  server a 10.0.0.1:80 cookie a check\n",
        )
        .unwrap();
        let kv: Vec<(&str, &str)> = imp.strategies[0]
            .lines
            .iter()
            .map(|l| (l.key, l.value.as_str()))
            .collect();
        assert_eq!(
            kv,
            [
                ("kind", "\"lb_cookie\""),
                ("cookie_name", "\"SRV\""),
                ("ttl", "1800"),
                ("ttl_mode", "\"sliding\""),
                ("balance", "\"least_conn\""),
                ("on_unavailable", "\"redispatch\"")
            ]
        );
        assert_eq!(imp.warnings.len(), 2, "{:?}", imp.warnings);
    }
}
