//! One access-log line to one [`Record`]: Apache/nginx `combined` and
//! `common`, AWS ALB, HAProxy's HTTP log and JSON lines with a field
//! mapping. Parsers borrow from the line and allocate nothing on the
//! common path (a JSON string with escapes is the exception).

use super::time;
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

/// An access-log format, as `workload.replay.format` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Apache/nginx combined: `%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`.
    Combined,
    /// Apache/nginx common: `%h %l %u %t "%r" %>s %b`.
    Common,
    /// AWS Application Load Balancer access logs.
    Alb,
    /// HAProxy's default HTTP log (`option httplog`).
    Haproxy,
    /// One JSON object per line, fields named by a mapping.
    Jsonl,
}

impl Format {
    /// Every format, in the order the docs list them.
    pub const ALL: [Format; 5] = [
        Format::Combined,
        Format::Common,
        Format::Alb,
        Format::Haproxy,
        Format::Jsonl,
    ];

    /// The format's name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Format::Combined => "combined",
            Format::Common => "common",
            Format::Alb => "alb",
            Format::Haproxy => "haproxy",
            Format::Jsonl => "jsonl",
        }
    }

    /// The format called `name`.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The names of every format.
    pub fn names() -> Vec<&'static str> {
        Format::ALL.iter().map(|f| f.name()).collect()
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One request as a log line tells it. Strings are as the line has them
/// (JSON strings unescaped); an absent field is empty or `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// When the request arrived, ns since the Unix epoch (UTC).
    pub time_ns: i64,
    /// The client's address as the load balancer saw it.
    pub client: IpAddr,
    /// The client's source port, when the log has it.
    pub port: Option<u16>,
    /// The HTTP method (`GET`), empty when unknown.
    pub method: Cow<'a, str>,
    /// The request target (`/cart?id=3`, or a full URL on ALB), empty when unknown.
    pub path: Cow<'a, str>,
    /// The response status, when the log has it.
    pub status: Option<u16>,
    /// The `User-Agent`, empty when absent or `-`.
    pub user_agent: Cow<'a, str>,
    /// The session field (`workload.replay.session.field`), when asked for and present.
    pub session: Option<Cow<'a, str>>,
    /// The backend's time on the request, seconds (ALB
    /// `target_processing_time`, HAProxy `Tr`, a JSON field), when known.
    pub service_s: Option<f64>,
}

/// What did not parse on a line: names the field and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// The field or part of the line.
    pub field: &'static str,
    /// What was expected there.
    pub expected: &'static str,
    /// What was found (cut short).
    pub found: String,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.field, self.expected, self.found
        )
    }
}

fn bad<T>(field: &'static str, expected: &'static str, found: &str) -> Result<T, BadLine> {
    let found = if found.is_empty() {
        "nothing".to_string()
    } else {
        let cut: String = found.chars().take(40).collect();
        let more = if cut.len() < found.len() { "…" } else { "" };
        format!("`{}{more}`", cut.escape_debug())
    };
    Err(BadLine {
        field,
        expected,
        found,
    })
}

/// The JSON field names of a `jsonl` log (`workload.replay.fields`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JsonFields {
    /// The request time (ISO 8601, CLF or an epoch number).
    pub time: String,
    /// The client address, `ip` or `ip:port`.
    pub client: String,
    /// The client port, if a field of its own.
    pub port: Option<String>,
    /// The request line `GET /x HTTP/1.1`, if the log has one.
    pub request: Option<String>,
    /// The method, if a field of its own.
    pub method: Option<String>,
    /// The path, if a field of its own.
    pub path: Option<String>,
    /// The response status.
    pub status: Option<String>,
    /// The user agent.
    pub user_agent: Option<String>,
    /// The backend's time on the request.
    pub service_time: Option<String>,
    /// Seconds per unit of `service_time` (0.001 for milliseconds).
    pub service_time_unit_s: f64,
}

