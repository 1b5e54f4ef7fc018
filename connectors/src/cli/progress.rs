//! Progress: a spinner on a terminal, plain lines otherwise.
#![allow(clippy::print_stdout)]

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// One piece of long work being shown.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Shows `what` as under way: a spinner when stdout is a terminal, a
    /// line otherwise (so logs and pipes get plain text).
    pub(crate) fn start(what: &str) -> Progress {
        if std::io::stdout().is_terminal() {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.set_message(what.to_owned());
            bar.enable_steady_tick(Duration::from_millis(120));
            Progress { bar: Some(bar) }
        } else {
            println!("{what}…");
            Progress { bar: None }
        }
    }

    /// Ends it with `line`.
    pub(crate) fn finish(self, line: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        println!("{line}");
    }
}
