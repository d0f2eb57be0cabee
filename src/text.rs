//! Text from input shown in a medium that gives characters meaning: a
//! terminal (control characters), Markdown (`*`, `[`, `<`, `|`, …) or an
//! error message (long values). One place for these escapes, used by
//! validation messages and the Markdown report alike.
//!
//! ```
//! use stickysim::text;
//! assert_eq!(text::terminal("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
//! assert_eq!(text::markdown("## <b>x</b>"), "\\#\\# \\<b\\>x\\</b\\>");
//! ```

use std::fmt::Write as _;

/// Most characters of an input value echoed in a message.
pub const ECHO_CHARS: usize = 40;

/// `s` with every control character (C0, DEL, C1: newlines, tabs, ESC,
/// BEL, …) and the Unicode bidirectional overrides written as `\u{..}`, so
/// that printing it can't move the cursor, ring, recolour or reorder a
/// terminal. Everything else is kept.
pub fn terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        push_visible(&mut out, c);
    }
    out
}

fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn push_visible(out: &mut String, c: char) {
    if is_hidden(c) {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    } else {
        out.push(c);
    }
}

/// `s` cut to [`ECHO_CHARS`] characters, with `…` and the full length when
/// it was longer (a 263-digit number or a 65,536-character name is not
/// echoed in full).
pub fn cut(s: &str) -> String {
    cut_to(s, ECHO_CHARS)
}

/// `s` cut to `max` characters, with `…` and the full length when longer.
pub fn cut_to(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}… ({n} characters)")
}

/// A number for a message: as Rust prints it when that is short (`0.05`,
/// `4294967295`), else in scientific notation (`1e-200`, not 200 zeros).
pub fn number(v: f64) -> String {
    let s = v.to_string();
    if s.chars().count() <= ECHO_CHARS {
        s
    } else {
        format!("{v:e}")
    }
}

/// `s` for an error message: quoted, cut ([`cut`]) and escaped for a
/// terminal ([`terminal`]).
pub fn quoted(s: &str) -> String {
    let n = s.chars().count();
    let head: String = s.chars().take(ECHO_CHARS).collect();
    let mut out = String::from("\"");
    for c in head.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => push_visible(&mut out, c),
        }
    }
    out.push('"');
    if n > ECHO_CHARS {
        let _ = write!(out, "… ({n} characters)");
    }
    out
}

/// `s` as inline Markdown text that renders as itself: the characters that
/// start emphasis, code, links, images, HTML, tables or headings are
/// backslash-escaped (CommonMark escapes any ASCII punctuation), and
/// control characters — newlines included, so no line of its own can start
/// a heading or a list — are written as `\u{..}`. Letters, digits, spaces
/// and the common punctuation of a sentence (`,.?%'"-:;()/`) are kept.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '['
                | ']'
                | '<'
                | '>'
                | '|'
                | '&'
                | '#'
                | '!'
                | '~'
                | '='
                | '+'
                | '{'
                | '}'
        ) {
            out.push('\\');
            out.push(c);
        } else {
            push_visible(&mut out, c);
        }
    }
    out
}

/// `s` as a Markdown code span: control characters written as `\u{..}`
/// and a fence longer than any run of backticks inside, so the text can't
/// end the span early (`a` → `` `a` ``).
pub fn code(s: &str) -> String {
    let s = terminal(s);
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    if longest == 0 {
        format!("{fence}{s}{fence}")
    } else {
        format!("{fence} {s} {fence}")
    }
}

/// `text` in lines of at most about `width` characters, broken at spaces.
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for w in text.split(' ') {
        if !cur.is_empty() && cur.chars().count() + 1 + w.chars().count() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_shows_control_characters_and_keeps_the_rest() {
        assert_eq!(terminal("ok é 漢"), "ok é 漢");
        assert_eq!(
            terminal("a\nb\tc\u{7}\u{1b}\u{7f}\u{9b}"),
            "a\\u{a}b\\u{9}c\\u{7}\\u{1b}\\u{7f}\\u{9b}"
        );
        assert_eq!(terminal("x\u{202e}y"), "x\\u{202e}y");
    }

    #[test]
    fn code_spans_cannot_be_closed_or_broken_by_their_text() {
        assert_eq!(code("a=1"), "`a=1`");
        assert_eq!(code("x`y"), "`` x`y ``");
        assert_eq!(code("a\n## h"), "`a\\u{a}## h`");
    }

    #[test]
    fn number_is_short_whatever_its_size() {
        assert_eq!(number(0.05), "0.05");
        assert_eq!(number(4294967295.0), "4294967295");
        assert_eq!(number(1e-200), "1e-200");
        assert_eq!(number(1e300), "1e300");
    }

    #[test]
    fn cut_keeps_short_text_and_shortens_long_text() {
        assert_eq!(cut("12345"), "12345");
        let long = "9".repeat(263);
        let c = cut(&long);
        assert!(c.starts_with(&"9".repeat(40)));
        assert!(c.ends_with("… (263 characters)"));
        assert!(c.chars().count() < 70);
    }

    #[test]
    fn quoted_escapes_quotes_backslashes_and_controls_and_cuts() {
        assert_eq!(quoted("a\"b\\c\n"), "\"a\\\"b\\\\c\\u{a}\"");
        let q = quoted(&"x".repeat(65_536));
        assert!(q.ends_with("… (65536 characters)"), "{q}");
        assert!(q.len() < 80);
    }

    #[test]
    fn markdown_neutralises_structure_but_keeps_plain_sentences() {
        let plain =
            "Which strategy keeps 90 % of users (logged-in) on one backend, and at what cost?";
        assert_eq!(markdown(plain), plain);
        assert_eq!(
            markdown("a\n## Recommendation"),
            "a\\u{a}\\#\\# Recommendation"
        );
        assert_eq!(
            markdown("<script>alert(1)</script>"),
            "\\<script\\>alert(1)\\</script\\>"
        );
        assert_eq!(
            markdown("[x](javascript:alert(1)) ![i](u) <!-- `c` *e* _u_ | t"),
            "\\[x\\](javascript:alert(1)) \\!\\[i\\](u) \\<\\!-- \\`c\\` \\*e\\* \\_u\\_ \\| t"
        );
        assert_eq!(markdown("a\u{7}\u{1b}b"), "a\\u{7}\\u{1b}b");
    }

    #[test]
    fn markdown_output_has_no_raw_html_or_line_breaks() {
        for s in ["<img src=x onerror=alert(1)>", "x\r\n# h", "&lt;b&gt;"] {
            let m = markdown(s);
            assert!(!m.contains('\n') && !m.contains('\r'));
            // Every `<` and `&` is escaped.
            for (i, c) in m.char_indices() {
                if c == '<' || c == '&' {
                    assert_eq!(&m[i - 1..i], "\\", "{m}");
                }
            }
        }
    }
}
