//! `gravity`: the command-line front end of gravity-model.
//!
//! Results go to stdout, diagnostics (`note:` lines) and errors (`gravity: `
//! prefix) to stderr; the exit code is 0 on success, 2 on error.

mod fit_cmd;
mod simulate_cmd;

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

#[derive(Subcommand, Debug)]
enum Command {
    /// Estimate a gravity model (PPML or OLS with fixed effects) on a CSV panel.
    Fit(fit_cmd::FitArgs),
    /// Run a general-equilibrium counterfactual from a TOML scenario.
    Simulate(simulate_cmd::SimulateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fit(args) => fit_cmd::run(args),
        Command::Simulate(args) => simulate_cmd::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed stdout (e.g. `| head`) is not an error.
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
            }
            eprintln!("gravity: {e:#}");
            ExitCode::from(2)
        }
    }
}
