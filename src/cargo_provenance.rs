//! `cargo-provenance`: the `cargo provenance` subcommand (see `cargo_cli`). It shares its modules
//! with `crate-provenance` (src/main.rs); what only the other binary uses is dead code here.
#![forbid(unsafe_code)]

#[allow(dead_code)]
mod attest;
mod cargo_cli;
#[allow(dead_code)]
mod render;
#[allow(dead_code)]
mod report_html;
#[allow(dead_code)]
mod sarif;
#[allow(dead_code)]
mod sbom_annotate;
#[allow(dead_code)]
mod scan;
#[allow(dead_code)]
mod watch;

fn main() -> std::process::ExitCode {
    cargo_cli::main()
}
