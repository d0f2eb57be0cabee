//! A progress bar on stderr, shown only when stderr is a terminal and the
//! user did not ask for `--quiet`; hidden (and free) otherwise, so scripts,
//! pipes and tests see no control characters.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// A counter of `len` steps ("3/5 strategies") with elapsed time. Cheap to
/// clone and safe to advance from rayon worker threads.
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar of `len` steps, each a `unit` ("strategies", "runs"). Visible
    /// only when `!quiet` and stderr is a terminal.
    pub fn new(len: u64, unit: &str, quiet: bool) -> Self {
        let visible = !quiet && std::io::stderr().is_terminal();
        Self::with_visibility(len, unit, visible)
    }

    /// As [`Progress::new`], with visibility decided by the caller.
    pub fn with_visibility(len: u64, unit: &str, visible: bool) -> Self {
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(len), target);
        let template =
            format!("{{spinner}} [{{elapsed_precise}}] {{bar:30}} {{pos}}/{{len}} {unit} {{msg}}");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style);
        }
        if visible {
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
        }
        Progress { bar }
    }

    /// Advances by one step.
    pub fn inc(&self) {
        self.bar.inc(1);
    }

    /// Sets the text after the counter (what is being done now).
    pub fn message(&self, msg: impl Into<String>) {
        self.bar.set_message(msg.into());
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_bar_counts_without_drawing() {
        let p = Progress::with_visibility(3, "strategies", false);
        p.inc();
        p.inc();
        assert_eq!(p.bar.position(), 2);
        assert!(p.bar.is_hidden());
        p.finish();
    }
}
