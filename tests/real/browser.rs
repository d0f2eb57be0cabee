//! `report.html` of the checkout scenario opened in real headless Chromium
//! (Debian's `chromium`): the screenshot is not blank, every chart (SVG)
//! laid out at a non-zero size, the heatmap's cells carry hover text and
//! lie inside it, the verdict and the trade-off chart sit
//! above the fold of a 1280 × 900 window, a table sorts on a click, the
//! console shows nothing (a blocked load or a script error would be
//! logged there), and the page fetched no resource and triggered no
//! Content-Security-Policy violation. Skipped with a notice without
//! Chromium, required under CI (`.ci/run` installs it).
//!
//! The checks that need the page's own view (sizes, positions, resources,
//! violations) run as two extra inline scripts in a copy of the page,
//! allowed by their hashes added to its policy; the screenshot and the
//! console of the page as written come from a separate run. Chromium gets
//! a fresh profile, every background service flag off, a proxy and host
//! rules that lead nowhere (nothing can leave the machine), a deadline,
//! and is killed at the end.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long one Chromium run may take.
const DEADLINE: Duration = Duration::from_secs(90);

/// The window, pixels: "above the fold" means within its height.
const WINDOW: (u32, u32) = (1280, 900);

/// Chromium, or `None` after a notice; under CI a missing browser fails.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/bin")])
        .map(|d| d.join("chromium"))
        .find(|p| p.is_file());
    if found.is_none() {
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
            panic!("chromium is not installed, and CI must open report.html in it (.ci/run installs it)");
        }
        eprintln!("notice: chromium not found; skipping the browser test of report.html (apt-get install chromium)");
    }
    found
}

/// A Chromium process, killed and reaped on drop.
struct Browser(Child);

impl Drop for Browser {
    fn drop(&mut self) {
        crate::harness::kill_group(&mut self.0);
    }
}

