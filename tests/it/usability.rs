//! What a command-line user expects besides the simulation: shell
//! completions, a man page, examples in `--help`, a version that names the
//! build.

use crate::common::bin;

/// Every subcommand a user can type (clap's own `help` aside).
const SUBCOMMANDS: [&str; 11] = [
    "run",
    "check",
    "validate",
    "sweep",
    "merge",
    "report",
    "route",
    "import",
    "export",
    "completions",
    "man",
];

fn stdout_of(args: &[&str]) -> String {
    let a = bin().args(args).assert().success();
    String::from_utf8(a.get_output().stdout.clone()).unwrap()
}

#[test]
fn bash_completion_completes_subcommands_and_the_strategy_flag() {
    let script = stdout_of(&["completions", "bash"]);
    assert!(script.contains("complete -F _stickysim"), "{script}");
    for sub in SUBCOMMANDS {
        assert!(
            script.contains(&format!("stickysim__{sub}"))
                || script.contains(&format!("stickysim,{sub}")),
            "no completion case for `{sub}`"
        );
    }
    assert!(
        script.contains("--strategy"),
        "no --strategy in the bash completion"
    );
    assert!(script.contains("--param"));
}

#[test]
fn every_shell_gets_a_completion_script() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains("validate"), "{shell}: {script}");
        assert!(script.contains("strategy"), "{shell}: {script}");
    }
    bin().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn man_page_has_the_standard_sections_and_every_subcommand() {
    let page = stdout_of(&["man"]);
    assert!(
        page.starts_with(".ie") || page.starts_with(".TH"),
        "{}",
        &page[..80]
    );
    assert!(page.contains("\n.TH stickysim 1 "));
    for section in [
        "NAME",
        "SYNOPSIS",
        "DESCRIPTION",
        "OPTIONS",
        "COMMANDS",
        "EXAMPLES",
    ] {
        assert!(page.contains(&format!("\n.SH {section}\n")), "no {section}");
    }
    for sub in SUBCOMMANDS {
        let heading = format!("\n.SH \"STICKYSIM {}\"\n", sub.to_uppercase());
        assert!(page.contains(&heading), "no section for `{sub}`");
        // Each subcommand's own synopsis, in bold, as roff spells it.
        assert!(page.contains(&format!("\\fBstickysim {sub}\\fR")), "{sub}");
    }
    // Options are there, with roff's minus signs.
    assert!(page.contains("\\-\\-strategy"));
    // Examples are unfilled (one command a line) and never taken for requests.
    assert!(page.contains(".nf\nstickysim validate scenarios/checkout.toml\n"));
    for line in page.lines() {
        assert!(
            !line.starts_with("stickysim.") && !line.starts_with('\''),
            "{line}"
        );
    }
}

#[test]
fn every_subcommand_help_ends_with_examples_of_itself() {
    for sub in SUBCOMMANDS {
        let help = stdout_of(&[sub, "--help"]);
        let (_, examples) = help
            .split_once("\nExamples:\n")
            .unwrap_or_else(|| panic!("`{sub} --help` has no examples:\n{help}"));
        let lines: Vec<&str> = examples.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!(!lines.is_empty(), "{sub}");
        for l in lines {
            assert!(
                l.contains(&format!("stickysim {sub}")),
                "`{sub}` example `{l}`"
            );
        }
    }
    assert!(stdout_of(&["--help"]).contains("\nExamples:\n"));
}

#[test]
fn version_is_the_package_version_and_maybe_the_commit() {
    let v = stdout_of(&["--version"]);
    let rest = v
        .trim_end()
        .strip_prefix(concat!("stickysim ", env!("CARGO_PKG_VERSION")))
        .unwrap_or_else(|| panic!("{v}"));
    // Built from a checkout: ` (abc1234)`; from a tarball: nothing.
    if !rest.is_empty() {
        let commit = rest.strip_prefix(" (").and_then(|r| r.strip_suffix(')'));
        let commit = commit.unwrap_or_else(|| panic!("{v}"));
        assert!(
            commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit()),
            "{v}"
        );
    }
    // In a checkout with git at hand, it is the checkout's commit.
    let root = env!("CARGO_MANIFEST_DIR");
    if std::path::Path::new(root).join(".git").exists() {
        let head = std::process::Command::new("git")
            .args(["rev-parse", "--short", "HEAD"])
            .current_dir(root)
            .output();
        if let Some(out) = head.ok().filter(|o| o.status.success()) {
            let head = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert!(rest.contains(&head), "{v} is not of HEAD {head}");
        }
    }
}
