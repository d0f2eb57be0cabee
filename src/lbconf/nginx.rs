//! nginx configuration: a tokenizer for its block syntax (`name args;`,
//! `name args { … }`, `#` comments, quotes), `include` followed relative
//! to the including file (with `*` in the file name), and the mapping of
//! `upstream` blocks to strategies.

use super::{
    parse_duration, secs_value, toml_str, Import, Imported, Line, ParseError, Src, Warning,
};
use std::path::{Path, PathBuf};

/// One directive, with its block if it has one.
#[derive(Debug, Clone)]
pub struct Directive {
    /// The directive's name.
    pub name: String,
    /// Its arguments, unquoted.
    pub args: Vec<String>,
    /// Where it starts.
    pub src: Src,
    /// The directives inside `{ … }`, if any.
    pub block: Option<Vec<Directive>>,
}

impl Directive {
    /// The directive as written (name and arguments).
    pub fn text(&self) -> String {
        std::iter::once(self.name.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[derive(Debug, PartialEq)]
enum Tok {
    Word(String),
    Semi,
    Open,
    Close,
}

fn tokenize(file: &Path, text: &str) -> Result<Vec<(Tok, usize)>, ParseError> {
    let err = |line: usize, m: String| ParseError {
        file: file.to_path_buf(),
        line,
        message: m,
    };
    let mut out = Vec::new();
    let mut line = 1;
    let mut it = text.chars().peekable();
    let mut word = String::new();
    let mut word_line = 1;
    let flush = |word: &mut String, out: &mut Vec<(Tok, usize)>, wl: usize| {
        if !word.is_empty() {
            out.push((Tok::Word(std::mem::take(word)), wl));
        }
    };
    while let Some(c) = it.next() {
        match c {
            '\n' => {
                flush(&mut word, &mut out, word_line);
                line += 1;
            }
            c if c.is_whitespace() => flush(&mut word, &mut out, word_line),
            '#' if word.is_empty() => {
                for c in it.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            ';' => {
                flush(&mut word, &mut out, word_line);
                out.push((Tok::Semi, line));
            }
            '{' if word.ends_with('$') => word.push(c),
            '{' => {
                flush(&mut word, &mut out, word_line);
                out.push((Tok::Open, line));
            }
            '}' if word.contains("${") && !word.ends_with('}') => word.push(c),
            '}' => {
                flush(&mut word, &mut out, word_line);
                out.push((Tok::Close, line));
            }
            '"' | '\'' if word.is_empty() => {
                let start = line;
                word_line = line;
                let mut s = String::new();
                loop {
                    match it.next() {
                        None => {
                            return Err(err(
                                start,
                                format!("expected a closing {c}, found the end of the file"),
                            ))
                        }
                        Some('\\') => {
                            if let Some(n) = it.next() {
                                if n == '\n' {
                                    line += 1;
                                }
                                s.push(n);
                            }
                        }
                        Some(q) if q == c => break,
                        Some(n) => {
                            if n == '\n' {
                                line += 1;
                            }
                            s.push(n);
                        }
                    }
                }
                out.push((Tok::Word(s), word_line));
            }
            c => {
                if word.is_empty() {
                    word_line = line;
                }
                word.push(c);
            }
        }
    }
    flush(&mut word, &mut out, word_line);
    Ok(out)
}

/// Parses `text` (the contents of `file`), following `include`s.
pub fn parse(file: &Path, text: &str) -> Result<Vec<Directive>, ParseError> {
    parse_depth(file, text, 0)
}

fn parse_depth(file: &Path, text: &str, depth: u32) -> Result<Vec<Directive>, ParseError> {
    let toks = tokenize(file, text)?;
    let mut pos = 0;
    let ds = block(file, &toks, &mut pos, false, depth)?;
    Ok(ds)
}

fn block(
    file: &Path,
    toks: &[(Tok, usize)],
    pos: &mut usize,
    nested: bool,
    depth: u32,
) -> Result<Vec<Directive>, ParseError> {
    let err = |line: usize, m: &str| ParseError {
        file: file.to_path_buf(),
        line,
        message: m.to_string(),
    };
    let mut out = Vec::new();
    loop {
        let Some((t, line)) = toks.get(*pos) else {
            if nested {
                let l = toks.last().map_or(1, |t| t.1);
                return Err(err(
                    l,
                    "expected `}` closing the block, found the end of the file",
                ));
            }
            return Ok(out);
        };
        *pos += 1;
        let name = match t {
            Tok::Close if nested => return Ok(out),
            Tok::Close => return Err(err(*line, "expected a directive, found an unmatched `}`")),
            Tok::Semi => return Err(err(*line, "expected a directive name, found `;`")),
            Tok::Open => return Err(err(*line, "expected a directive name, found `{`")),
            Tok::Word(w) => w.clone(),
        };
        let src = Src {
            file: file.to_path_buf(),
            line: *line,
        };
        // Top-level names are identifiers; inside blocks (`map`, `types`,
        // `geo`) the first word may be a pattern.
        let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let pattern = |c: char| !matches!(c, '*' | '[' | ']' | '(' | ')' | '`' | ',' | '<' | '>');
        if !(if nested {
            name.chars().all(pattern)
        } else {
            name.chars().all(ident)
        }) {
            return Err(err(
                *line,
                &format!("expected an nginx directive name, found `{name}`"),
            ));
        }
        let mut args = Vec::new();
        loop {
            match toks.get(*pos) {
                None => {
                    return Err(err(
                        src.line,
                        &format!("expected `;` or `{{` after `{name}`, found the end of the file"),
                    ))
                }
                Some((Tok::Word(w), _)) => {
                    args.push(w.clone());
                    *pos += 1;
                }
                Some((Tok::Semi, _)) => {
                    *pos += 1;
                    if name == "include" {
                        out.extend(include(&src, &args, depth)?);
                    } else {
                        out.push(Directive {
                            name,
                            args,
                            src,
                            block: None,
                        });
                    }
                    break;
                }
                Some((Tok::Open, _)) => {
                    *pos += 1;
                    let inner = block(file, toks, pos, true, depth)?;
                    out.push(Directive {
                        name,
                        args,
                        src,
                        block: Some(inner),
                    });
                    break;
                }
                Some((Tok::Close, l)) => {
                    return Err(err(*l, &format!("expected `;` after `{name}`, found `}}`")))
                }
            }
        }
    }
}

/// `include PATTERN;`: the files, relative to the including file's
/// directory, `*` matching in the last component, in name order.
fn include(src: &Src, args: &[String], depth: u32) -> Result<Vec<Directive>, ParseError> {
    let err = |m: String| ParseError {
        file: src.file.clone(),
        line: src.line,
        message: m,
    };
    if depth > 16 {
        return Err(err("includes nested more than 16 deep (a cycle?)".into()));
    }
    let [pattern] = args else {
        return Err(err(format!(
            "expected `include FILE;`, found {} arguments",
            args.len()
        )));
    };
    let base = src.file.parent().unwrap_or(Path::new("."));
    let p = base.join(pattern);
    let files: Vec<PathBuf> = if p
        .file_name()
        .is_some_and(|n| n.to_string_lossy().contains('*'))
    {
        let dir = p.parent().unwrap_or(Path::new("."));
        let pat = p.file_name().unwrap().to_string_lossy().to_string();
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| {
                err(format!(
                    "include `{pattern}`: cannot read {}: {e}",
                    dir.display()
                ))
            })?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|f| {
                f.file_name()
                    .is_some_and(|n| glob(&pat, &n.to_string_lossy()))
            })
            .collect();
        v.sort();
        v
    } else {
        if !p.exists() {
            return Err(err(format!(
                "include `{pattern}`: expected a file, found none at {}",
                p.display()
            )));
        }
        vec![p]
    };
    let mut out = Vec::new();
    for f in files {
        let text = super::read(&f)?;
        out.extend(parse_depth(&f, &text, depth + 1)?);
    }
    Ok(out)
}

/// `*`-only wildcard match.
fn glob(pat: &str, name: &str) -> bool {
    match pat.split_once('*') {
        None => pat == name,
        Some((pre, rest)) => {
            if !name.starts_with(pre) {
                return false;
            }
            let tail = &name[pre.len()..];
            (0..=tail.len()).any(|i| tail.is_char_boundary(i) && glob(rest, &tail[i..]))
        }
    }
}

/// Every `upstream` block in the tree, in file order.
fn upstreams<'a>(ds: &'a [Directive], out: &mut Vec<&'a Directive>) {
    for d in ds {
        if d.name == "upstream" && d.block.is_some() {
            out.push(d);
        } else if let Some(b) = &d.block {
            upstreams(b, out);
        }
    }
}

/// `$http_x_api_key` → `X-Api-Key`.
fn header_name(var: &str) -> String {
    var.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Reads the upstream blocks of `text` (the contents of `file`).
pub fn import(file: &Path, text: &str) -> Result<Import, ParseError> {
    let ds = parse(file, text)?;
    let mut ups = Vec::new();
    upstreams(&ds, &mut ups);
    if ups.is_empty() {
        return Err(ParseError {
            file: file.to_path_buf(),
            line: 1,
            message: "expected at least one `upstream NAME { … }` block, found none".into(),
        });
    }
    let mut imp = Import::default();
    for u in ups {
        let st = upstream(u, &mut imp.warnings);
        imp.strategies.push(st);
    }
    Ok(imp)
}

fn line(key: &'static str, value: String, d: &Directive) -> Line {
    Line {
        key,
        value,
        directive: d.text(),
        src: d.src.clone(),
    }
}

fn upstream(u: &Directive, warnings: &mut Vec<Warning>) -> Imported {
    let name = u.args.first().cloned().unwrap_or_default();
    let mut warn = |d: &Directive, why: &str| {
        warnings.push(Warning {
            src: d.src.clone(),
            directive: d.text(),
            why: why.to_string(),
        })
    };
    let mut lines: Vec<Line> = Vec::new();
    let mut servers = Vec::new();
    let mut balance: Option<(&'static str, &Directive)> = None;
    let mut hashing = false;
    for d in u.block.as_deref().unwrap_or(&[]) {
        let a: Vec<&str> = d.args.iter().map(String::as_str).collect();
        match (d.name.as_str(), a.as_slice()) {
            ("server", [addr, rest @ ..]) => {
                let mut desc = (*addr).to_string();
                for p in rest {
                    desc.push(' ');
                    desc.push_str(p);
                    let k = p.split('=').next().unwrap_or("");
                    match k {
                        "weight" | "down" => {}
                        "backup" if hashing => warn(d, "nginx refuses `backup` with `hash` and `ip_hash` (invalid parameter)"),
                        "backup" => warn(d, "backup servers are not modelled: stickysim's pool has no standby tier"),
                        "max_fails" | "fail_timeout" => warn(d, "max_fails/fail_timeout are per server here but one per strategy in stickysim: not imported; add `product = \"nginx\"` and `passive_health = { max_fails = …, fail_timeout = … }` to the strategy by hand"),
                        "slow_start" => warn(d, "slow_start is an NGINX Plus parameter; not modelled for nginx"),
                        _ => warn(d, &format!("server parameter `{p}` is not modelled")),
                    }
                }
                servers.push((desc, d.src.clone()));
            }
            ("ip_hash", []) => {
                hashing = true;
                lines.push(line("kind", toml_str("source_ip"), d));
                lines.push(line("hash", toml_str("nginx_ip_hash"), d));
            }
            ("hash", [key, rest @ ..]) => {
                hashing = true;
                let consistent = rest.first() == Some(&"consistent");
                let algo = if consistent { "ketama" } else { "nginx_hash" };
                if *key == "$remote_addr" {
                    lines.push(line("kind", toml_str("source_ip"), d));
                    lines.push(line("hash", toml_str(algo), d));
                } else if let Some(h) = key.strip_prefix("$http_") {
                    lines.push(line("kind", toml_str("header"), d));
                    lines.push(line("header_name", toml_str(&header_name(h)), d));
                    lines.push(line("hash", toml_str(algo), d));
                } else if let Some(c) = key.strip_prefix("$cookie_") {
                    lines.push(line("kind", toml_str("header"), d));
                    lines.push(line("header_name", toml_str("Cookie"), d));
                    lines.push(line("hash", toml_str(algo), d));
                    warn(d, &format!("the cookie `{c}` hashed statelessly is modelled as a per-client identifier in a header (kind = \"header\"): clients that block cookies still send it"));
                } else {
                    lines.push(line("kind", toml_str("round_robin"), d));
                    warn(d, &format!("hash key `{key}` has no counterpart in the model (it hashes source addresses, headers and cookies); imported as round_robin"));
                }
            }
            ("least_conn", []) => balance = Some(("least_conn", d)),
            ("random", []) => balance = Some(("random", d)),
            ("random", ["two", ..]) => balance = Some(("p2c", d)),
            ("sticky", ["cookie", cname, rest @ ..]) => {
                lines.push(line("kind", toml_str("lb_cookie"), d));
                lines.push(line("cookie_name", toml_str(cname), d));
                let mut ttl = None;
                for p in rest {
                    match p.split_once('=') {
                        Some(("expires", "max")) => ttl = Some(315_360_000.0),
                        Some(("expires", v)) => ttl = parse_duration(v, 1.0),
                        Some(("path", v)) => lines.push(line("cookie_path", toml_str(v), d)),
                        None if *p == "httponly" => lines.push(line("http_only", "true".into(), d)),
                        None if *p == "secure" => lines.push(line("secure", "true".into(), d)),
                        _ => warn(d, &format!("sticky parameter `{p}` is not modelled")),
                    }
                }
                match ttl {
                    Some(t) => {
                        lines.push(line("ttl", secs_value(t.clamp(1.0, 604_800.0)), d));
                        lines.push(line("ttl_mode", toml_str("sliding"), d));
                    }
                    None => lines.push(line("ttl_mode", toml_str("session"), d)),
                }
                warn(d, "`sticky` is in nginx open source from 1.29.6 (NGINX Plus before); nginx 1.22 refuses it");
            }
            ("sticky", ["learn", rest @ ..]) => {
                lines.push(line("kind", toml_str("app_cookie"), d));
                for p in rest {
                    match p.split_once('=') {
                        Some(("lookup", v)) => {
                            if let Some(c) = v.strip_prefix("$cookie_") {
                                lines.push(line("cookie_name", toml_str(c), d));
                            }
                        }
                        Some(("timeout", v)) => {
                            if let Some(t) = parse_duration(v, 1.0) {
                                lines.push(line("timeout", secs_value(t), d));
                            }
                        }
                        _ => {}
                    }
                }
                warn(d, "`sticky` is in nginx open source from 1.29.6 (NGINX Plus before); nginx 1.22 refuses it");
            }
            _ => warn(d, "not modelled"),
        }
    }
    let has_kind = lines.iter().any(|l| l.key == "kind");
    match balance {
        Some((b, d)) if !has_kind => lines.insert(0, line("kind", toml_str(b), d)),
        Some((b, d)) => {
            let is_cookie = lines.iter().any(|l| {
                l.key == "kind" && (l.value.contains("lb_cookie") || l.value.contains("app_cookie"))
            });
            if is_cookie && b != "random" {
                lines.push(line("balance", toml_str(b), d));
            } else {
                warn(d, "the balancer is overridden by the hash; ignored");
            }
        }
        None if !has_kind => lines.insert(
            0,
            Line {
                key: "kind",
                value: toml_str("round_robin"),
                directive: "(no balancing directive: nginx's weighted round robin)".into(),
                src: u.src.clone(),
            },
        ),
        None => {}
    }
    // `kind` first.
    lines.sort_by_key(|l| l.key != "kind");
    Imported {
        name,
        header: u.text(),
        src: u.src.clone(),
        lines,
        servers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Vec<Directive>, ParseError> {
        parse(Path::new("t.conf"), s)
    }

    #[test]
    fn parses_blocks_comments_and_quotes() {
        let ds = parse_str("http {\n # c\n upstream a { server 1.2.3.4:80 weight=2; }\n log_format x '$a ${b}c';\n}\n").unwrap();
        let http = ds[0].block.as_ref().unwrap();
        assert_eq!(http[0].name, "upstream");
        assert_eq!(http[0].src.line, 3);
        assert_eq!(http[1].args, ["x", "$a ${b}c"]);
    }

    #[test]
    fn not_nginx_names_the_line() {
        let e = parse_str("hello world\nthis is text\n").unwrap_err();
        assert_eq!(e.line, 1, "{e}");
        let e = parse_str("a b;\n}\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.message.contains("unmatched `}`"));
        let e = parse_str("{\"json\": 1}").unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn upstreams_become_strategies() {
        let imp = import(
            Path::new("t.conf"),
            "http { upstream api { hash $http_x_api_key consistent; server 10.0.0.1:80 weight=3; keepalive 8; } }",
        )
        .unwrap();
        let s = &imp.strategies[0];
        assert_eq!(s.name, "api");
        let kv: Vec<(&str, &str)> = s.lines.iter().map(|l| (l.key, l.value.as_str())).collect();
        assert_eq!(
            kv,
            [
                ("kind", "\"header\""),
                ("header_name", "\"X-Api-Key\""),
                ("hash", "\"ketama\"")
            ]
        );
        assert_eq!(imp.warnings.len(), 1);
        assert_eq!(imp.warnings[0].directive, "keepalive 8");
    }

    #[test]
    fn glob_matches_stars() {
        assert!(glob("*.conf", "a.conf"));
        assert!(!glob("*.conf", "a.conf.bak"));
        assert!(glob("up*s.conf", "upstreams.conf"));
    }
}