impl Default for JsonFields {
    /// The names of nginx's `log_format … escape=json` with the usual
    /// variable names: `time`, `remote_addr`, `request`, `status`,
    /// `http_user_agent`, `upstream_response_time` (seconds).
    fn default() -> Self {
        JsonFields {
            time: "time".into(),
            client: "remote_addr".into(),
            port: None,
            request: Some("request".into()),
            method: None,
            path: None,
            status: Some("status".into()),
            user_agent: Some("http_user_agent".into()),
            service_time: Some("upstream_response_time".into()),
            service_time_unit_s: 1.0,
        }
    }
}

/// A line parser for one format.
#[derive(Debug, Clone)]
pub struct Parser {
    format: Format,
    fields: JsonFields,
    session_field: Option<String>,
}

impl Parser {
    /// A parser for `format`; `fields` is used by `jsonl` only;
    /// `session_field` names the JSON field holding the session identity.
    pub fn new(format: Format, fields: JsonFields, session_field: Option<String>) -> Self {
        Parser {
            format,
            fields,
            session_field,
        }
    }

    /// The format it parses.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Parses one line (without its line break).
    pub fn parse<'a>(&self, line: &'a str) -> Result<Record<'a>, BadLine> {
        match self.format {
            Format::Combined => clf_line(line, true),
            Format::Common => clf_line(line, false),
            Format::Alb => alb_line(line),
            Format::Haproxy => haproxy_line(line),
            Format::Jsonl => super::jsonl::parse(line, &self.fields, self.session_field.as_deref()),
        }
    }
}

/// A space-separated token at `*at`, moving past it and the spaces after.
#[inline]
fn token<'a>(s: &'a str, at: &mut usize) -> &'a str {
    let b = s.as_bytes();
    let start = *at;
    let mut i = memchr::memchr(b' ', &b[start..]).map_or(b.len(), |k| start + k);
    let t = &s[start..i];
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    *at = i;
    t
}

/// A `"…"` field at `*at` (backslash escapes kept as they are), moving past
/// it and the spaces after; `None` when no quoted field starts there or it
/// does not close.
#[inline]
fn quoted<'a>(s: &'a str, at: &mut usize) -> Option<&'a str> {
    let b = s.as_bytes();
    if b.get(*at) != Some(&b'"') {
        return None;
    }
    let start = *at + 1;
    let mut i = start;
    loop {
        match memchr::memchr2(b'"', b'\\', &b[i..]) {
            None => return None,
            Some(k) => {
                i += k;
                if b[i] == b'\\' {
                    i += 2;
                    if i > b.len() {
                        return None;
                    }
                } else {
                    break;
                }
            }
        }
    }
    let t = &s[start..i];
    i += 1;
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    *at = i;
    Some(t)
}

/// `-` as absent.
#[inline]
fn dash(s: &str) -> &str {
    if s == "-" {
        ""
    } else {
        s
    }
}

/// An address, `ip` or `ip:port` or `[v6]:port`.
pub fn client_addr(s: &str) -> Option<(IpAddr, Option<u16>)> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some((ip, None));
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (ip, port) = rest.split_once("]:")?;
        return Some((ip.parse().ok()?, Some(port.parse().ok()?)));
    }
    let (ip, port) = s.rsplit_once(':')?;
    Some((ip.parse().ok()?, Some(port.parse().ok()?)))
}

/// `GET /path HTTP/1.1` to method and target; anything else is a target
/// with no method (a garbled request line is still a request).
#[inline]
pub fn request_line(r: &str) -> (&str, &str) {
    match r.split_once(' ') {
        Some((m, rest)) if !m.is_empty() && m.bytes().all(|c| c.is_ascii_uppercase()) => {
            let target = rest.rsplit_once(' ').map_or(rest, |(t, _)| t);
            (m, target)
        }
        _ => ("", dash(r)),
    }
}

