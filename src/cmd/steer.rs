//! `expanse steer PLAN N TEXT`: a note to a running PART, as `m` gives one in the terminal UI.
//! It goes through the live run's socket (the run journals it); when the socket cannot be
//! reached it is journalled here and the run reads it from the journal within a second. Every
//! section of the PART not yet written receives it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use expanse::journal::{Journal, Record};
use expanse::state::RunnerState;
use expanse::workspace::Workspace;

/// Arguments of `expanse steer`.
#[derive(clap::Args)]
pub struct Args {
    /// The plan (markdown), relative to --root.
    plan: PathBuf,
    /// The PART's number.
    part: u32,
    /// The note ("stick to the PyTorch 2.x API"); an empty one ("") clears the PART's notes.
    #[arg(num_args = 1.., allow_hyphen_values = true, required = true)]
    text: Vec<String>,
}

impl Args {
    /// The plan's path as given.
    pub fn plan_mut(&mut self) -> &mut PathBuf {
        &mut self.plan
    }
}

/// Run the command.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let ws = Workspace::new(root);
    let plan_path = ws.resolve(&args.plan);
    let shown = args.plan.display().to_string();
    let Some(plan) = super::load_checked(&plan_path, &shown)? else {
        return Ok(ExitCode::FAILURE);
    };
    let n = args.part;
    if plan.part(n).is_none() {
        let numbers: Vec<String> = plan.parts.iter().map(|p| p.number.to_string()).collect();
        eprintln!(
            "expanse: {shown} has no PART {n} (its PARTs: {})",
            numbers.join(", ")
        );
        return Ok(ExitCode::FAILURE);
    }
    let dir = ws.journal_dir(&plan_path);
    // A note is for a runner at work: with no run live, nothing would read it.
    let Some(pid) = super::attach::is_live(&dir) else {
        eprintln!(
            "expanse: no run of {shown} is live, so there is no runner to take a note; start one (`expanse run {shown}`) and steer it then (or press m on PART {n}'s card)"
        );
        return Ok(ExitCode::FAILURE);
    };
    let journal = Journal::open(&dir)?;
    let state = journal.status(n)?.and_then(|s| s.state);
    let working = state.is_some_and(|s| s.is_active() || s == RunnerState::Queued);
    if !working {
        let phrase = state.map_or("not started", |s| s.phrase());
        eprintln!(
            "expanse: PART {n} is {phrase}: a note reaches a runner still writing; nothing was changed (a draft in review takes a reason: `expanse review {shown} --reject {n} --requeue --reason …`)"
        );
        return Ok(ExitCode::FAILURE);
    }
    let text = args.text.join(" ").trim().to_string();
    // Through the run's socket (it journals the note and tells every attached client); a run
    // without one reads the journal each second instead.
    let sent = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()
        .is_some_and(|rt| {
            rt.block_on(async {
                let Ok(client) = expanse::runner::live::connect(&dir).await else {
                    return false;
                };
                let note = expanse::runner::Command::Note {
                    part: n,
                    text: text.clone(),
                };
                client.send_and_close(note).await
            })
        });
    if !sent {
        journal.append(&Record::Noted {
            ts: expanse::state::now(),
            part: n,
            text: text.clone(),
        })?;
    }
    if text.is_empty() {
        println!("PART {n}'s notes cleared; the run (process {pid}) reads it within a second");
    } else {
        println!(
            "note given to PART {n}: the run (process {pid}) reads it within a second, and every section not yet written receives it"
        );
    }
    Ok(ExitCode::SUCCESS)
}
