//! The `versorgung` binary: parses the command line and hands over to the library.

use clap::Parser;
use std::process::ExitCode;
use versorgung::config::{Cli, Command};

fn main() -> ExitCode {
    // A missing .env is normal; a broken one is worth knowing about.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("warning: .env not loaded: {e}");
    }
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => run_async(versorgung::cli::serve(cli.serve)),
        Some(Command::Serve(args)) => run_async(versorgung::cli::serve(*args)),
        Some(Command::Migrate(db)) => run_async(versorgung::cli::migrate(db)),
        Some(Command::Seed(args)) => run_async(versorgung::cli::seed(args)),
        Some(Command::Token(args)) => versorgung::cli::token(args).map(|t| println!("{t}")),
        Some(Command::Openapi) => {
            print!(
                "{}",
                versorgung::http::openapi::to_pretty_json(&versorgung::routes::openapi_document())
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_async(fut: impl std::future::Future<Output = Result<(), String>>) -> Result<(), String> {
    actix_web::rt::System::new().block_on(fut)
}
