//! Scan progress on stderr: an indicatif bar on a terminal, plain periodic lines otherwise.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::summary::clean;

/// Where progress goes.
#[derive(Debug)]
pub enum Ticker {
    /// A bar: done / total, rate, ETA, current crates.
    Bar(ProgressBar),
    /// A line every `interval`.
    Plain {
        /// When the last line was printed.
        last: Instant,
        /// How often.
        interval: Duration,
        /// When the scan began.
        start: Instant,
        /// Done so far.
        done: u64,
        /// To do.
        total: u64,
        /// Crates in flight.
        current: String,
    },
}

impl Ticker {
    /// A bar when stderr is a terminal, else plain lines every `interval`.
    pub fn new(total: u64, interval: Duration) -> Ticker {
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30.cyan/blue} {pos}/{len} {per_sec:.dim} eta {eta} {wide_msg}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            Ticker::Bar(bar)
        } else {
            let now = Instant::now();
            Ticker::Plain {
                last: now,
                interval,
                start: now,
                done: 0,
                total,
                current: String::new(),
            }
        }
    }

    /// Print a status line above the bar (or as a plain line).
    pub fn println(&self, line: &str) {
        match self {
            Ticker::Bar(b) => b.println(line),
            Ticker::Plain { .. } => {
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        }
    }

    /// The crates in flight changed.
    pub fn set_current(&mut self, current: &[String]) {
        let text = clean(&current.join(", "));
        match self {
            Ticker::Bar(b) => b.set_message(text),
            Ticker::Plain { current, .. } => *current = text,
        }
    }

    /// One more crate is done.
    pub fn inc(&mut self) {
        match self {
            Ticker::Bar(b) => b.inc(1),
            Ticker::Plain { done, .. } => *done += 1,
        }
        self.tick(false);
    }

    /// Print a plain line if the interval has passed (or `force`).
    pub fn tick(&mut self, force: bool) {
        if let Ticker::Plain {
            last,
            interval,
            start,
            done,
            total,
            current,
        } = self
        {
            if !force && last.elapsed() < *interval {
                return;
            }
            *last = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            #[allow(clippy::cast_precision_loss)]
            let rate = if secs > 0.0 { *done as f64 / secs } else { 0.0 };
            #[allow(
                clippy::cast_precision_loss,
                clippy::cast_sign_loss,
                clippy::cast_possible_truncation
            )]
            let eta = if rate > 0.0 {
                format!("{}s", ((*total - *done) as f64 / rate).round() as u64)
            } else {
                "?".to_owned()
            };
            let now = if current.is_empty() {
                String::new()
            } else {
                format!(", now: {current}")
            };
            let _ = writeln!(
                std::io::stderr(),
                "scan: {done}/{total} done ({rate:.1}/s, eta {eta}){now}"
            );
        }
    }

    /// The scan ended.
    pub fn finish(&mut self) {
        match self {
            Ticker::Bar(b) => b.finish_and_clear(),
            Ticker::Plain { .. } => {
                if let Ticker::Plain { current, .. } = self {
                    current.clear();
                }
                self.tick(true);
            }
        }
    }
}
