use super::*;
use crate::report::charts::Hotspot;

fn drawn() -> Drawn {
    Drawn {
        png: vec![1, 2, 3],
        width: 16,
        height: 9,
        hotspots: vec![Hotspot {
            shape: Shape::Circle(1, 2, 3),
            title: "<b>&\"x\"".into(),
        }],
    }
}

#[test]
fn text_from_data_is_escaped_everywhere() {
    let md = "# Report: <script>alert(1)</script>\n\nprov `a<b>` and **bold & <i>**.\n\n\
              ## Verdict\n\n**Answer:** Recommended: x<img src=y>.\n\n\
              | strategy | v |\n|---|--:|\n| a\\|b<c | 1.5 |\n\n- item \"q\" 'a'\n\n![alt <x>](c.png)\n";
    let d = drawn();
    let charts = [("c.png", &d)];
    let html = render(&Page {
        title: "t<\"",
        markdown: md,
        charts: &charts,
        lead_chart: None,
        lead_after: "**Answer:**",
        tables: vec![Table {
            id: "full".into(),
            heading: "Full <h>".into(),
            note: "n&".into(),
            header: vec!["col<".into()],
            rows: vec![vec!["<script>".into()]],
        }],
    });
    // The only tags are the page's own.
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<i>"), "{html}");
    assert!(!html.contains("<b>&"), "{html}");
    assert_eq!(
        html.matches("<script>").count(),
        1,
        "one script: the page's"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("<code>a&lt;b&gt;</code>"));
    assert!(html.contains("<strong>bold &amp; &lt;i&gt;</strong>"));
    assert!(
        html.contains("<td>a|b&lt;c</td><td class=\"num\">1.5</td>"),
        "{html}"
    );
    assert!(html.contains("<title>&lt;b&gt;&amp;&quot;x&quot;</title>"));
    assert!(html.contains("item &quot;q&quot; &#39;a&#39;"));
    assert!(html.contains("<title>t&lt;&quot;</title>"));
    assert!(html.contains("<td>&lt;script&gt;</td>"));
    assert!(html.contains("aria-label=\"alt &lt;x&gt;\""));
}

#[test]
fn the_lead_chart_follows_the_answer_and_is_not_repeated() {
    let md = "# R\n\np\n\n## Verdict\n\n**Answer:** yes.\n\nmore\n\n## Charts\n\n### Trade\n\n![Trade](t.png)\n\n### Other\n\n![Other](o.png)\n";
    let (a, b) = (drawn(), drawn());
    let charts = [("t.png", &a), ("o.png", &b)];
    let html = render(&Page {
        title: "R",
        markdown: md,
        charts: &charts,
        lead_chart: Some("t.png"),
        lead_after: "**Answer:**",
        tables: Vec::new(),
    });
    assert_eq!(html.matches("id=\"fig-t\"").count(), 1);
    assert!(!html.contains("<h3>Trade</h3>"));
    let answer = html.find("yes.").unwrap();
    let lead = html.find("id=\"fig-t\"").unwrap();
    let more = html.find("<p>more</p>").unwrap();
    assert!(answer < lead && lead < more);
    assert!(html.contains("<section id=\"verdict\">"));
    assert!(html.contains("<section id=\"charts\">"));
}

#[test]
fn links_only_to_plain_files_beside_the_page() {
    assert_eq!(
        inline("see [`summary.csv`](summary.csv)"),
        "see <a href=\"summary.csv\"><code>summary.csv</code></a>"
    );
    assert_eq!(
        inline("[x](https://example.com/a)"),
        "[x](https://example.com/a)"
    );
    assert_eq!(
        inline("[x](javascript:alert(1))"),
        "[x](javascript:alert(1))"
    );
    assert_eq!(inline("[x](../up)"), "[x](../up)");
}

#[test]
fn the_policy_allows_only_the_pages_own_style_and_script() {
    let csp = content_security_policy();
    assert!(csp.starts_with("default-src 'none'; img-src data:;"));
    assert!(csp.contains(&csp_hash(STYLE)) && csp.contains(&csp_hash(SCRIPT)));
    assert!(!csp.contains("unsafe"));
    // A known vector: SHA-256 of the empty string.
    assert_eq!(
        csp_hash(""),
        "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
    );
}

#[test]
fn blocks_of_the_report_subset() {
    let b = parse("# T\n\na\nb\n\n- x\n  y\n- z\n\n| h | i |\n|---|--:|\n| 1 | 2 |\n");
    assert_eq!(
        b,
        vec![
            Block::H(1, "T".into()),
            Block::P("a b".into()),
            Block::List(vec!["x y".into(), "z".into()]),
            Block::Table(
                vec!["h".into(), "i".into()],
                vec![false, true],
                vec![vec!["1".into(), "2".into()]]
            ),
        ]
    );
    assert_eq!(slug("At a glance"), "at-a-glance");
    assert_eq!(slug("Trade-off: x/y"), "trade-off-x-y");
}
