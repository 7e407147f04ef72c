//! `tandem`: serves the web application, or runs one administration command
//! against the same data directory and database.

mod cli;

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    // Whatever Tandem or a library creates is for this account alone (the
    // data directory holds sign-ins, secrets and recordings of keystrokes);
    // the services also create their files with explicit private modes.
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,russh=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let arguments = cli::Arguments::parse();
    match cli::run(arguments).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
