//! `report.html`: the Markdown report as one self-contained page.
//!
//! The page is made from the same Markdown as `report.md` (a small
//! converter for the subset the reports use: headings, paragraphs, lists,
//! tables, images, `code`, **bold**, links to files beside it), so both say
//! the same thing. What the page adds:
//!
//! - every chart inlined: the PNG as a `data:` image inside an SVG of the
//!   same size, with the chart's [`crate::report::charts::Hotspot`]s laid over it as shapes whose
//!   `<title>` a browser shows on hover (no JavaScript needed);
//! - a lead chart (the trade-off) right under the verdict's answer, so the
//!   first screen shows both;
//! - sortable tables (a few lines of inline JavaScript: click a heading);
//! - a print stylesheet, so "Save as PDF" gives a clean handout;
//! - a strict Content-Security-Policy: nothing but the page's own inline
//!   style and script (pinned by their SHA-256) and `data:` images may
//!   load, so the page cannot reach the network.
//!
//! Every text that comes from data (strategy names, the scenario's
//! question, file contents) is HTML-escaped here.

use crate::report::charts::{Drawn, Shape};
use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// A page to render.
pub struct Page<'a> {
    /// The `<title>`.
    pub title: &'a str,
    /// The report's Markdown.
    pub markdown: &'a str,
    /// The charts the Markdown's images name: `(file name, drawn chart)`.
    pub charts: &'a [(&'a str, &'a Drawn)],
    /// A chart shown right after the first paragraph that starts with
    /// [`Page::lead_after`] (and not again where the Markdown has it).
    pub lead_chart: Option<&'a str>,
    /// How the paragraph the lead chart follows starts (`**Answer:**`).
    pub lead_after: &'a str,
    /// Tables appended as their own sections.
    pub tables: Vec<Table>,
}

/// A table appended to the page in its own section.
pub struct Table {
    /// The section's id.
    pub id: String,
    /// The section's heading.
    pub heading: String,
    /// A sentence under the heading (plain text).
    pub note: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells (plain text).
    pub rows: Vec<Vec<String>>,
}

/// The page's stylesheet (its hash is in the page's CSP).
const STYLE: &str = include_str!("style.css");
/// The page's script: sortable tables (its hash is in the page's CSP).
const SCRIPT: &str = include_str!("sort.js");

/// `'sha256-…'` of `text`, as a CSP source.
pub fn csp_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The page's Content-Security-Policy.
pub fn content_security_policy() -> String {
    format!(
        "default-src 'none'; img-src data:; style-src {}; script-src {}; \
         base-uri 'none'; form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    )
}

/// Escapes `s` for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Renders the page.
pub fn render(page: &Page) -> String {
    let blocks = parse(page.markdown);
    let lead = page.lead_chart.filter(|f| {
        page.charts.iter().any(|(n, _)| n == f)
            && blocks
                .iter()
                .any(|b| matches!(b, Block::P(t) if t.starts_with(page.lead_after)))
    });
    let mut o = String::new();
    o.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        o,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        escape(&content_security_policy())
    );
    o.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(o, "<title>{}</title>", escape(page.title));
    let _ = writeln!(o, "<style>{STYLE}</style>\n</head>\n<body>\n<main>");
    let mut in_section = false;
    let mut lead_done = false;
    let mut i = 0;
    while i < blocks.len() {
        match &blocks[i] {
            Block::H(1, t) => {
                let _ = writeln!(o, "<header><h1>{}</h1>", inline(t));
                // The paragraph under the title is the provenance line.
                if let Some(Block::P(p)) = blocks.get(i + 1) {
                    let _ = writeln!(o, "<p class=\"provenance\">{}</p>", inline(p));
                    i += 1;
                }
                o.push_str("</header>\n");
            }
            Block::H(2, t) => {
                if in_section {
                    o.push_str("</section>\n");
                }
                let _ = writeln!(o, "<section id=\"{}\">\n<h2>{}</h2>", slug(t), inline(t));
                in_section = true;
            }
            Block::H(_, t) => {
                // A chart heading whose chart is the lead: both skipped.
                if let Some(Block::Image(_, f)) = blocks.get(i + 1) {
                    if Some(f.as_str()) == lead {
                        i += 2;
                        continue;
                    }
                }
                let _ = writeln!(o, "<h3>{}</h3>", inline(t));
            }
            Block::P(t) => {
                let _ = writeln!(o, "<p>{}</p>", inline(t));
                if !lead_done && t.starts_with(page.lead_after) {
                    if let Some(f) = lead {
                        lead_done = true;
                        figure(&mut o, page, f, "lead");
                    }
                }
            }
            Block::List(items) => {
                o.push_str("<ul>\n");
                for it in items {
                    let _ = writeln!(o, "<li>{}</li>", inline(it));
                }
                o.push_str("</ul>\n");
            }
            Block::Table(head, right, rows) => table(&mut o, head, right, rows, true),
            Block::Image(_, f) => {
                if Some(f.as_str()) != lead {
                    figure(&mut o, page, f, "chart");
                }
            }
        }
        i += 1;
    }
    if in_section {
        o.push_str("</section>\n");
    }
    for t in &page.tables {
        let _ = writeln!(
            o,
            "<section id=\"{}\">\n<h2>{}</h2>\n<p>{}</p>",
            slug(&t.id),
            escape(&t.heading),
            escape(&t.note)
        );
        let right: Vec<bool> = (0..t.header.len())
            .map(|c| {
                t.rows
                    .iter()
                    .all(|r| r.get(c).is_some_and(|v| v.parse::<f64>().is_ok()))
            })
            .collect();
        let head: Vec<String> = t.header.iter().map(|h| escape(h)).collect();
        let rows: Vec<Vec<String>> = t
            .rows
            .iter()
            .map(|r| r.iter().map(|c| escape(c)).collect())
            .collect();
        o.push_str("<div class=\"wide\">\n");
        table(&mut o, &head, &right, &rows, false);
        o.push_str("</div>\n</section>\n");
    }
    let _ = write!(o, "</main>\n<script>{SCRIPT}</script>\n</body>\n</html>\n");
    o
}

