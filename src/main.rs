//! The `expanse` command line: a thin front over the library.

mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run a knowledge-expansion plan with one research runner per PART, and review what they write.
#[derive(Parser)]
#[command(name = "expanse", version, about, long_about = None)]
#[command(
    after_help = "Plans are markdown files of PARTs; see README.md for the format. \
Paths of plans are relative to --root."
)]
struct Cli {
    /// The workspace folder holding plans/, knowledge/, expanse.toml and .expanse/.
    #[arg(long, global = true, value_name = "DIR", default_value = ".")]
    root: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and validate a plan; print its PARTs as a table (or the model as JSON).
    ///
    /// Errors are printed as PLAN:LINE: message and make the exit status 1; warnings do not.
    Check(cmd::check::Args),
    /// Run a plan: one runner per open PART, each ending with a draft awaiting review.
    ///
    /// Opens the terminal UI unless --headless. With --headless, prints one line per event
    /// (JSON lines with --json) and exits when every selected PART is in review, approved, failed
    /// or skipped: status 0, or 1 when any PART failed. Nothing is written to knowledge/ or the
    /// plan without approval.
    Run(cmd::run::Args),
    /// Show each PART's state from the journal of earlier runs.
    Status(cmd::status::Args),
    /// List drafts awaiting review; show a diff, approve, reject or edit one.
    ///
    /// Approving writes the knowledge file and its KNOWLEDGE DROP atomically, ticks the PART in
    /// the plan and updates knowledge/INDEX.md. If the file changed on disk since its diff, the
    /// approval is refused and the new diff shown; nothing is ever overwritten unseen.
    Review(cmd::review::Args),
    /// Print the main content of one page (HTML, markdown or text file, or a URL) exactly as a
    /// runner sees it: navigation, headers, footers, ads and scripts removed.
    Extract(cmd::extract::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => cmd::check::run(&cli.root, &args),
        Command::Run(args) => cmd::run::run(&cli.root, &args),
        Command::Status(args) => cmd::status::run(&cli.root, &args),
        Command::Review(args) => cmd::review::run(&cli.root, &args),
        Command::Extract(args) => cmd::extract::run(&cli.root, &args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("expanse: {err:#}");
            ExitCode::FAILURE
        }
    }
}
