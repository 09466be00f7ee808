//! Blocking network work on its own thread, stopped on request.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Run `f` on its own thread with a stop flag. Every 50 ms while waiting, `check` may return a
/// reason to stop: the flag is set, and `f` gets `grace` to finish before it is left behind to
/// end on its own (its I/O is bounded by timeouts). Returns `f`'s result (`None`: left behind or
/// the thread could not run) and the reason it was stopped.
pub(crate) fn stoppable<T: Send + 'static>(
    name: &str,
    f: impl FnOnce(&AtomicBool) -> T + Send + 'static,
    grace: Duration,
    mut check: impl FnMut() -> Option<String>,
) -> (Option<T>, Option<String>) {
    use std::sync::mpsc::RecvTimeoutError;
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let worker_stop = stop.clone();
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _ = tx.send(f(&worker_stop));
        });
    if let Err(e) = spawned {
        return (None, Some(format!("cannot start the `{name}` thread: {e}")));
    }
    let mut reason: Option<String> = None;
    let mut stopped_at: Option<std::time::Instant> = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(out) => return (Some(out), reason),
            Err(RecvTimeoutError::Disconnected) => {
                return (
                    None,
                    reason.or_else(|| Some(format!("the `{name}` thread died"))),
                );
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Some(at) = stopped_at {
            if at.elapsed() > grace {
                return (None, reason);
            }
            continue;
        }
        if let Some(why) = check() {
            reason = Some(why);
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            if grace.is_zero() {
                return (None, reason);
            }
            stopped_at = Some(std::time::Instant::now());
        }
    }
}
