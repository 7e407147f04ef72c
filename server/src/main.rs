//! `tandem`: serves the web application, or runs one administration command
//! against the same data directory and database.

mod cli;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc's malloc. Each password hash fills 19 MiB on
/// whichever blocking thread runs it, and glibc keeps what those threads
/// freed in per-thread arenas: after 1,000 sign-ins, 8 at once, the server
/// stayed at 472 MiB (1,037 MiB before hashes took turns), and 315 MiB
/// after 200 sessions. With mimalloc, which hands freed pages back to the
/// system, the same run peaked at 104 MiB and settled at 50 MiB, and at
/// 113 MiB after the sessions (`scripts/bench`; figures in the README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
