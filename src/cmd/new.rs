//! `expanse new`: write a plan skeleton with every step a PART needs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use expanse::plan::{self, NewPart, Plan};
use expanse::workspace::Workspace;

/// Arguments of `expanse new`.
#[derive(clap::Args)]
pub struct Args {
    /// The plan file to write (relative to --root), e.g. plans/gpu-serving.md. Never overwritten.
    plan: PathBuf,
    /// The plan's title.
    #[arg(long, value_name = "TEXT")]
    title: String,
    /// A PART: its knowledge file (relative to knowledge/) and what it is about. Repeat for
    /// more PARTs.
    #[arg(long = "part", value_name = "DIR/FILE.md:TITLE", required = true, value_parser = parse_part)]
    parts: Vec<NewPart>,
    /// Each PART's planned size in lines (split over three sections).
    #[arg(long, value_name = "N", default_value_t = 300)]
    lines: u32,
}

fn parse_part(s: &str) -> Result<NewPart, String> {
    NewPart::parse(s).map_err(|e| e.to_string())
}

/// Run the command.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let ws = Workspace::new(root);
    let path = ws.resolve(&args.plan);
    let shown = args.plan.display().to_string();
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let text = match plan::skeleton(&args.title, &args.parts, &today, args.lines) {
        Ok(t) => t,
        Err(e) => {
            note!("expanse: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        // Folders are made only inside a workspace: elsewhere a typo would scatter them.
        if ws.require().is_err() {
            note!(
                "expanse: the folder {} does not exist and {} is not a workspace; create the folder, or run `expanse init` first",
                parent.display(),
                root.display()
            );
            return Ok(ExitCode::FAILURE);
        }
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            note!("expanse: {shown} already exists; `expanse new` never overwrites a plan");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => {
            note!("expanse: cannot create {shown}: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("cannot write {shown}"))?;
    // A title or target of unusual shape could still read differently than meant: show it now.
    for d in &Plan::parse(&text).diagnostics {
        note!("{shown}:{}: warning: {}", d.line, d.message);
    }
    outln!(
        "wrote {shown}: {} PARTs. Replace the queries and sections with your own, then\n  expanse check {shown}\n  expanse run {shown}",
        args.parts.len()
    );
    Ok(ExitCode::SUCCESS)
}
