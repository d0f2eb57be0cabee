//! `stickysim completions SHELL` and `stickysim man`: the shell completion
//! script and the man page, both generated from the same clap definition
//! that parses the command line, so they cannot drift from it.

use anyhow::Result;
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::process::ExitCode;

/// `stickysim completions`' arguments.
#[derive(Debug, Args)]
#[command(after_help = super::examples::COMPLETIONS)]
pub struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `stickysim man`'s arguments (none).
#[derive(Debug, Args)]
#[command(after_help = super::examples::MAN)]
pub struct ManArgs {}

pub(super) fn completions(args: CompletionsArgs) -> Result<ExitCode> {
    let mut buf = Vec::new();
    clap_complete::generate(
        args.shell,
        &mut super::Cli::command(),
        "stickysim",
        &mut buf,
    );
    super::print_stdout(&String::from_utf8_lossy(&buf))?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn man(_: ManArgs) -> Result<ExitCode> {
    super::print_stdout(&man_page()?)?;
    Ok(ExitCode::SUCCESS)
}

/// The man page (roff): NAME, SYNOPSIS, DESCRIPTION, OPTIONS, COMMANDS
/// and EXAMPLES of `stickysim`, then one section per subcommand with its
/// synopsis, description, options and examples as subsections.
pub(crate) fn man_page() -> Result<String> {
    let mut cmd = super::Cli::command().disable_help_subcommand(true);
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    man.render_options_section(&mut buf)?;
    // One page, so the commands are listed by name (not as pages of
    // their own, which is what clap_mangen's section would say).
    buf.extend(b".SH COMMANDS\n");
    for sub in cmd.get_subcommands() {
        let name = sub.get_bin_name().unwrap_or(sub.get_name());
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        buf.extend(format!(".TP\n\\fB{}\\fR\n{}\n", escape(name), escape(&about)).bytes());
    }
    examples(&mut buf, &cmd, ".SH");
    for sub in cmd.get_subcommands() {
        let name = sub.get_bin_name().unwrap_or(sub.get_name());
        buf.extend(format!(".SH \"{}\"\n", escape(&name.to_uppercase())).bytes());
        let man = clap_mangen::Man::new(sub.clone());
        let mut part = Vec::new();
        man.render_synopsis_section(&mut part)?;
        man.render_description_section(&mut part)?;
        if sub.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(&mut part)?;
        }
        // The subcommand's sections are subsections of its own section.
        for line in String::from_utf8_lossy(&part).lines() {
            match line.strip_prefix(".SH ") {
                Some(rest) => buf.extend(format!(".SS {rest}\n").bytes()),
                None => buf.extend(format!("{line}\n").bytes()),
            }
        }
        examples(&mut buf, sub, ".SS");
    }
    man.render_version_section(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

/// The command's `after_help` examples as an EXAMPLES (sub)section, one
/// command a line (no filling).
fn examples(buf: &mut Vec<u8>, cmd: &clap::Command, heading: &str) {
    let Some(text) = cmd.get_after_help() else {
        return;
    };
    let text = text.to_string();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.trim() != "Examples:")
        .map(str::trim)
        .collect();
    buf.extend(format!("{heading} EXAMPLES\n.nf\n").bytes());
    for l in lines {
        buf.extend(format!("{}\n", escape(l)).bytes());
    }
    buf.extend(b".fi\n");
}

/// Roff text: backslashes escaped, hyphens as minus signs (so they can be
/// copied from the page), no line taken for a request.
fn escape(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') {
        format!("\\&{s}")
    } else {
        s
    }
}
