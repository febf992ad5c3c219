//! What the supervisor makes of a runner's report and of a runner's end: plain functions of the
//! PART's state, tested without a runtime; the loop applies what they decide.

use super::super::driver::Outcome;
use super::super::event::{Event, EventKind, Level};
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
    if let Some(next) = event.state
        && next.is_active()
        && state == RunnerState::Paused
    {
        before_pause = Some(next);
        event.state = None;
        event.kind = EventKind::Log;
        event.message = format!("(paused; was about to be {next})");
    }
    let mut forward = Vec::new();
    // Back from a stall: its state is said again, unless the event says a state of its own.
    if let (Some(prev), Some(n)) = (before_stall, event.part)
        && event.kind != EventKind::State
    {
        forward.push(Event::state(n, prev, "progress again"));
    }
    let approve = approve_all && event.kind == EventKind::Draft;
    forward.push(event);
    Reaction {
        forward,
        before_pause,
        approve,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::Cause;

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
        assert_eq!(r.forward[0].state, None, "the card keeps saying paused");
        assert_eq!(r.forward[0].message, "(paused; was about to be writing)");
        // Settling while paused (a draft) is not a step: it is shown.
        let r = runner_event(
            RunnerState::Paused,
            None,
            Event::state(1, RunnerState::Review, "draft ready"),
            false,
        );
        assert_eq!(r.forward[0].state, Some(RunnerState::Review));
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
        assert_eq!(r.forward[0].state, Some(RunnerState::Searching));
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
        assert_eq!(said[0].level, Some(Level::Warn));
        assert_eq!(said[1].state, Some(RunnerState::Paused));
        assert_eq!(said[1].cause, Some(Cause::Budget));
        let (said, why) = outcome(1, Outcome::Failed("HTTP 503".into()));
        assert_eq!(why, None);
        assert_eq!(said[0].kind, EventKind::Error);
        assert_eq!(said[1].state, Some(RunnerState::Failed));
        assert_eq!(said[1].message, "HTTP 503");
        let (said, _) = outcome(1, Outcome::Cancelled);
        assert_eq!(said[0].state, Some(RunnerState::Skipped));
    }
}
