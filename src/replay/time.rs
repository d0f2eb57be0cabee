//! Timestamps as access logs write them, to nanoseconds since the Unix
//! epoch (UTC): the Common Log Format's `10/Oct/2000:13:55:36 -0700`
//! (HAProxy's `06/Feb/2009:12:14:14.655` without a zone), ISO 8601 /
//! RFC 3339 (`2018-07-02T22:23:00.186641Z`, `+01:00`, `+0100`) and epoch
//! numbers. Hand-written: a log has one timestamp per line, and a general
//! date library would cost more than the rest of the line.

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard
/// Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// The month abbreviations as the Common Log Format writes them.
pub fn month_name(m: u32) -> &'static str {
    std::str::from_utf8(MONTHS[(m as usize).clamp(1, 12) - 1]).unwrap_or("Jan")
}

#[inline]
fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at + n)?;
    let mut v = 0u32;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// A fraction of a second after the point at `at` (the point itself
/// included): nanoseconds and the index after it.
#[inline]
fn fraction(b: &[u8], mut at: usize) -> (i64, usize) {
    if b.get(at) != Some(&b'.') && b.get(at) != Some(&b',') {
        return (0, at);
    }
    at += 1;
    let mut ns = 0i64;
    let mut scale = 100_000_000i64;
    while let Some(&c) = b.get(at) {
        if !c.is_ascii_digit() {
            break;
        }
        ns += i64::from(c - b'0') * scale;
        scale /= 10;
        at += 1;
    }
    (ns, at)
}

#[inline]
fn civil_ns(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, frac_ns: i64) -> Option<i64> {
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(s);
    secs.checked_mul(1_000_000_000)?.checked_add(frac_ns)
}

/// A zone offset `Z`, `+HH:MM`, `+HHMM` or `+HH` at `at`, in seconds east
/// of UTC; `None` when absent (the time is then taken as UTC), `Err` when
/// something else is there.
#[inline]
fn zone(b: &[u8], at: usize) -> Result<(i64, usize), ()> {
    match b.get(at) {
        None => Ok((0, at)),
        Some(b'Z') | Some(b'z') => Ok((0, at + 1)),
        Some(&sign @ (b'+' | b'-')) => {
            let h = digits(b, at + 1, 2).ok_or(())?;
            let (m, end) = match b.get(at + 3) {
                Some(b':') => (digits(b, at + 4, 2).ok_or(())?, at + 6),
                Some(c) if c.is_ascii_digit() => (digits(b, at + 3, 2).ok_or(())?, at + 5),
                _ => (0, at + 3),
            };
            if h > 23 || m > 59 {
                return Err(());
            }
            let off = i64::from(h * 3600 + m * 60);
            Ok((if sign == b'-' { -off } else { off }, end))
        }
        Some(_) => Err(()),
    }
}

/// `dd/Mon/yyyy:HH:MM:SS[.fff][ ±HHMM]` (the Common Log Format's `%t`
/// without its brackets, and HAProxy's accept date). Without a zone the
/// time is UTC.
pub fn clf(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let d = digits(b, 0, 2)?;
    let mon = &b[3..6];
    let mo = MONTHS.iter().position(|m| m.eq_ignore_ascii_case(mon))? as u32 + 1;
    let y = digits(b, 7, 4)?;
    if b[14] != b':' || b[17] != b':' {
        return None;
    }
    let (h, mi, sec) = (digits(b, 12, 2)?, digits(b, 15, 2)?, digits(b, 18, 2)?);
    let (frac, mut at) = fraction(b, 20);
    if b.get(at) == Some(&b' ') {
        at += 1;
    }
    let (off, end) = zone(b, at).ok()?;
    if end != b.len() {
        return None;
    }
    Some(civil_ns(i64::from(y), mo, d, h, mi, sec, frac)? - off * 1_000_000_000)
}

/// ISO 8601 / RFC 3339: `yyyy-mm-ddTHH:MM:SS[.f…][Z|±HH:MM|±HHMM]` (a
/// space for the `T` too). Without a zone the time is UTC.
pub fn iso(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let y = digits(b, 0, 4)?;
    let (mo, d) = (digits(b, 5, 2)?, digits(b, 8, 2)?);
    let (h, mi, sec) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    let (frac, at) = fraction(b, 19);
    let (off, end) = zone(b, at).ok()?;
    if end != b.len() {
        return None;
    }
    Some(civil_ns(i64::from(y), mo, d, h, mi, sec, frac)? - off * 1_000_000_000)
}

