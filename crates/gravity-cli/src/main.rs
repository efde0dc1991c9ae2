//! `gravity`: the command-line front end of gravity-model.
//!
//! Results go to stdout, diagnostics (`note:` lines) and errors (`gravity: `
//! prefix) to stderr; the exit code is 0 on success, 2 on error.

#![deny(unsafe_code)]

mod fit_cmd;
mod simulate_cmd;
mod tables;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Structural gravity: PPML and OLS with high-dimensional fixed effects, and
/// general-equilibrium counterfactuals.
#[derive(Parser, Debug)]
#[command(name = "gravity", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Estimate a gravity model (PPML or OLS with fixed effects) on a CSV panel.
    Fit(fit_cmd::FitArgs),
    /// Run a general-equilibrium counterfactual from a TOML scenario.
    Simulate(simulate_cmd::SimulateArgs),
    /// Combine fits saved with `gravity fit --json` into one regression table (as fixest's etable).
    Table(tables::TableCmdArgs),
}

/// True if the error (or any error under it) is a closed stdout.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind)
                == Some(std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes, each said once: a library error that already
/// quotes its source is not followed by the source again.
fn message(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !out.contains(&text) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
    }
    out
}

/// Sets SIGXFSZ to "ignore", so that a write beyond `ulimit -f` fails with
/// an error instead of killing the process.
#[cfg(unix)]
#[allow(unsafe_code)]
fn ignore_sigxfsz() {
    // SAFETY: setting a signal's disposition to "ignore" before any thread
    // starts; no handler code runs.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

#[cfg(not(unix))]
fn ignore_sigxfsz() {}

fn main() -> ExitCode {
    // A write beyond the file-size limit (`ulimit -f`) must fail with an
    // error, which leaves the old output in place, not kill the process.
    ignore_sigxfsz();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fit(args) => fit_cmd::run(args),
        Command::Simulate(args) => simulate_cmd::run(args),
        Command::Table(args) => tables::run_table(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed stdout (e.g. `| head`) is not an error.
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("gravity: {}", message(&e));
            ExitCode::from(2)
        }
    }
}
