//! How `report.md` writes numbers, durations and lists.

/// Escapes the characters that would break a Markdown table cell.
pub(super) fn md_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('|', "\\|")
}

pub(super) fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

pub(super) fn join_and(items: &[String]) -> String {
    match items.len() {
        0 => String::new(),
        1 => items[0].clone(),
        _ => format!(
            "{} and {}",
            items[..items.len() - 1].join(", "),
            items[items.len() - 1]
        ),
    }
}

/// A duration in the unit that reads best.
pub(super) fn duration(s: f64) -> String {
    if s >= 3600.0 && (s / 3600.0).fract() == 0.0 {
        format!("{} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{} min", num(s / 60.0))
    } else {
        format!("{} s", num(s))
    }
}

/// A point in the run: "3 h 30 min", "2 min 10 s", "0 s".
pub(super) fn clock(s: f64) -> String {
    let t = s.round().max(0.0) as i64;
    let parts: Vec<String> = [(t / 3600, "h"), ((t % 3600) / 60, "min"), (t % 60, "s")]
        .iter()
        .filter(|(v, _)| *v > 0)
        .map(|(v, u)| format!("{v} {u}"))
        .collect();
    if parts.is_empty() {
        "0 s".into()
    } else {
        parts.join(" ")
    }
}

/// A number with at most 3 significant decimals, no trailing zeros.
pub(super) fn num(x: f64) -> String {
    let s = if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A count with thousands separators: 12,345.
pub(super) fn count(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}
