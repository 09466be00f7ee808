//! The CLI's side of the batch engine's worker processes ([`provenance_core::batch::isolate`]).
//!
//! `scan` runs each crate version in a child process of this same binary: `current_exe()` with
//! the hidden `__verify-worker` subcommand, which serves one request on stdin and writes one
//! results line on stdout. No external program is run: only `std::env::current_exe()`.

use std::process::ExitCode;
#[cfg(debug_assertions)]
use std::time::Duration;

use provenance_core::batch::isolate::{self, Worker, WorkerLimits};

/// The hidden subcommand name.
pub const SUBCOMMAND: &str = "__verify-worker";

/// Test-only fault injection (debug builds only): `NAME=abort|overflow|oom|exit|hang[,NAME=…]`.
#[cfg(debug_assertions)]
const FAULT_ENV: &str = "CRATE_PROVENANCE_TEST_FAULT";

/// The worker program of `scan`: this executable and [`SUBCOMMAND`].
pub fn worker(limits: WorkerLimits) -> Result<Worker, String> {
    let program = std::env::current_exe()
        .map_err(|e| format!("cannot start worker processes: no executable path: {e}"))?;
    Ok(Worker {
        program,
        args: vec![SUBCOMMAND.into()],
        limits,
    })
}

/// `crate-provenance __verify-worker`: one request on stdin, one results line on stdout.
pub fn worker_main() -> ExitCode {
    let served = isolate::serve(
        &mut std::io::stdin().lock(),
        &mut std::io::stdout().lock(),
        |req| {
            #[cfg(debug_assertions)]
            inject_fault(&req.name);
            #[cfg(not(debug_assertions))]
            let _ = req;
        },
    );
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(debug_assertions)]
fn inject_fault(name: &str) {
    let Ok(spec) = std::env::var(FAULT_ENV) else {
        return;
    };
    let Some(kind) = spec
        .split(',')
        .filter_map(|f| f.split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, k)| k.to_owned())
    else {
        return;
    };
    match kind.as_str() {
        "abort" => std::process::abort(),
        "overflow" => {
            fn deep(n: u64) -> u64 {
                let buf = [n; 512];
                std::hint::black_box(&buf);
                if std::hint::black_box(n) == u64::MAX {
                    return 0;
                }
                deep(n + 1) + std::hint::black_box(buf[7])
            }
            std::hint::black_box(deep(0));
        }
        "oom" => {
            // Far below the machine's memory, far above a test's `--worker-memory`: only
            // `RLIMIT_AS` makes this allocation fail.
            let mut v: Vec<u8> = Vec::with_capacity(4 << 30);
            v.push(1);
            std::hint::black_box(&v);
        }
        "exit" => std::process::exit(3),
        "hang" => std::thread::sleep(Duration::from_secs(3600)),
        _ => {}
    }
}