/// A table; cells are Markdown (`markdown`) or already-escaped HTML.
fn table(o: &mut String, head: &[String], right: &[bool], rows: &[Vec<String>], markdown: bool) {
    let cell = |s: &str| if markdown { inline(s) } else { s.to_string() };
    let cls = |c: usize| {
        if right.get(c).copied().unwrap_or(false) {
            " class=\"num\""
        } else {
            ""
        }
    };
    o.push_str("<table class=\"sortable\">\n<thead><tr>");
    for (c, h) in head.iter().enumerate() {
        let _ = write!(o, "<th{}>{}</th>", cls(c), cell(h));
    }
    o.push_str("</tr></thead>\n<tbody>\n");
    for r in rows {
        o.push_str("<tr>");
        for (c, v) in r.iter().enumerate() {
            let _ = write!(o, "<td{}>{}</td>", cls(c), cell(v));
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody>\n</table>\n");
}

/// A chart as an SVG: the PNG as a `data:` image, its hotspots over it.
fn figure(o: &mut String, page: &Page, file: &str, class: &str) {
    let Some((_, d)) = page.charts.iter().find(|(n, _)| *n == file) else {
        return;
    };
    let alt = alt_of(page.markdown, file).unwrap_or_else(|| file.to_string());
    let id = format!("fig-{}", slug(file.trim_end_matches(".png")));
    let _ = writeln!(
        o,
        "<figure class=\"{class}\" id=\"{id}\">\n<svg viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
         role=\"img\" aria-label=\"{a}\" xmlns=\"http://www.w3.org/2000/svg\">\n<title>{a}</title>\n\
         <image width=\"{w}\" height=\"{h}\" href=\"data:image/png;base64,{b}\"/>",
        w = d.width,
        h = d.height,
        a = escape(&alt),
        b = base64::engine::general_purpose::STANDARD.encode(&d.png),
    );
    if !d.hotspots.is_empty() {
        o.push_str("<g class=\"hot\">\n");
        for h in &d.hotspots {
            match h.shape {
                Shape::Circle(x, y, r) => {
                    let _ = writeln!(
                        o,
                        "<circle cx=\"{x}\" cy=\"{y}\" r=\"{r}\"><title>{}</title></circle>",
                        escape(&h.title)
                    );
                }
                Shape::Rect(x0, y0, x1, y1) => {
                    let _ = writeln!(
                        o,
                        "<rect x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\"><title>{}</title></rect>",
                        (x1 - x0).max(1),
                        (y1 - y0).max(1),
                        escape(&h.title)
                    );
                }
            }
        }
        o.push_str("</g>\n");
    }
    let _ = writeln!(
        o,
        "</svg>\n<figcaption>{}{}</figcaption>\n</figure>",
        escape(&alt),
        if d.hotspots.is_empty() {
            ""
        } else {
            " (point at a mark for its figures)"
        }
    );
}

/// The alt text the Markdown gives image `file`.
fn alt_of(md: &str, file: &str) -> Option<String> {
    parse(md).into_iter().find_map(|b| match b {
        Block::Image(alt, f) if f == file => Some(alt),
        _ => None,
    })
}

/// A lower-case id of letters, digits and hyphens.
fn slug(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            o.push(c.to_ascii_lowercase());
        } else if !o.ends_with('-') && !o.is_empty() {
            o.push('-');
        }
    }
    o.trim_end_matches('-').to_string()
}

