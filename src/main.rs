//! The `expanse` command line: a thin front over the library.

#[macro_use]
mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Run a knowledge-expansion plan with one research runner per PART, and review what they write.
#[derive(Parser)]
#[command(name = "expanse", version, about, long_about = None)]
#[command(disable_help_subcommand = true)]
#[command(
    after_help = "New here? `expanse init DIR` makes a workspace with an example plan that runs \
offline; `expanse help plan` prints the plan format. Without --root, the workspace is the current \
folder or the nearest one above it; paths of plans are relative to --root when it is given, else to \
the current folder."
)]
struct Cli {
    /// The workspace folder holding plans/, knowledge/, expanse.toml and .expanse/ (default:
    /// the current folder, or the nearest folder above it that is a workspace).
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Make a workspace: plans/example.md (runs offline), knowledge/INDEX.md, a commented
    /// expanse.toml and a .gitignore for .expanse/. Never overwrites a file.
    Init(cmd::init::Args),
    /// Write a plan skeleton: every step a PART needs, queries and sections to fill in.
    ///
    /// Example: expanse new plans/serving.md --title "GPU serving"
    /// --part serving/triton-batching.md:"Triton dynamic batching" --part serving/vllm.md:vLLM
    New(cmd::new::Args),
    /// Print the plan format (`expanse help plan`), or a command's help.
    Help(cmd::help::Args),
    /// Parse and validate a plan; print its PARTs as a table (or the model as JSON).
    ///
    /// Errors are printed as PLAN:LINE: message and make the exit status 1; warnings do not.
    /// `expanse help plan` lists every shape a plan may use, and what is an error or a warning.
    Check(cmd::check::Args),
    /// Run a plan: one runner per open PART, each ending with a draft awaiting review.
    ///
    /// Opens the terminal UI unless --headless: the run is a process of its own and the terminal
    /// UI its first client, so a closed terminal leaves it running (q asks whether to stop it or
    /// leave it running; `expanse attach` comes back to it). With --headless, prints one line per event
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
    /// Print the main content of one page (an HTML, PDF, markdown or text file, or a URL) exactly
    /// as a runner sees it: navigation, headers, footers, ads and scripts removed.
    Extract(cmd::extract::Args),
    /// Check each cited claim of a knowledge file against its numbered sources.
    ///
    /// Sources come from the workspace's cache, else are fetched (under the runners' address
    /// rules); one that cannot be read is named. Prints each claim's verdict (✓ ~ ✗ ?) with its
    /// reason and a summary; --json for scripts; exit status 1 when any claim is ✗. With
    /// --jsonl, one claim a line {"id","claim","sources":{"1":"text"}} -> {"id","verdict",
    /// "reason","evidence"}, the contract benchmarks use.
    Verify(cmd::verify::Args),
    /// Give a running PART a note: every section it has not written yet receives it.
    ///
    /// The note goes to the live run of the plan through its socket (or, failing that, its
    /// journal, read within a second), as `m` on the PART's card does in the terminal UI;
    /// sections already written stay. A second note
    /// adds to the first; an empty note ("") clears them. Exit status 1 when no run is live.
    Steer(cmd::steer::Args),
    /// Open the terminal UI on a live run; d leaves it running, q stops it.
    ///
    /// The run may be another terminal's, one left running, a `run --headless`, or one whose
    /// SSH connection dropped: everything it does is shown here, and approvals, rejections,
    /// pauses and notes from here reach it. With no PLAN, the workspace's one live run.
    Attach(cmd::attach::Args),
    /// End a live run cleanly (in-flight work journalled, as quitting it does); the next run
    /// goes on from there.
    Stop(cmd::attach::StopArgs),
}

fn main() -> ExitCode {
    // pdf_oxide lets one stream inflate to 256 MB; expanse's own check bounds zlib streams
    // before parsing, and this bounds the parser's other filters too.
    if std::env::var_os("PDF_OXIDE_MAX_DECOMPRESS_MB").is_none() {
        // SAFETY: set before any thread starts (nothing before this line spawns one).
        unsafe { std::env::set_var("PDF_OXIDE_MAX_DECOMPRESS_MB", "16") };
    }
    let mut cli = Cli::parse();
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let (root, above) = match &cli.command {
        // init and new make things where they are told; they never look upwards.
        Command::Init(_) | Command::New(_) | Command::Help(_) | Command::Extract(_) => (
            cli.root.clone().unwrap_or_else(|| PathBuf::from(".")),
            false,
        ),
        _ => expanse::workspace::Workspace::locate(cli.root.as_deref(), &cwd),
    };
    if above {
        // Found above the current folder: a plan named here is a file here.
        let here = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = cwd.join(&*p);
            }
        };
        match &mut cli.command {
            Command::Run(a) => here(&mut a.plan),
            Command::Status(a) => here(a.plan_mut()),
            Command::Review(a) => here(a.plan_mut()),
            Command::Check(a) => here(a.plan_mut()),
            Command::Steer(a) => here(a.plan_mut()),
            Command::Stop(a) => here(a.plan_mut()),
            Command::Attach(a) => {
                if let Some(p) = a.plan_mut() {
                    here(p)
                }
            }
            Command::Verify(a) => {
                if let Some(f) = a.file_mut() {
                    here(f);
                }
            }
            _ => {}
        }
    }
    let root = root.as_path();
    let ws = expanse::workspace::Workspace::new(root);
    // Commands that keep state refuse a folder that is not a workspace rather than create
    // knowledge/ and .expanse/ wherever they were started.
    let needs_workspace = matches!(
        cli.command,
        Command::Run(_) | Command::Status(_) | Command::Review(_)
    );
    if needs_workspace && let Err(e) = ws.require() {
        note!("expanse: {e}");
        return ExitCode::FAILURE;
    }
    let result = match cli.command {
        Command::Init(args) => cmd::init::run(root, &args),
        Command::New(args) => cmd::new::run(root, &args),
        Command::Help(args) => cmd::help::run::<Cli>(&args),
        Command::Check(args) => cmd::check::run(root, &args),
        Command::Run(args) => cmd::run::run(root, &args),
        Command::Status(args) => cmd::status::run(root, &args),
        Command::Review(args) => cmd::review::run(root, &args),
        Command::Extract(args) => cmd::extract::run(root, &args),
        Command::Verify(args) => cmd::verify::run(root, &args),
        Command::Steer(args) => cmd::steer::run(root, &args),
        Command::Attach(args) => cmd::attach::run(root, &args),
        Command::Stop(args) => cmd::attach::stop(root, &args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            note!("expanse: {err:#}");
            ExitCode::FAILURE
        }
    }
}
