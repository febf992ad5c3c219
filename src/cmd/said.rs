//! How a run's end is said on the terminal: a summary line, the drafts awaiting review (with the
//! command that reviews them), and the exit status.

use std::path::Path;
use std::process::ExitCode;

use expanse::runner::{self, RunnerState};
use expanse::state::waits_for_a_person;
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

/// "finished 16 PARTs: 16 review", or, for a run stopped while PARTs were at work, "stopped with
/// 16 PARTs: 3 scraping, 13 review; the next run goes on where the 3 unfinished stopped".
pub fn summary_line(summary: &runner::Summary) -> String {
    let tally = expanse::state::tally(summary.states.values().copied());
    // A PART the budget paused is said on a line of its own, with what it needs.
    let unfinished = summary
        .states
        .iter()
        .filter(|(n, s)| !waits_for_a_person(**s, summary.budget_paused.contains_key(n)))
        .count();
    if unfinished == 0 {
        return format!("finished {}: {tally}", plural(summary.states.len(), "PART"));
    }
    format!(
        "stopped with {}: {tally}; the next run goes on where the {unfinished} unfinished stopped",
        plural(summary.states.len(), "PART"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_stopped_mid_work_is_not_called_finished() {
        let mut summary = runner::Summary::default();
        summary.states.insert(1, RunnerState::Review);
        summary.states.insert(2, RunnerState::Review);
        assert_eq!(summary_line(&summary), "finished 2 PARTs: 2 review");
        summary.states.insert(3, RunnerState::Scraping);
        summary.states.insert(4, RunnerState::Queued);
        assert_eq!(
            summary_line(&summary),
            "stopped with 4 PARTs: 1 queued, 1 scraping, 2 review; the next run goes on where \
             the 2 unfinished stopped"
        );
        summary.states.insert(3, RunnerState::Paused);
        summary.states.insert(4, RunnerState::Review);
        summary.budget_paused.insert(3, "budget reached".into());
        assert_eq!(
            summary_line(&summary),
            "finished 4 PARTs: 1 paused, 3 review",
            "the budget's pause has its own line"
        );
    }
}
