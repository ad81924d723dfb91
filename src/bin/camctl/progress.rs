//! How camctl shows the progress of long work: a bar on a terminal
//! (indicatif), a plain line per step on stderr otherwise (a log or a pipe
//! reads lines, and stdout stays the result's).

use indicatif::{ProgressBar, ProgressStyle};

/// The progress of `total` steps of one kind of work.
pub struct Progress {
    bar: ProgressBar,
    what: &'static str,
    total: u64,
}

impl Progress {
    /// Work of `total` steps, each described as `what` (`pushing`).
    pub fn new(what: &'static str, total: usize) -> Self {
        let total = u64::try_from(total).unwrap_or(u64::MAX);
        let bar = ProgressBar::new(total);
        if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(what);
        Self { bar, what, total }
    }

    /// The next step, on `item`, begins.
    pub fn step(&self, item: &str) {
        if self.bar.is_hidden() {
            eprintln!(
                "camctl: {} {}/{}: {item}",
                self.what,
                self.bar.position() + 1,
                self.total
            );
        } else {
            self.bar.set_message(item.to_string());
        }
        self.bar.inc(1);
    }

    /// The work is done: the bar goes.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Work done elsewhere (in camd) in one step: a spinner with the time spent
/// on a terminal, one line on stderr otherwise.
pub struct Waiting {
    bar: ProgressBar,
}

impl Waiting {
    /// Waiting for `what` (`resealing ...`).
    pub fn new(what: &'static str) -> Self {
        let bar = ProgressBar::new_spinner();
        if bar.is_hidden() {
            eprintln!("camctl: {what}");
        } else {
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.set_message(what);
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
        Self { bar }
    }

    /// The work is done: the spinner goes.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