/// Runs headless Chromium on `page` with `extra` flags in a fresh profile
/// under `dir`; returns (stdout, stderr). Panics after [`DEADLINE`].
fn run_chromium(
    bin: &Path,
    dir: &Path,
    name: &str,
    page: &Path,
    extra: &[String],
) -> (String, String) {
    let profile = dir.join(format!("profile-{name}"));
    let (out, err) = (
        dir.join(format!("{name}.stdout")),
        dir.join(format!("{name}.stderr")),
    );
    let mut cmd = Command::new(bin);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        // Nothing leaves the machine: no name resolves, the proxy is a
        // closed port.
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=http://127.0.0.1:9",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--window-size={},{}", WINDOW.0, WINDOW.1))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .stdin(Stdio::null())
    .stdout(fs::File::create(&out).unwrap())
    .stderr(fs::File::create(&err).unwrap());
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut b = Browser(cmd.spawn().expect("start chromium"));
    let t0 = Instant::now();
    loop {
        match b.0.try_wait().expect("wait for chromium") {
            Some(status) => {
                let (o, e) = (
                    fs::read_to_string(&out).unwrap_or_default(),
                    fs::read_to_string(&err).unwrap_or_default(),
                );
                assert!(status.success(), "chromium failed ({status}):\n{e}");
                return (o, e);
            }
            None if t0.elapsed() > DEADLINE => {
                panic!(
                    "chromium did not finish within {DEADLINE:?}:\n{}",
                    fs::read_to_string(&err).unwrap_or_default()
                );
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Console lines Chromium logged for the page (none expected).
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// Records policy violations from the start of the page.
const LISTEN: &str = "window.__violations=[];document.addEventListener('securitypolicyviolation',function(e){window.__violations.push(e.violatedDirective+' '+e.blockedURI);});";

/// Measures the page after it was parsed and writes the result as JSON
/// into `<pre id="probe">`.
const PROBE: &str = r#"(function(){
var out={};
var g=document.querySelectorAll('svg, img');
out.graphics=g.length;
out.empty=[];
Array.prototype.forEach.call(g,function(e){var b=e.getBoundingClientRect();if(!(b.width>0&&b.height>0)){out.empty.push((e.closest('figure')||e).id||e.tagName);}});
out.images=document.querySelectorAll('svg image').length;
out.hotspots=document.querySelectorAll('.hot title').length;
var hm=document.querySelector('#fig-heatmap svg');
var hb=hm?hm.getBoundingClientRect():null;
var cells=document.querySelectorAll('#fig-heatmap .hot rect');
out.heat_cells=cells.length;
out.heat_outside=Array.prototype.filter.call(cells,function(c){var b=c.getBoundingClientRect();return !(hb&&b.width>0&&b.height>0&&b.left>=hb.left-1&&b.right<=hb.right+1&&b.top>=hb.top-1&&b.bottom<=hb.bottom+1);}).length;
var t0=cells.length?cells[0].querySelector('title'):null;
out.heat_title=t0?t0.textContent:'';
out.resources=performance.getEntriesByType('resource').map(function(e){return e.name;});
out.violations=window.__violations||['the listener did not run'];
out.width=window.innerWidth;
var v=document.querySelector('#verdict h2');
var lead=document.querySelector('figure.lead svg');
out.verdict_top=v?v.getBoundingClientRect().top:-1;
out.lead_bottom=lead?lead.getBoundingClientRect().bottom:-1;
out.sections=Array.prototype.map.call(document.querySelectorAll('section'),function(s){return s.id;});
var th=document.querySelector('#at-a-glance thead th:nth-child(2)');
if(th){th.click();}
out.sorted=Array.prototype.map.call(document.querySelectorAll('#at-a-glance tbody td:nth-child(2)'),function(td){return parseFloat(td.textContent);});
var pre=document.createElement('pre');pre.id='probe';pre.textContent=JSON.stringify(out);document.body.appendChild(pre);
})();"#;

/// A copy of `html` with [`LISTEN`] first in its head and [`PROBE`] last
/// in its body, both allowed by hash in its policy.
fn probed(html: &str) -> String {
    use stickysim::report::html::csp_hash;
    let policy = "script-src ";
    let at = html.find(policy).expect("the page has a script-src");
    let with_hashes = format!(
        "{}{policy}{} {} {}",
        &html[..at],
        csp_hash(LISTEN),
        csp_hash(PROBE),
        &html[at + policy.len()..]
    );
    let head = with_hashes
        .find("<meta name=\"viewport\"")
        .expect("viewport meta");
    let with_listener = format!(
        "{}<script>{LISTEN}</script>\n{}",
        &with_hashes[..head],
        &with_hashes[head..]
    );
    let end = with_listener.rfind("</body>").expect("</body>");
    format!(
        "{}<script>{PROBE}</script>\n{}",
        &with_listener[..end],
        &with_listener[end..]
    )
}

/// The probe's JSON out of the dumped DOM.
fn probe_result(dom: &str) -> serde_json::Value {
    let start = dom.find("<pre id=\"probe\">").expect("the probe ran") + "<pre id=\"probe\">".len();
    let end = start + dom[start..].find("</pre>").expect("</pre>");
    let text = dom[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("probe JSON: {e}: {text}"))
}

#[test]
fn checkouts_report_html_renders_offline_in_chromium() {
    let Some(bin) = chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("checkout");
    // checkout.toml as bundled, shortened to 1 h with 2 replications so
    // the test stays quick; every strategy, chart and section is there.
    let status = Command::new(env!("CARGO_BIN_EXE_stickysim"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "run",
            "scenarios/checkout.toml",
            "--replications",
            "2",
            "--set",
            "simulation.duration=3600",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let page = out.join("report.html");
    let html = fs::read_to_string(&page).unwrap();
    // Nothing in the page points off the machine (the SVG namespace is a
    // name, never fetched; base64 has no colon).
    let external = html
        .replace("xmlns=\"http://www.w3.org/2000/svg\"", "")
        .matches("://")
        .count();
    assert_eq!(external, 0, "report.html holds a URL");

    // The page as written: a screenshot, and a silent console.
    let shot = dir.path().join("shot.png");
    let (_, err) = run_chromium(
        &bin,
        dir.path(),
        "shot",
        &page,
        &[format!("--screenshot={}", shot.display())],
    );
    assert_eq!(
        console_lines(&err),
        Vec::<&str>::new(),
        "console of report.html"
    );
    let png = fs::read(&shot).expect("chromium wrote the screenshot");
    let mut reader = png::Decoder::new(&png[..]).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), WINDOW);
    let px = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(px).collect();
    let inked = pixels
        .iter()
        .filter(|p| p[..3].iter().any(|&c| c < 200))
        .count();
    let colours: std::collections::BTreeSet<&[u8]> = pixels.iter().copied().collect();
    assert!(
        inked * 100 > pixels.len() * 3 && colours.len() > 50,
        "the screenshot looks blank: {inked} of {} pixels inked, {} colours",
        pixels.len(),
        colours.len()
    );

    // A probed copy: sizes, positions, resources, violations, sorting.
    let copy = out.join("probed.html");
    fs::write(&copy, probed(&html)).unwrap();
    let (dom, err) = run_chromium(&bin, dir.path(), "probe", &copy, &["--dump-dom".into()]);
    assert_eq!(
        console_lines(&err),
        Vec::<&str>::new(),
        "console of the probed page"
    );
    let r = probe_result(&dom);
    let charts = html.matches("<figure ").count();
    assert!(charts >= 5, "{charts} charts");
    assert_eq!(r["images"], charts, "{r}");
    assert_eq!(r["graphics"], charts, "{r}");
    assert_eq!(r["empty"], serde_json::json!([]), "{r}");
    assert_eq!(r["resources"], serde_json::json!([]), "{r}");
    assert_eq!(r["violations"], serde_json::json!([]), "{r}");
    assert!(r["hotspots"].as_u64().unwrap() >= 5, "{r}");
    // The heatmap's cells have hover text (backend, time, utilisation),
    // laid out inside the chart.
    assert!(r["heat_cells"].as_u64().unwrap() >= 8, "{r}");
    assert_eq!(r["heat_outside"], 0, "{r}");
    let t = r["heat_title"].as_str().unwrap();
    assert!(t.contains(", b0, ") && t.contains("utilisation"), "{r}");
    // The layout's width is the screenshot's, so positions are too (the
    // page has no height-relative sizes); the fold is the window's height.
    assert_eq!(r["width"], WINDOW.0, "{r}");
    let fold = WINDOW.1 as f64;
    let (top, bottom) = (
        r["verdict_top"].as_f64().unwrap(),
        r["lead_bottom"].as_f64().unwrap(),
    );
    assert!(
        (0.0..fold).contains(&top) && bottom > top && bottom <= fold,
        "the verdict and the trade-off chart above the fold: {r}"
    );
    let sorted: Vec<f64> = r["sorted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert_eq!(sorted.len(), 5, "{r}");
    assert!(
        sorted.windows(2).all(|w| w[0] <= w[1]),
        "sorted on a click: {r}"
    );
}