/// A Markdown block of the subset the reports use.
#[derive(Debug, Clone, PartialEq)]
enum Block {
    /// A heading: level and text.
    H(u8, String),
    /// A paragraph (lines joined by spaces).
    P(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table: header cells, right-aligned columns, rows.
    Table(Vec<String>, Vec<bool>, Vec<Vec<String>>),
    /// An image alone on its line: alt text and file.
    Image(String, String),
}

fn parse(md: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let lines: Vec<&str> = md.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.trim().is_empty() {
            i += 1;
        } else if let Some(level) = heading_level(l) {
            blocks.push(Block::H(level, l[level as usize + 1..].trim().to_string()));
            i += 1;
        } else if l.starts_with('|') {
            let mut rows: Vec<Vec<String>> = Vec::new();
            let mut right = Vec::new();
            while i < lines.len() && lines[i].starts_with('|') {
                let cells = split_row(lines[i]);
                if cells
                    .iter()
                    .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':'))
                {
                    right = cells.iter().map(|c| c.ends_with(':')).collect();
                } else {
                    rows.push(cells);
                }
                i += 1;
            }
            let head = if rows.is_empty() {
                Vec::new()
            } else {
                rows.remove(0)
            };
            blocks.push(Block::Table(head, right, rows));
        } else if let Some(rest) = l.strip_prefix("- ") {
            let mut items = vec![rest.to_string()];
            i += 1;
            while i < lines.len() {
                if let Some(r) = lines[i].strip_prefix("- ") {
                    items.push(r.to_string());
                } else if lines[i].starts_with("  ") && !lines[i].trim().is_empty() {
                    let last = items.last_mut().expect("an item");
                    last.push(' ');
                    last.push_str(lines[i].trim());
                } else {
                    break;
                }
                i += 1;
            }
            blocks.push(Block::List(items));
        } else if let Some((alt, file)) = image(l) {
            blocks.push(Block::Image(alt, file));
            i += 1;
        } else {
            let mut text = l.trim().to_string();
            i += 1;
            while i < lines.len()
                && !lines[i].trim().is_empty()
                && heading_level(lines[i]).is_none()
                && !lines[i].starts_with('|')
                && !lines[i].starts_with("- ")
            {
                text.push(' ');
                text.push_str(lines[i].trim());
                i += 1;
            }
            blocks.push(Block::P(text));
        }
    }
    blocks
}

fn heading_level(l: &str) -> Option<u8> {
    let n = l.chars().take_while(|c| *c == '#').count();
    (1..=6)
        .contains(&n)
        .then_some(())
        .and_then(|_| l[n..].starts_with(' ').then_some(n as u8))
}

/// `![alt](file)` alone on a line.
fn image(l: &str) -> Option<(String, String)> {
    let rest = l.trim().strip_prefix("![")?;
    let (alt, rest) = rest.split_once("](")?;
    let file = rest.strip_suffix(')')?;
    Some((alt.to_string(), file.to_string()))
}

/// A table row's cells, split at `|` not escaped by a backslash (the
/// escapes stay, for [`inline`]).
fn split_row(l: &str) -> Vec<String> {
    let t = l.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = if t.ends_with('|') && !t.ends_with("\\|") {
        &t[..t.len() - 1]
    } else {
        t
    };
    let mut cells = Vec::new();
    let mut cur = String::new();
    let mut chars = t.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                cur.push('\\');
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            '|' => cells.push(std::mem::take(&mut cur).trim().to_string()),
            c => cur.push(c),
        }
    }
    cells.push(cur.trim().to_string());
    cells
}

/// Inline Markdown to HTML: backslash escapes, `code`, **bold**, and
/// `[text](file)` links to a plain file name beside the page; everything
/// else escaped.
fn inline(s: &str) -> String {
    let mut o = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut bold = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() && chars[i + 1].is_ascii_punctuation() {
            o.push_str(&escape(&chars[i + 1].to_string()));
            i += 2;
        } else if c == '`' {
            match chars[i + 1..].iter().position(|&d| d == '`') {
                Some(len) => {
                    let code: String = chars[i + 1..i + 1 + len].iter().collect();
                    let _ = write!(o, "<code>{}</code>", escape(&code));
                    i += len + 2;
                }
                None => {
                    o.push('`');
                    i += 1;
                }
            }
        } else if c == '*' && chars.get(i + 1) == Some(&'*') {
            o.push_str(if bold { "</strong>" } else { "<strong>" });
            bold = !bold;
            i += 2;
        } else if c == '[' {
            let rest: String = chars[i..].iter().collect();
            match link(&rest) {
                Some((text, file, used)) => {
                    let _ = write!(o, "<a href=\"{}\">{}</a>", escape(&file), inline(&text));
                    i += used;
                }
                None => {
                    o.push('[');
                    i += 1;
                }
            }
        } else {
            o.push_str(&escape(&c.to_string()));
            i += 1;
        }
    }
    if bold {
        o.push_str("</strong>");
    }
    o
}

/// `[text](file)` at the start of `s`, when `file` is a plain file name
/// (letters, digits, `._-`): its text, file and length in characters.
fn link(s: &str) -> Option<(String, String, usize)> {
    let close = s.find("](")?;
    let text = &s[1..close];
    let rest = &s[close + 2..];
    let end = rest.find(')')?;
    let file = &rest[..end];
    let plain = !file.is_empty()
        && !file.starts_with('.')
        && file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !plain || text.contains('[') {
        return None;
    }
    let used = s[..close + 2 + end + 1].chars().count();
    Some((text.to_string(), file.to_string(), used))
}

#[cfg(test)]
mod tests;
