//! The one mapping from how a verification ended to a results line.
//!
//! Every front-end of the batch engine — `crate-provenance scan` in-process or in worker
//! processes, `crate_provenance.scan`, the Dask module — records the same line for the same
//! crate version, because all of them go through these functions:
//!
//! * a report (any verdict) is the report;
//! * an [`Error`](crate::request::Error) is `{kind: ErrorKind name, message: error_message(e)}`;
//! * a crate whose repository host cannot be reached (DNS failure, refused connection, timeout)
//!   is **not** an error: batch verification always sets
//!   [`Options::unreachable_is_not_found`](crate::request::Options::unreachable_is_not_found), so it is
//!   the verdict `repository_not_found` with a `repository_unreachable` finding (issue 16: one
//!   answer everywhere; see [`batch_options`]);
//! * a panic is `internal` (`panic while verifying: …`), a per-crate timeout `limit_exceeded`,
//!   a worker process that died `worker_crashed` (see [`super::isolate`]), and a version that
//!   was started [`super::Journal::max_starts`] times without a result `internal`.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use super::inputs::Target;
use super::results::{Entry, Outcome};
use crate::error::ErrorKind;
use crate::request::{CrateSource, Options, Request};

/// The error kind of a crate whose worker process died (a scan-level outcome).
pub const WORKER_CRASHED: &str = "worker_crashed";

/// `options` as the batch engine verifies with them: an unreachable repository is the verdict
/// `repository_not_found` (with a `repository_unreachable` finding), not a `network` error.
pub fn batch_options(options: &Options) -> Options {
    let mut o = options.clone();
    o.unreachable_is_not_found = true;
    o
}

/// The line of a failed verification.
pub fn error(e: &crate::request::Error) -> Outcome {
    Outcome::Error {
        kind: e.kind().as_str().to_owned(),
        message: crate::error::error_message(e),
    }
}

/// The line of a verification that panicked.
pub fn panic(payload: &(dyn std::any::Any + Send)) -> Outcome {
    Outcome::Error {
        kind: ErrorKind::Internal.as_str().to_owned(),
        message: format!(
            "panic while verifying: {}",
            payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default()
        ),
    }
}

/// The line of a verification stopped by the per-crate timeout.
pub fn timeout(limit: Duration) -> Outcome {
    Outcome::Error {
        kind: ErrorKind::LimitExceeded.as_str().to_owned(),
        message: format!(
            "limit `--timeout` exceeded: verifying took longer than {} s",
            limit.as_secs()
        ),
    }
}

/// The line of a crate whose worker process died or answered nothing usable: `what` says how
/// (`was killed by signal 6 (SIGABRT)`, …); the tail of its stderr is appended.
pub fn worker_crashed(key: &str, what: &str, stderr: &[u8]) -> Outcome {
    /// At most this much of a worker's stderr goes into the message.
    const MAX_STDERR: usize = 4096;
    let start = stderr.len().saturating_sub(MAX_STDERR);
    let text = String::from_utf8_lossy(&stderr[start..]);
    let text = text.trim();
    let tail = if text.is_empty() {
        String::new()
    } else {
        format!(
            ": {}",
            super::summary::clean(&text.replace('\n', " | ")).trim()
        )
    };
    Outcome::Error {
        kind: WORKER_CRASHED.to_owned(),
        message: format!("worker process for `{key}` {what}{tail}"),
    }
}

/// The line of a crate version whose verification took its whole process down: `starts` times
/// according to a [`super::Journal`], or (`None`) once, as seen by a distributed scheduler. It
/// is not verified again.
pub fn lost(key: &str, starts: Option<u32>) -> Outcome {
    Outcome::Error {
        kind: ErrorKind::Internal.as_str().to_owned(),
        message: match starts {
            Some(n) => {
                format!("the verification of `{key}` crashed its worker {n} times; not retried")
            }
            None => format!("the verification of `{key}` killed its worker"),
        },
    }
}

/// How an in-process verification ended.
#[derive(Debug)]
pub enum Verified {
    /// A result line.
    Done(Outcome),
    /// `stop` was raised before it finished (the caller decides: interrupt or timeout).
    Stopped,
}

/// Verify `target` from the registry in this process with [`batch_options`]`(options)`,
/// catching panics.
pub fn verify(target: &Target, options: &Options, stop: &AtomicBool) -> Verified {
    let request = Request::new(CrateSource::Registry {
        name: target.name.clone(),
        version: target.version.clone(),
    })
    .with_options(batch_options(options));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::verify::verify_opts(&request, &mut crate::progress::Discard, stop)
    }));
    match result {
        Ok(Ok(report)) => Verified::Done(Outcome::Report(Box::new(report))),
        Ok(Err(e)) if e.kind() == ErrorKind::Interrupted => Verified::Stopped,
        Ok(Err(e)) => Verified::Done(error(&e)),
        Err(payload) => Verified::Done(panic(payload.as_ref())),
    }
}

/// The results line for `target` and `outcome`.
pub fn entry(target: &Target, outcome: Outcome) -> Entry {
    Entry {
        name: target.name.clone(),
        version: target.version.clone(),
        outcome,
    }
}