#[inline]
fn status(s: &str) -> Option<u16> {
    let v: u16 = s.parse().ok()?;
    (100..=999).contains(&v).then_some(v)
}

fn clf_line(line: &str, combined: bool) -> Result<Record<'_>, BadLine> {
    let mut at = 0;
    let host = token(line, &mut at);
    let Some((client, port)) = client_addr(host) else {
        return bad("client address (%h)", "an IP address", host);
    };
    let _ident = token(line, &mut at);
    let _user = token(line, &mut at);
    let b = line.as_bytes();
    if b.get(at) != Some(&b'[') {
        return bad("time (%t)", "`[dd/Mon/yyyy:HH:MM:SS ±zone]`", &line[at..]);
    }
    let Some(close) = memchr::memchr(b']', &b[at..]) else {
        return bad("time (%t)", "a closing `]`", &line[at..]);
    };
    let t = &line[at + 1..at + close];
    let Some(time_ns) = time::clf(t) else {
        return bad("time (%t)", "`dd/Mon/yyyy:HH:MM:SS ±zone`", t);
    };
    at += close + 1;
    while b.get(at) == Some(&b' ') {
        at += 1;
    }
    let Some(req) = quoted(line, &mut at) else {
        return bad("request (\"%r\")", "a quoted request line", &line[at..]);
    };
    let (method, path) = request_line(req);
    let st = token(line, &mut at);
    let Some(status) = status(st) else {
        return bad("status (%>s)", "a 3-digit status", st);
    };
    let bytes = token(line, &mut at);
    if bytes != "-" && !bytes.bytes().all(|c| c.is_ascii_digit()) || bytes.is_empty() {
        return bad("size (%b)", "a byte count or `-`", bytes);
    }
    let mut user_agent = "";
    if combined {
        if quoted(line, &mut at).is_none() {
            return bad("referer (\"%{Referer}i\")", "a quoted field", &line[at..]);
        }
        match quoted(line, &mut at) {
            Some(ua) => user_agent = dash(ua),
            None => {
                return bad(
                    "user agent (\"%{User-agent}i\")",
                    "a quoted field",
                    &line[at..],
                )
            }
        }
    }
    Ok(Record {
        time_ns,
        client,
        port,
        method: Cow::Borrowed(method),
        path: Cow::Borrowed(path),
        status: Some(status),
        user_agent: Cow::Borrowed(user_agent),
        session: None,
        service_s: None,
    })
}

/// A time in seconds as ALB writes it, `-1` for none.
#[inline]
fn alb_secs(s: &str) -> Option<f64> {
    s.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0)
}

fn alb_line(line: &str) -> Result<Record<'_>, BadLine> {
    // type time elb client:port target:port request_processing_time
    // target_processing_time response_processing_time elb_status_code
    // target_status_code received_bytes sent_bytes "request" "user_agent"
    // ssl_cipher ssl_protocol target_group_arn "trace_id" "domain_name"
    // "chosen_cert_arn" matched_rule_priority request_creation_time …
    let mut at = 0;
    let mut f: [&str; 22] = [""; 22];
    let mut n = 0;
    let b = line.as_bytes();
    while n < 22 && at < b.len() {
        f[n] = if b[at] == b'"' {
            match quoted(line, &mut at) {
                Some(q) => q,
                None => return bad("quoted field", "a closing `\"`", &line[at..]),
            }
        } else {
            token(line, &mut at)
        };
        n += 1;
    }
    if n < 14 {
        return bad("line", "at least 14 ALB fields", line);
    }
    let created = if n >= 22 { time::iso(f[21]) } else { None };
    let Some(time_ns) = created.or_else(|| time::iso(f[1])) else {
        return bad("time", "an ISO 8601 time", f[1]);
    };
    let Some((client, port)) = client_addr(f[3]) else {
        return bad("client:port", "an address `ip:port`", f[3]);
    };
    let (method, path) = request_line(f[12]);
    Ok(Record {
        time_ns,
        client,
        port,
        method: Cow::Borrowed(method),
        path: Cow::Borrowed(path),
        status: status(f[8]),
        user_agent: Cow::Borrowed(dash(f[13])),
        session: None,
        service_s: alb_secs(f[6]),
    })
}

