//! Progress reporting: the stages a verification goes through, and the [`Progress`] trait a
//! front-end implements to show them. A leaf module: it uses nothing of the crate.

/// The stages reported through [`Progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Reading and decompressing the `.crate`.
    ReadCrate,
    /// Downloading the `.crate`.
    Download,
    /// Fetching the repository.
    Fetch,
    /// Opening the repository.
    OpenRepository,
    /// Selecting files from the tree.
    Rebuild,
    /// Comparing.
    Compare,
    /// Trying version tags.
    Assisted,
}

impl Stage {
    /// A stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::ReadCrate => "read_crate",
            Stage::Download => "download",
            Stage::Fetch => "fetch",
            Stage::OpenRepository => "open_repository",
            Stage::Rebuild => "rebuild",
            Stage::Compare => "compare",
            Stage::Assisted => "assisted",
        }
    }
}

/// Receives progress: a stage with an optional total (bytes or items), then increments.
pub trait Progress {
    /// A new stage begins.
    fn stage(&mut self, stage: Stage, total: Option<u64>);
    /// `n` more units of the current stage are done.
    fn inc(&mut self, n: u64);
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl Progress for Discard {
    fn stage(&mut self, _: Stage, _: Option<u64>) {}
    fn inc(&mut self, _: u64) {}
}

/// Stage timings for benchmarks (`CRATE_PROVENANCE_TIMINGS=1` in the CLI): wall time spent in
/// named spans, summed per name over the whole process. Off by default; while off, a span costs
/// one relaxed atomic load. Spans of one name may nest others (`compare` holds `hash` and `diff`),
/// so the sums are not meant to add up.
pub mod timing {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    static ENABLED: AtomicBool = AtomicBool::new(false);
    static TOTALS: Mutex<Vec<(&'static str, Duration)>> = Mutex::new(Vec::new());

    /// Start recording spans (process-wide).
    pub fn enable() {
        ENABLED.store(true, Ordering::Relaxed);
    }

    /// A running span; its time is added to its name's total when dropped.
    #[derive(Debug)]
    #[must_use = "a span measures until it is dropped"]
    pub struct Span {
        name: &'static str,
        start: Option<Instant>,
    }

    /// Measure from now until the returned span is dropped.
    pub fn span(name: &'static str) -> Span {
        Span {
            name,
            start: ENABLED.load(Ordering::Relaxed).then(Instant::now),
        }
    }

    impl Drop for Span {
        fn drop(&mut self) {
            if let Some(start) = self.start {
                add(self.name, start.elapsed());
            }
        }
    }

    /// Add `elapsed` to the total of `name` (when enabled).
    pub fn add(name: &'static str, elapsed: Duration) {
        if !ENABLED.load(Ordering::Relaxed) {
            return;
        }
        let mut totals = TOTALS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match totals.iter_mut().find(|(n, _)| *n == name) {
            Some((_, d)) => *d += elapsed,
            None => totals.push((name, elapsed)),
        }
    }

    /// The totals so far, in the order the names were first met, and reset them.
    pub fn take() -> Vec<(&'static str, Duration)> {
        std::mem::take(
            &mut *TOTALS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}