/// An epoch number: seconds below 10¹¹, milliseconds below 10¹⁴,
/// microseconds below 10¹⁷, else nanoseconds (the magnitudes of dates
/// between 1973 and 5138 in each unit).
pub fn epoch(v: f64) -> Option<i64> {
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    let ns = if v < 1e11 {
        v * 1e9
    } else if v < 1e14 {
        v * 1e6
    } else if v < 1e17 {
        v * 1e3
    } else {
        v
    };
    (ns < 9.2e18).then_some(ns.round() as i64)
}

/// Any of the above: a CLF time, an ISO 8601 time or an epoch number.
pub fn any(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    iso(s)
        .or_else(|| clf(s))
        .or_else(|| s.parse::<f64>().ok().and_then(epoch))
}

/// `yyyy-mm-ddTHH:MM:SS.ffffffZ` for an epoch time in nanoseconds.
pub fn format_iso(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:06}Z",
        t / 3600,
        t / 60 % 60,
        t % 60,
        frac / 1000
    )
}

/// `dd/Mon/yyyy:HH:MM:SS +0000` (the Common Log Format's `%t`, in UTC).
pub fn format_clf(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{d:02}/{}/{y:04}:{:02}:{:02}:{:02} +0000",
        month_name(m),
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn clf_with_zones_is_utc() {
        // Apache's documentation example: 13:55:36 at -0700 is 20:55:36 UTC.
        let t = clf("10/Oct/2000:13:55:36 -0700").unwrap();
        assert_eq!(t, 971_211_336 * S);
        assert_eq!(clf("10/Oct/2000:20:55:36 +0000"), Some(t));
        assert_eq!(clf("10/Oct/2000:22:55:36 +0200"), Some(t));
        // HAProxy: milliseconds, no zone.
        assert_eq!(
            clf("06/Feb/2009:12:14:14.655"),
            Some(1_233_922_454 * S + 655_000_000)
        );
        for bad in [
            "10/Foo/2000:13:55:36 -0700",
            "10/Oct/2000:25:55:36 -0700",
            "10/Oct/2000:13:55:36 -07x0",
            "10/Oct/2000 13:55:36",
            "",
        ] {
            assert_eq!(clf(bad), None, "{bad}");
        }
    }

    #[test]
    fn iso_with_fractions_and_offsets() {
        let t = iso("2018-07-02T22:23:00.186641Z").unwrap();
        assert_eq!(t, 1_530_570_180 * S + 186_641_000);
        assert_eq!(iso("2018-07-03T00:23:00.186641+02:00"), Some(t));
        assert_eq!(iso("2018-07-02T17:23:00.186641-0500"), Some(t));
        assert_eq!(iso("2018-07-02 22:23:00.186641"), Some(t));
        assert_eq!(iso("2018-13-02T22:23:00Z"), None);
        assert_eq!(iso("2018-07-02T22:23:00Zjunk"), None);
    }

    #[test]
    fn epochs_in_each_unit_and_round_trips() {
        let t = 1_530_570_180 * S;
        assert_eq!(epoch(1_530_570_180.0), Some(t));
        assert_eq!(epoch(1_530_570_180_000.0), Some(t));
        assert_eq!(epoch(1_530_570_180_000_000.0), Some(t));
        assert_eq!(epoch(1_530_570_180_000_000_000.0), Some(t));
        assert_eq!(epoch(-1.0), None);
        assert_eq!(any("[10/Oct/2000:13:55:36 -0700]"), Some(971_211_336 * S));
        assert_eq!(any("971211336.5"), Some(971_211_336 * S + S / 2));
        for ns in [0, 971_211_336 * S + 123_456_000, 4_102_444_800 * S] {
            assert_eq!(iso(&format_iso(ns)), Some(ns));
            assert_eq!(clf(&format_clf(ns)), Some(ns - ns % S));
        }
        for z in [-800_000, -1, 0, 1, 11_016, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }
}
