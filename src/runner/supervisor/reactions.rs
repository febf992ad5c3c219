//! What the supervisor makes of a runner's report, of a runner's end and of a person's pause or
//! resume: plain functions of the PART's state, tested without a runtime; the loop applies what
//! they decide.

use super::super::driver::Outcome;
use super::super::event::{Counts, Event, Level, What};
use crate::state::RunnerState;

/// What a runner's event becomes (any event is progress: a stall, if any, is over).
#[derive(Debug, PartialEq)]
pub(super) struct Reaction {
    /// Events to pass on, in order.
    pub forward: Vec<Event>,
    /// The step a paused runner was about to take (shown again on resume).
    pub before_pause: Option<RunnerState>,
    /// Approve the draft as it arrives (`--approve-all`).
    pub approve: bool,
}

/// A runner's `event`, for a PART now in `state` (stalled from `before_stall`, if it is).
pub(super) fn runner_event(
    state: RunnerState,
    before_stall: Option<RunnerState>,
    mut event: Event,
    approve_all: bool,
) -> Reaction {
    let mut before_pause = None;
    // A runner that has not yet noticed its pause may still report the step it was on: the card
    // keeps saying paused, and resume returns to that step.
    if let Some(next) = event.state_now()
        && next.is_active()
        && state == RunnerState::Paused
    {
        before_pause = Some(next);
        as_log(&mut event, format!("(paused; was about to be {next})"));
    }
    // A report still on its way when the PART was approved changes nothing (the journal's
    // replay holds the same rule).
    if let Some(next) = event.state_now()
        && crate::state::after_report(Some(state), next).is_none()
    {
        as_log(
            &mut event,
            format!("(approved already; a late report of {next} changes nothing)"),
        );
    }
    let mut forward = Vec::new();
    // Back from a stall: its state is said again, unless the event says a state of its own.
    if let (Some(prev), Some(n)) = (before_stall, event.part)
        && !matches!(event.what, What::State { .. })
    {
        forward.push(Event::state(n, prev, "progress again"));
    }
    let approve = approve_all && matches!(event.what, What::Draft { .. });
    forward.push(event);
    Reaction {
        forward,
        before_pause,
        approve,
    }
}

/// A runner's state report said as a log line with `message` instead: it changes no state.
fn as_log(event: &mut Event, message: String) {
    event.what = What::Log {
        level: Level::Info,
        counts: Counts::default(),
    };
    event.message = message;
}

/// What PART `n`'s runner ending with `outcome` says, in order, and why the budget paused it
/// (when it did).
pub(super) fn outcome(n: u32, outcome: Outcome) -> (Vec<Event>, Option<String>) {
    match outcome {
        Outcome::Review => (Vec::new(), None),
        Outcome::BudgetPaused(why) => (
            vec![
                Event::log(Some(n), Level::Warn, why.clone()),
                Event::budget_paused(n, why.clone()),
            ],
            Some(why),
        ),
        Outcome::Failed(reason) => (
            vec![
                Event::error(Some(n), reason.clone()),
                Event::state(n, RunnerState::Failed, reason),
            ],
            None,
        ),
        Outcome::Cancelled => (
            vec![Event::state(n, RunnerState::Skipped, "cancelled")],
            None,
        ),
    }
}

/// What a pause or a resume needs to know of one PART.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Held {
    /// Its state now.
    pub state: RunnerState,
    /// The state a stall interrupted, if it is stalled.
    pub before_stall: Option<RunnerState>,
    /// The step a pause interrupted, if it is paused.
    pub before_pause: Option<RunnerState>,
    /// Its runner's task is alive (it can be told to pause or go on).
    pub has_runner: bool,
    /// It waits for a task (queued, not started).
    pub waiting: bool,
    /// The budget paused it (its runner has ended).
    pub budget_paused: bool,
}

/// Whether a pause holds this PART, and the step it returns to on resume (None: nothing to
/// pause — settled, or paused already).
pub(super) fn pause(p: Held) -> Option<RunnerState> {
    let running = p.state.is_active() || p.state == RunnerState::Queued;
    if p.state == RunnerState::Paused || !running {
        return None;
    }
    if p.has_runner {
        Some(match p.state {
            RunnerState::Stalled => p.before_stall.unwrap_or(RunnerState::Queued),
            s => s,
        })
    } else if p.waiting {
        // Not started yet: it simply is not started until resumed.
        Some(RunnerState::Queued)
    } else {
        None
    }
}

