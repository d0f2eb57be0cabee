//! JSON-lines access logs (nginx `log_format … escape=json`, Envoy,
//! Traefik): one flat object per line, its fields named by a mapping.
//! Only the mapped fields are kept; the others are skipped unread.

use super::parse::{client_addr, request_line, BadLine, JsonFields, Record};
use super::time;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// A scalar JSON value, borrowed from the line when it has no escapes.
#[derive(Debug, Clone, PartialEq)]
enum Scalar<'a> {
    Str(Cow<'a, str>),
    Num(f64),
    /// `null`, or an object or array (ignored).
    Other,
}

impl<'de> de::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Scalar::Num(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Scalar::Num(v as f64))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Scalar::Num(v as f64))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'a> Scalar<'a> {
    fn text(self) -> Option<Cow<'a, str>> {
        match self {
            Scalar::Str(s) if s != "-" && !s.is_empty() => Some(s),
            Scalar::Num(v) => Some(Cow::Owned(v.to_string())),
            _ => None,
        }
    }
}

/// The slots the mapped fields go to.
const TIME: usize = 0;
const CLIENT: usize = 1;
const PORT: usize = 2;
const REQUEST: usize = 3;
const METHOD: usize = 4;
const PATH: usize = 5;
const STATUS: usize = 6;
const UA: usize = 7;
const SERVICE: usize = 8;
const SESSION: usize = 9;
const SLOTS: usize = 10;

/// A JSON object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Scalar::deserialize(d)? {
            Scalar::Str(s) => Ok(Key(s)),
            _ => Err(de::Error::custom("a string key")),
        }
    }
}

struct Line<'f> {
    names: [Option<&'f str>; SLOTS],
}

