//! A one-line progress bar on standard error, drawn only when it is a terminal (so logs and
//! pipes get the summary alone).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Progress through `total` items, redrawn at most ten times a second.
pub struct Progress {
    total: usize,
    done: usize,
    drawn_at: Option<Instant>,
    started: Instant,
    visible: bool,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        Self {
            total,
            done: 0,
            drawn_at: None,
            started: Instant::now(),
            visible: std::io::stderr().is_terminal(),
        }
    }

    /// One more item done; `note` is shown after the bar (counts so far).
    pub fn advance(&mut self, note: &str) {
        self.done += 1;
        let due = self
            .drawn_at
            .is_none_or(|at| at.elapsed() >= Duration::from_millis(100));
        if self.visible && (due || self.done == self.total) {
            self.draw(note);
        }
    }

    fn draw(&mut self, note: &str) {
        const WIDTH: usize = 30;
        let filled = (self.done * WIDTH)
            .checked_div(self.total)
            .unwrap_or(WIDTH)
            .min(WIDTH);
        let rate = self.done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        eprint!(
            "\r[{}{}] {}/{} {rate:.1}/s {note}\x1b[K",
            "#".repeat(filled),
            "-".repeat(WIDTH - filled),
            self.done,
            self.total
        );
        let _ = std::io::stderr().flush();
        self.drawn_at = Some(Instant::now());
    }

    /// Ends the bar's line, so what follows starts on a line of its own.
    pub fn finish(&self) {
        if self.visible && self.drawn_at.is_some() {
            eprintln!();
        }
    }
}
