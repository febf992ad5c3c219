//! How a run's end is said on the terminal: a summary line, the drafts awaiting review (with the
//! command that reviews them), and the exit status.

use std::path::Path;
use std::process::ExitCode;

use expanse::runner::{self, RunnerState};
use expanse::words::plural;

/// The command that reviews this plan, as the user would type it.
pub fn review_command(root: &Path, shown: &str) -> String {
    // Typed in the workspace itself, the command needs no --root.
    let here = std::env::current_dir().ok();
    if root == Path::new(".") || here.is_some_and(|h| h == root) {
        format!("expanse review {shown}")
    } else {
        format!("expanse --root {} review {shown}", root.display())
    }
}

/// "finished 16 PARTs: 16 review".
pub fn summary_line(summary: &runner::Summary) -> String {
    format!(
        "finished {}: {}",
        plural(summary.states.len(), "PART"),
        expanse::state::tally(summary.states.values().copied())
    )
}

/// The run's final summary on stderr; exit status 1 when any PART failed.
pub fn report(summary: &runner::Summary, review: &str) -> ExitCode {
    note!("expanse: {}", summary_line(summary));
    for (n, why) in &summary.budget_paused {
        note!("expanse: PART {n} paused: {why}; run again with a higher budget to go on");
    }
    let waiting = summary.count(RunnerState::Review);
    if waiting > 0 {
        note!(
            "expanse: {} awaiting review (`{review}`, or the terminal UI); they persist",
            plural(waiting, "draft")
        );
    }
    if let Some(line) = &summary.budget {
        note!("expanse: {line}");
    }
    if summary.count(RunnerState::Failed) > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