impl<'de> de::DeserializeSeed<'de> for &Line<'_> {
    type Value = [Option<Scalar<'de>>; SLOTS];
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct V<'l, 'f>(&'l Line<'f>);
        impl<'de> Visitor<'de> for V<'_, '_> {
            type Value = [Option<Scalar<'de>>; SLOTS];
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
                let mut out: [Option<Scalar<'de>>; SLOTS] = Default::default();
                while let Some(Key(k)) = m.next_key::<Key<'de>>()? {
                    let slot = self.0.names.iter().position(|n| *n == Some(k.as_ref()));
                    match slot {
                        Some(i) if out[i].is_none() => out[i] = Some(m.next_value()?),
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V(self))
    }
}

fn bad<T>(field: &'static str, expected: &'static str, found: String) -> Result<T, BadLine> {
    Err(BadLine {
        field,
        expected,
        found,
    })
}

/// `found` quoted and cut short for a message.
fn q(found: &str) -> String {
    let cut: String = found.chars().take(40).collect();
    let more = if cut.len() < found.len() { "…" } else { "" };
    format!("`{}{more}`", cut.escape_debug())
}

/// A service time in the field's unit: a number, or a string holding one
/// (nginx's `$upstream_response_time` lists every upstream tried,
/// `0.004, 0.120`: the last one answered).
fn service(v: Scalar<'_>, unit_s: f64) -> Option<f64> {
    let x = match v {
        Scalar::Num(x) => x,
        Scalar::Str(s) => s.rsplit(',').next()?.trim().parse().ok()?,
        Scalar::Other => return None,
    };
    (x.is_finite() && x >= 0.0).then_some(x * unit_s)
}

/// Parses one JSON line with the mapping `f`.
pub(super) fn parse<'a>(
    line: &'a str,
    f: &JsonFields,
    session: Option<&str>,
) -> Result<Record<'a>, BadLine> {
    let spec = Line {
        names: [
            Some(f.time.as_str()),
            Some(f.client.as_str()),
            f.port.as_deref(),
            f.request.as_deref(),
            f.method.as_deref(),
            f.path.as_deref(),
            f.status.as_deref(),
            f.user_agent.as_deref(),
            f.service_time.as_deref(),
            session,
        ],
    };
    let mut de = serde_json::Deserializer::from_str(line);
    let mut v = match de::DeserializeSeed::deserialize(&spec, &mut de).and_then(|v| {
        de.end()?;
        Ok(v)
    }) {
        Ok(v) => v,
        Err(e) => return bad("line", "one JSON object", q(&e.to_string())),
    };
    let time_ns = match v[TIME].take() {
        Some(Scalar::Num(x)) => time::epoch(x).ok_or_else(|| x.to_string()),
        Some(Scalar::Str(s)) => time::any(&s).ok_or_else(|| s.into_owned()),
        _ => return bad("time", "the time field", format!("no field `{}`", f.time)),
    };
    let time_ns = match time_ns {
        Ok(t) => t,
        Err(found) => return bad("time", "an ISO 8601, CLF or epoch time", q(&found)),
    };
    let Some(c) = v[CLIENT].take().and_then(Scalar::text) else {
        return bad(
            "client",
            "the client field",
            format!("no field `{}`", f.client),
        );
    };
    let Some((client, mut port)) = client_addr(&c) else {
        return bad("client", "an IP address, `ip` or `ip:port`", q(&c));
    };
    if let Some(p) = v[PORT].take().and_then(Scalar::text) {
        port = p.parse().ok();
    }
    let (mut method, mut path) = (Cow::Borrowed(""), Cow::Borrowed(""));
    if let Some(r) = v[REQUEST].take().and_then(Scalar::text) {
        match r {
            Cow::Borrowed(r) => {
                let (m, p) = request_line(r);
                (method, path) = (Cow::Borrowed(m), Cow::Borrowed(p));
            }
            Cow::Owned(r) => {
                let (m, p) = request_line(&r);
                (method, path) = (Cow::Owned(m.to_string()), Cow::Owned(p.to_string()));
            }
        }
    }
    if let Some(m) = v[METHOD].take().and_then(Scalar::text) {
        method = m;
    }
    if let Some(p) = v[PATH].take().and_then(Scalar::text) {
        path = p;
    }
    let status = v[STATUS]
        .take()
        .and_then(Scalar::text)
        .and_then(|s| s.parse().ok());
    let user_agent = v[UA]
        .take()
        .and_then(Scalar::text)
        .unwrap_or(Cow::Borrowed(""));
    let service_s = v[SERVICE]
        .take()
        .and_then(|s| service(s, f.service_time_unit_s));
    Ok(Record {
        time_ns,
        client,
        port,
        method,
        path,
        status,
        user_agent,
        session: v[SESSION].take().and_then(Scalar::text),
        service_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    #[test]
    fn nginx_escape_json_with_default_names() {
        let l = r#"{"time":"2026-03-01T10:00:00+01:00","remote_addr":"198.51.100.7","request":"GET /cart?id=3 HTTP/1.1","status":200,"http_user_agent":"Mozilla/5.0 \"quoted\"","upstream_response_time":"0.004, 0.120","extra":{"a":[1,2]}}"#;
        let r = parse(l, &JsonFields::default(), None).unwrap();
        assert_eq!(r.time_ns, super::time::iso("2026-03-01T09:00:00Z").unwrap());
        assert_eq!(r.client, "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!((r.method.as_ref(), r.path.as_ref()), ("GET", "/cart?id=3"));
        assert_eq!(r.status, Some(200));
        assert_eq!(r.user_agent, "Mozilla/5.0 \"quoted\"");
        assert_eq!(r.service_s, Some(0.120));
        assert_eq!(r.session, None);
    }

    #[test]
    fn envoy_names_milliseconds_and_a_session_field() {
        let f = JsonFields {
            time: "start_time".into(),
            client: "downstream_remote_address".into(),
            request: None,
            method: Some("method".into()),
            path: Some("path".into()),
            status: Some("response_code".into()),
            user_agent: Some("user_agent".into()),
            service_time: Some("duration".into()),
            service_time_unit_s: 1e-3,
            ..JsonFields::default()
        };
        let l = r#"{"start_time":"2026-03-01T10:00:00.250Z","downstream_remote_address":"[2001:db8::9]:50412","method":"POST","path":"/api","response_code":201,"user_agent":null,"duration":35,"sid":"abc"}"#;
        let r = parse(l, &f, Some("sid")).unwrap();
        assert_eq!(r.port, Some(50412));
        assert_eq!((r.method.as_ref(), r.path.as_ref()), ("POST", "/api"));
        assert_eq!(r.user_agent, "");
        assert_eq!(r.service_s, Some(0.035));
        assert_eq!(r.session.as_deref(), Some("abc"));
        assert_eq!(r.status, Some(201));
    }

    #[test]
    fn bad_json_lines_say_what() {
        let f = JsonFields::default();
        let e = parse("{not json", &f, None).unwrap_err();
        assert_eq!(e.field, "line");
        let e = parse(r#"{"remote_addr":"192.0.2.1"}"#, &f, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "time: expected the time field, found no field `time`"
        );
        let e = parse(r#"{"time":1700000000,"remote_addr":"x"}"#, &f, None).unwrap_err();
        assert_eq!(e.field, "client");
        let e = parse(
            r#"{"time":"yesterday","remote_addr":"192.0.2.1"}"#,
            &f,
            None,
        )
        .unwrap_err();
        assert_eq!(e.field, "time");
        assert!(parse(
            r#"{"time":1700000000,"remote_addr":"192.0.2.1"} x"#,
            &f,
            None
        )
        .is_err());
    }
}
