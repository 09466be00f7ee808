//! `crate-provenance generate`: shell completions and man pages, generated from the clap
//! definitions of both binaries (`crate-provenance` and `cargo-provenance`).

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, ValueEnum};

/// Which binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Bin {
    /// `crate-provenance`.
    CrateProvenance,
    /// `cargo-provenance` (run by cargo as `cargo provenance`).
    CargoProvenance,
}

/// Arguments of `generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    what: What,
}

#[derive(Debug, clap::Subcommand)]
enum What {
    /// Print a shell completion script on stdout.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
        /// The binary to complete.
        #[arg(long, value_enum, default_value_t = Bin::CrateProvenance)]
        bin: Bin,
    },
    /// Write the man pages into DIR: `crate-provenance.1`, one `crate-provenance-COMMAND.1`
    /// per subcommand, and `cargo-provenance.1`.
    Man {
        /// The output directory (created if missing).
        dir: PathBuf,
    },
}

fn command(bin: Bin) -> clap::Command {
    match bin {
        Bin::CrateProvenance => crate::Cli::command(),
        Bin::CargoProvenance => crate::cargo_cli::CargoProvenance::command(),
    }
}

/// `crate-provenance generate`.
pub fn run(args: &GenerateArgs) -> ExitCode {
    let fail = |m: String| {
        let _ = writeln!(std::io::stderr(), "error: {m}");
        ExitCode::from(2)
    };
    match &args.what {
        What::Completions { shell, bin } => {
            let mut cmd = command(*bin);
            let name = match bin {
                Bin::CrateProvenance => "crate-provenance",
                Bin::CargoProvenance => "cargo-provenance",
            };
            let mut out = Vec::new();
            clap_complete::generate(*shell, &mut cmd, name, &mut out);
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(&out);
            let _ = stdout.flush();
            ExitCode::SUCCESS
        }
        What::Man { dir } => {
            if let Err(e) = std::fs::create_dir_all(dir) {
                return fail(format!("cannot create `{}`: {e}", dir.display()));
            }
            let written =
                clap_mangen::generate_to(command(Bin::CrateProvenance), dir).and_then(|()| {
                    clap_mangen::Man::new(command(Bin::CargoProvenance)).generate_to(dir)
                });
            match written {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => fail(format!(
                    "cannot write the man pages into `{}`: {e}",
                    dir.display()
                )),
            }
        }
    }
}
