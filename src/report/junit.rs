//! JUnit XML for SLO assertions, so CI systems (GitHub Actions, GitLab,
//! Jenkins) show each assertion on each strategy as a test case: one
//! `<testsuite>` per scenario, one `<testcase>` per result, a `<failure>`
//! with the value found when it does not hold. No timestamps or durations:
//! the same results give the same bytes.

use crate::decision::SloResult;
use crate::scenario::decision::Bound;
use std::fmt::Write as _;

/// Escapes text for an XML 1.0 attribute value or element content: the
/// five markup characters as entities, tab and line breaks as character
/// references (attribute normalisation would turn them into spaces), and
/// characters XML 1.0 cannot carry at all as U+FFFD.
pub fn escape_xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The test case's name: `cookie-1d: sessions_lost_pct < 1`, with the
/// bound when it is not the mean.
fn case_name(r: &SloResult) -> String {
    let bound = match r.slo.bound {
        Bound::Mean => String::new(),
        b => format!(" ({} bound)", b.name()),
    };
    format!("{}: {}{bound}", r.strategy, r.slo.constraint)
}

/// Why a result failed, in one line.
fn failure_message(r: &SloResult) -> String {
    let c = &r.slo.constraint;
    let what = match r.bound_used {
        Bound::Mean => "mean".to_string(),
        b => format!("{} 95 % bound", b.name()),
    };
    let fallback = if r.bound_used != r.slo.bound {
        " (one replication: no interval, so the mean was tested)"
    } else {
        ""
    };
    format!(
        "{} {what} is {}, expected {} {}{fallback}",
        c.column,
        r.value,
        c.op.symbol(),
        c.value
    )
}

/// A JUnit XML document with one suite, `suite` (the scenario's name),
/// holding one test case per result, in order.
pub fn junit_xml(suite: &str, results: &[SloResult]) -> String {
    let failures = results.iter().filter(|r| !r.passed).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let suite = escape_xml(suite);
    let _ = writeln!(
        out,
        "<testsuites name=\"stickysim\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
        results.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{suite}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        results.len()
    );
    for r in results {
        let name = escape_xml(&case_name(r));
        if r.passed {
            let _ = writeln!(out, "    <testcase classname=\"{suite}\" name=\"{name}\"/>");
        } else {
            let msg = escape_xml(&failure_message(r));
            let _ = writeln!(out, "    <testcase classname=\"{suite}\" name=\"{name}\">");
            let _ = writeln!(
                out,
                "      <failure type=\"slo\" message=\"{msg}\">{msg}</failure>"
            );
            let _ = writeln!(out, "    </testcase>");
        }
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::decision::{parse_constraint, Slo, SloTarget};
    use quick_xml::events::Event;
    use quick_xml::{Reader, XmlVersion};

    fn result(strategy: &str, c: &str, bound: Bound, value: f64, passed: bool) -> SloResult {
        SloResult {
            slo: Slo {
                target: SloTarget::Strategy(strategy.into()),
                constraint: parse_constraint(c).unwrap(),
                bound,
            },
            strategy: strategy.into(),
            value,
            bound_used: bound,
            passed,
        }
    }

    /// (element, attributes) of every start or empty element, parsed by a
    /// conforming reader that checks end tags match.
    fn parse(xml: &str) -> Vec<(String, Vec<(String, String)>)> {
        let mut reader = Reader::from_str(xml);
        let mut out = Vec::new();
        loop {
            match reader.read_event().expect("well-formed XML") {
                Event::Start(e) | Event::Empty(e) => {
                    let attrs = e
                        .attributes()
                        .map(|a| {
                            let a = a.expect("well-formed attribute");
                            (
                                AsRef::<str>::as_ref(&a.key).to_string(),
                                a.normalized_value(XmlVersion::Implicit1_0)
                                    .unwrap()
                                    .into_owned(),
                            )
                        })
                        .collect();
                    out.push((AsRef::<str>::as_ref(&e.name()).to_string(), attrs));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        out
    }

    fn attr<'a>(el: &'a (String, Vec<(String, String)>), key: &str) -> &'a str {
        el.1.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap()
    }

    #[test]
    fn one_test_case_per_assertion_and_failures_carry_the_value() {
        let results = [
            result(
                "cookie-1d",
                "sessions_lost_pct < 1",
                Bound::Upper,
                1.25,
                false,
            ),
            result("rr", "latency_p99_ms <= 500", Bound::Mean, 120.5, true),
        ];
        let xml = junit_xml("checkout", &results);
        let els = parse(&xml);
        let names: Vec<&str> = els.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            ["testsuites", "testsuite", "testcase", "failure", "testcase"]
        );
        assert_eq!(
            (attr(&els[1], "tests"), attr(&els[1], "failures")),
            ("2", "1")
        );
        assert_eq!(
            attr(&els[2], "name"),
            "cookie-1d: sessions_lost_pct < 1 (upper bound)"
        );
        assert_eq!(
            attr(&els[3], "message"),
            "sessions_lost_pct upper 95 % bound is 1.25, expected < 1"
        );
        assert_eq!(attr(&els[4], "name"), "rr: latency_p99_ms <= 500");
        assert_eq!(attr(&els[4], "classname"), "checkout");
        assert_eq!(xml, junit_xml("checkout", &results), "deterministic");
    }

    #[test]
    fn markup_and_control_characters_are_escaped() {
        let nasty = "a<b>&\"c'\td\ne\u{1}";
        let r = result(nasty, "util_max >= 0.5", Bound::Mean, 0.25, false);
        let xml = junit_xml("s&<x>", &[r]);
        let els = parse(&xml);
        assert_eq!(attr(&els[1], "name"), "s&<x>");
        assert_eq!(
            attr(&els[2], "name"),
            "a<b>&\"c'\td\ne\u{FFFD}: util_max >= 0.5"
        );
        assert!(!xml.contains('\u{1}'));
        // An empty suite is still a valid document.
        let empty = parse(&junit_xml("none", &[]));
        assert_eq!(attr(&empty[1], "tests"), "0");
    }
}
