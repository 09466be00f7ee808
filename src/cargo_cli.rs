//! `cargo provenance`: `crate-provenance scan` of the current workspace's `Cargo.lock`, with the
//! workspace's `provenance.toml`, run as a cargo subcommand (the `cargo-provenance` binary).
//!
//! cargo runs `cargo-provenance provenance ARGS…`; the binary also works when run directly
//! (`cargo-provenance ARGS…`). The workspace is the one cargo finds (`cargo locate-project
//! --workspace`, honouring `--manifest-path`); its members are path packages in `Cargo.lock` and
//! are listed as skipped, as `scan --lockfile` does.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::Parser;

/// Verify every registry crate in this workspace's `Cargo.lock` against its upstream
/// repository (`crate-provenance scan --lockfile Cargo.lock` with the workspace's
/// `provenance.toml`).
///
/// Exit status: 0 = done (and the gate passed), 1 = a crate has a denied verdict (`--deny` /
/// `provenance.toml`), 2 = error of the tool itself, 130 = interrupted.
#[derive(Debug, Parser)]
#[command(name = "cargo-provenance", bin_name = "cargo provenance", version)]
pub struct CargoProvenance {
    /// Path to `Cargo.toml` of the workspace or of one of its members [default: the one cargo
    /// finds from the current directory].
    #[arg(long, value_name = "PATH")]
    manifest_path: Option<PathBuf>,
    #[command(flatten)]
    scan: crate::scan::ScanArgs,
}

fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {message}");
    ExitCode::from(2)
}

/// The workspace root cargo finds, as `cargo locate-project --workspace` reports it.
fn workspace_root(manifest_path: Option<&Path>) -> Result<PathBuf, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(&cargo);
    cmd.args(["locate-project", "--workspace", "--message-format", "plain"]);
    if let Some(p) = manifest_path {
        cmd.arg("--manifest-path").arg(p);
    }
    let out = cmd.output().map_err(|e| {
        format!(
            "cannot run `{} locate-project`: {e}",
            Path::new(&cargo).display()
        )
    })?;
    if !out.status.success() {
        return Err(format!(
            "cargo cannot find the workspace: {}",
            String::from_utf8_lossy(&out.stderr)
                .trim()
                .trim_start_matches("error: ")
        ));
    }
    let text = String::from_utf8(out.stdout)
        .map_err(|_| "`cargo locate-project` printed a path that is not UTF-8".to_owned())?;
    let manifest = PathBuf::from(text.trim_end_matches(['\n', '\r']));
    manifest
        .parent()
        .map(Path::to_owned)
        .ok_or_else(|| format!("`{}` has no parent directory", manifest.display()))
}

/// `path` relative to the current directory when it lies below it (so that SARIF locations
/// are relative to the repository a CI job runs in), else as it is.
fn relative_to_cwd(path: &Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| cwd.canonicalize().ok())
        .zip(path.canonicalize().ok())
        .and_then(|(cwd, p)| p.strip_prefix(cwd).ok().map(Path::to_owned))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_owned())
}

/// `cargo provenance` (and `cargo-provenance`).
pub fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "provenance") {
        args.remove(1);
    }
    // `scan` runs each verification in a worker process: this same executable.
    if args
        .get(1)
        .is_some_and(|a| a == crate::scan::isolate::SUBCOMMAND)
    {
        return crate::scan::isolate::worker_main();
    }
    let cli = match CargoProvenance::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    run(cli)
}

fn run(mut cli: CargoProvenance) -> ExitCode {
    let root = match workspace_root(cli.manifest_path.as_deref()) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    let lock = root.join("Cargo.lock");
    if !lock.is_file() {
        return fail(&format!(
            "the workspace has no `Cargo.lock` (`{}`): run `cargo generate-lockfile` first",
            lock.display()
        ));
    }
    let policy = root.join("provenance.toml");
    cli.scan.for_workspace(
        relative_to_cwd(&lock),
        policy.is_file().then(|| relative_to_cwd(&policy)),
    );
    crate::scan::run(&cli.scan)
}