/// What a resume does to a PART.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resume {
    /// Not paused: nothing.
    Leave,
    /// Its runner (or its place in the queue) goes on, shown as the step it returns to.
    GoOn(RunnerState),
    /// The budget paused it and its runner ended: it starts again.
    Restart,
}

/// What a resume does to this PART.
pub(super) fn resume(p: Held) -> Resume {
    if p.state != RunnerState::Paused {
        return Resume::Leave;
    }
    if p.budget_paused && !p.has_runner {
        return Resume::Restart;
    }
    if p.has_runner || p.waiting {
        Resume::GoOn(p.before_pause.unwrap_or(RunnerState::Queued))
    } else {
        Resume::Leave
    }
}

/// Whether PART `n` may be started again (a retry, a requeue, a regeneration): the reason it
/// may not, said as a warning in its log. `held` is None when the PART is not in this run.
pub(super) fn restart_refused(n: u32, held: Option<Held>) -> Option<String> {
    match held {
        None => Some(format!("PART {n} is not part of this run")),
        Some(p) if p.has_runner => Some(format!(
            "PART {n} is still running; pause or cancel it first"
        )),
        // A second start would put two runners on one PART.
        Some(p) if p.waiting => Some(format!(
            "PART {n} is already queued to start; it runs when a runner is free"
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{Cause, EventKind};

    #[test]
    fn a_late_report_after_an_approval_is_a_log_line_not_a_state() {
        let r = runner_event(
            RunnerState::Approved,
            None,
            Event::draft(1, 40, 3, "draft ready"),
            true,
        );
        assert_eq!(r.forward[0].state_now(), None);
        assert_eq!(r.forward[0].kind(), EventKind::Log);
        assert!(!r.approve, "nothing is approved twice");
        let again = runner_event(
            RunnerState::Approved,
            None,
            Event::state(1, RunnerState::Queued, "redo"),
            false,
        );
        assert_eq!(again.forward[0].state_now(), Some(RunnerState::Queued));
    }

    #[test]
    fn a_paused_runners_late_step_is_kept_for_resume_not_shown() {
        let r = runner_event(
            RunnerState::Paused,
            None,
            Event::state(1, RunnerState::Writing, ""),
            false,
        );
        assert_eq!(r.before_pause, Some(RunnerState::Writing));
        assert_eq!(r.forward.len(), 1);
        assert_eq!(
            r.forward[0].state_now(),
            None,
            "the card keeps saying paused"
        );
        assert_eq!(r.forward[0].message, "(paused; was about to be writing)");
        // Settling while paused (a draft) is not a step: it is shown.
        let r = runner_event(
            RunnerState::Paused,
            None,
            Event::state(1, RunnerState::Review, "draft ready"),
            false,
        );
        assert_eq!(r.forward[0].state_now(), Some(RunnerState::Review));
        assert_eq!(r.before_pause, None);
    }

    #[test]
    fn progress_after_a_stall_says_the_state_again_unless_the_event_is_one() {
        let log = Event::log(Some(2), Level::Info, "search \"x\" → 3 hits");
        let r = runner_event(
            RunnerState::Stalled,
            Some(RunnerState::Searching),
            log.clone(),
            false,
        );
        assert_eq!(r.forward.len(), 2);
        assert_eq!(r.forward[0].state_now(), Some(RunnerState::Searching));
        assert_eq!(r.forward[0].message, "progress again");
        assert_eq!(r.forward[1], log);
        let r = runner_event(
            RunnerState::Stalled,
            Some(RunnerState::Searching),
            Event::state(2, RunnerState::Scraping, ""),
            false,
        );
        assert_eq!(r.forward.len(), 1, "the state event says it");
        // Not stalled: the event alone.
        let r = runner_event(RunnerState::Searching, None, log.clone(), false);
        assert_eq!(r.forward, vec![log]);
    }

    #[test]
    fn a_draft_is_approved_as_it_arrives_only_with_approve_all() {
        let draft = Event::draft(3, 40, 2, "draft ready");
        assert!(runner_event(RunnerState::Writing, None, draft.clone(), true).approve);
        assert!(!runner_event(RunnerState::Writing, None, draft, false).approve);
        let log = Event::log(Some(3), Level::Info, "x");
        assert!(!runner_event(RunnerState::Writing, None, log, true).approve);
    }

    #[test]
    fn each_end_says_what_it_is() {
        assert_eq!(outcome(1, Outcome::Review), (Vec::new(), None));
        let (said, why) = outcome(1, Outcome::BudgetPaused("budget: 50k of 50k".into()));
        assert_eq!(why.as_deref(), Some("budget: 50k of 50k"));
        assert_eq!(said[0].level(), Some(Level::Warn));
        assert_eq!(said[1].state_now(), Some(RunnerState::Paused));
        assert_eq!(said[1].cause(), Some(Cause::Budget));
        let (said, why) = outcome(1, Outcome::Failed("HTTP 503".into()));
        assert_eq!(why, None);
        assert_eq!(said[0].kind(), EventKind::Error);
        assert_eq!(said[1].state_now(), Some(RunnerState::Failed));
        assert_eq!(said[1].message, "HTTP 503");
        let (said, _) = outcome(1, Outcome::Cancelled);
        assert_eq!(said[0].state_now(), Some(RunnerState::Skipped));
    }

    fn held(state: RunnerState) -> Held {
        Held {
            state,
            before_stall: None,
            before_pause: None,
            has_runner: true,
            waiting: false,
            budget_paused: false,
        }
    }

    #[test]
    fn a_pause_holds_working_and_waiting_parts_and_returns_them_to_their_step() {
        assert_eq!(
            pause(held(RunnerState::Scraping)),
            Some(RunnerState::Scraping)
        );
        let stalled = Held {
            before_stall: Some(RunnerState::Writing),
            ..held(RunnerState::Stalled)
        };
        assert_eq!(
            pause(stalled),
            Some(RunnerState::Writing),
            "not to 'stalled'"
        );
        let queued = Held {
            has_runner: false,
            waiting: true,
            ..held(RunnerState::Queued)
        };
        assert_eq!(pause(queued), Some(RunnerState::Queued));
        for settled in [
            RunnerState::Review,
            RunnerState::Paused,
            RunnerState::Failed,
        ] {
            assert_eq!(pause(held(settled)), None, "{settled:?}");
        }
        // Queued with neither a runner nor a place in the queue: nothing to hold.
        let nowhere = Held {
            has_runner: false,
            ..held(RunnerState::Queued)
        };
        assert_eq!(pause(nowhere), None);
    }

    #[test]
    fn a_resume_goes_on_from_the_step_and_restarts_what_the_budget_stopped() {
        let paused = Held {
            before_pause: Some(RunnerState::Searching),
            ..held(RunnerState::Paused)
        };
        assert_eq!(resume(paused), Resume::GoOn(RunnerState::Searching));
        let queued = Held {
            has_runner: false,
            waiting: true,
            ..held(RunnerState::Paused)
        };
        assert_eq!(resume(queued), Resume::GoOn(RunnerState::Queued));
        let budget = Held {
            has_runner: false,
            budget_paused: true,
            ..held(RunnerState::Paused)
        };
        assert_eq!(resume(budget), Resume::Restart);
        assert_eq!(resume(held(RunnerState::Writing)), Resume::Leave);
    }

    #[test]
    fn a_part_starts_again_only_when_it_is_in_the_run_and_not_running() {
        assert_eq!(
            restart_refused(4, None).as_deref(),
            Some("PART 4 is not part of this run")
        );
        assert_eq!(
            restart_refused(2, Some(held(RunnerState::Writing))).as_deref(),
            Some("PART 2 is still running; pause or cancel it first")
        );
        let failed = Held {
            has_runner: false,
            ..held(RunnerState::Failed)
        };
        assert_eq!(restart_refused(2, Some(failed)), None);
        let queued = Held {
            has_runner: false,
            waiting: true,
            ..held(RunnerState::Queued)
        };
        assert_eq!(
            restart_refused(2, Some(queued)).as_deref(),
            Some("PART 2 is already queued to start; it runs when a runner is free")
        );
    }
}