fn haproxy_line(line: &str) -> Result<Record<'_>, BadLine> {
    // [syslog prefix] client:port [accept_date] frontend backend/server
    // Tq/Tw/Tc/Tr/Tt status bytes … "request"
    let b = line.as_bytes();
    let mut open = None;
    let mut from = 0;
    while let Some(k) = line[from..].find('[') {
        let i = from + k;
        if b.get(i + 3) == Some(&b'/') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            open = Some(i);
            break;
        }
        from = i + 1;
    }
    let Some(open) = open else {
        return bad("accept date", "`[dd/Mon/yyyy:HH:MM:SS.mmm]`", line);
    };
    let Some(close) = line[open..].find(']') else {
        return bad("accept date", "a closing `]`", &line[open..]);
    };
    let Some(time_ns) = time::clf(&line[open + 1..open + close]) else {
        return bad(
            "accept date",
            "`dd/Mon/yyyy:HH:MM:SS.mmm`",
            &line[open + 1..open + close],
        );
    };
    let before = line[..open].trim_end();
    let host = before.rsplit(' ').next().unwrap_or("");
    let Some((client, port)) = client_addr(host) else {
        return bad("client", "an address `ip:port`", host);
    };
    let mut at = open + close + 1;
    while b.get(at) == Some(&b' ') {
        at += 1;
    }
    let _frontend = token(line, &mut at);
    let _server = token(line, &mut at);
    let timers = token(line, &mut at);
    let tr = timers.split('/').nth(3);
    let Some(tr) = tr else {
        return bad("timers", "`Tq/Tw/Tc/Tr/Tt`", timers);
    };
    let service_s = tr
        .parse::<f64>()
        .ok()
        .filter(|v| *v >= 0.0)
        .map(|ms| ms / 1e3);
    let st = token(line, &mut at);
    let Some(status) = status(st) else {
        return bad("status", "a 3-digit status", st);
    };
    // The request is the last quoted field.
    let req = match line.rfind('"') {
        Some(end) if end > at => match line[at..end].rfind('"') {
            Some(k) if at + k < end => &line[at + k + 1..end],
            _ => "",
        },
        _ => "",
    };
    let (method, path) = request_line(req);
    Ok(Record {
        time_ns,
        client,
        port,
        method: Cow::Borrowed(method),
        path: Cow::Borrowed(path),
        status: Some(status),
        user_agent: Cow::Borrowed(""),
        session: None,
        service_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn p(f: Format) -> Parser {
        Parser::new(f, JsonFields::default(), None)
    }

    #[test]
    fn combined_line_from_the_apache_docs() {
        let l = r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#;
        let r = p(Format::Combined).parse(l).unwrap();
        assert_eq!(r.time_ns, 971_211_336 * S);
        assert_eq!(r.client, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(
            (r.method.as_ref(), r.path.as_ref()),
            ("GET", "/apache_pb.gif")
        );
        assert_eq!(r.status, Some(200));
        assert_eq!(r.user_agent, "Mozilla/4.08 [en] (Win98; I ;Nav)");
        assert_eq!(r.service_s, None);
        // The same line is `common` too, with its tail ignored.
        let c = p(Format::Common).parse(l).unwrap();
        assert_eq!((c.time_ns, c.user_agent.as_ref()), (r.time_ns, ""));
        // An escaped quote inside the user agent.
        let e = l.replace("Nav)", r#"Nav \"x\")"#);
        let r = p(Format::Combined).parse(&e).unwrap();
        assert_eq!(r.user_agent, r#"Mozilla/4.08 [en] (Win98; I ;Nav \"x\")"#);
    }

    #[test]
    fn combined_bad_lines_name_the_field() {
        let ok = r#"192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 - "-" "-""#;
        assert!(p(Format::Combined).parse(ok).is_ok());
        for (line, field) in [
            (
                ok.replace("192.0.2.1", "host.example"),
                "client address (%h)",
            ),
            (ok.replace("Oct", "Okt"), "time (%t)"),
            (ok.replace(" 200 ", " OK "), "status (%>s)"),
            (ok.replace(r#" "-" "-""#, ""), "referer (\"%{Referer}i\")"),
            (
                ok[..ok.find("1\" 200").unwrap() + 1].to_string(),
                "request (\"%r\")",
            ),
            ("garbage".to_string(), "client address (%h)"),
        ] {
            let e = p(Format::Combined).parse(&line).unwrap_err();
            assert_eq!(e.field, field, "{line}: {e}");
        }
        let e = p(Format::Combined)
            .parse(&ok.replace("Oct", "Okt"))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "time (%t): expected `dd/Mon/yyyy:HH:MM:SS ±zone`, found `10/Okt/2000:13:55:36 -0700`"
        );
    }

    #[test]
    fn alb_line_from_the_aws_docs() {
        let l = r#"https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-""#;
        let r = p(Format::Alb).parse(l).unwrap();
        // request_creation_time, not the response time.
        assert_eq!(r.time_ns, 1_530_570_168 * S + 364_000_000);
        assert_eq!(r.client, "192.168.131.39".parse::<IpAddr>().unwrap());
        assert_eq!(r.port, Some(2817));
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "https://www.example.com:443/");
        assert_eq!(r.user_agent, "curl/7.46.0");
        assert_eq!(r.service_s, Some(0.048));
        assert_eq!(r.status, Some(200));
        // Not dispatched: -1.
        let undispatched = l.replace(" 0.048 ", " -1 ");
        let r = p(Format::Alb).parse(&undispatched).unwrap();
        assert_eq!(r.service_s, None);
        let e = p(Format::Alb).parse("https 2018 x").unwrap_err();
        assert_eq!(e.field, "line");
    }

    #[test]
    fn haproxy_line_from_its_configuration_manual() {
        let l = r#"Feb  6 12:14:14 localhost haproxy[14389]: 10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 {1wt.eu} {} "GET /index.html HTTP/1.1""#;
        let r = p(Format::Haproxy).parse(l).unwrap();
        assert_eq!(r.time_ns, 1_233_922_454 * S + 655_000_000);
        assert_eq!(r.client, "10.0.1.2".parse::<IpAddr>().unwrap());
        assert_eq!(r.port, Some(33317));
        assert_eq!(r.service_s, Some(0.069));
        assert_eq!((r.method.as_ref(), r.path.as_ref()), ("GET", "/index.html"));
        assert_eq!(r.status, Some(200));
        // Without the syslog prefix, and a request that never reached a server.
        let bare = l[l.find("10.0.1.2").unwrap()..].replace("10/0/30/69/109", "10/0/-1/-1/109");
        let r = p(Format::Haproxy).parse(&bare).unwrap();
        assert_eq!(r.service_s, None);
        let e = p(Format::Haproxy)
            .parse("Feb  6 12:14:14 localhost haproxy[14389]: Proxy started.")
            .unwrap_err();
        assert_eq!(e.field, "accept date");
    }

    #[test]
    fn addresses_with_and_without_ports() {
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(client_addr("2001:db8::1"), Some((v6, None)));
        assert_eq!(client_addr("[2001:db8::1]:443"), Some((v6, Some(443))));
        assert_eq!(
            client_addr("192.0.2.1:80"),
            Some(("192.0.2.1".parse().unwrap(), Some(80)))
        );
        assert_eq!(client_addr("example.com"), None);
        assert_eq!(request_line("\\x16\\x03"), ("", "\\x16\\x03"));
        assert_eq!(request_line("-"), ("", ""));
    }
}
