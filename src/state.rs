//! The shared vocabulary at the bottom of the crate: a PART's runner state and its rules (where a
//! PART starts, what a plan edit does to it, how `status` shows it), model usage, and the clock.
//! Every layer (supervisor, journal replay, review, `status`, the TUI) uses these; none repeats them.

use serde::{Deserialize, Serialize};

use crate::plan::Part;

/// Where one PART's runner is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum RunnerState {
    /// Waiting for a slot.
    Queued,
    /// Running the Step 0 checks against the knowledge base.
    Checking,
    /// Running searches.
    Searching,
    /// Fetching pages.
    Scraping,
    /// The writer is drafting.
    Writing,
    /// Paused by the user; resumes where it stopped.
    Paused,
    /// Active but without progress for a while.
    Stalled,
    /// A draft awaits review.
    Review,
    /// The draft was approved and written.
    Approved,
    /// The draft was rejected and will be written again with the reason.
    Rejected,
    /// The runner failed; retry resumes from the failed step.
    Failed,
    /// The plan already marks the PART complete.
    Done,
    /// Rejected without requeue, or cancelled: not run further.
    Skipped,
}

impl RunnerState {
    /// Every state, in lifecycle order.
    pub const ALL: [RunnerState; 13] = [
        RunnerState::Queued,
        RunnerState::Checking,
        RunnerState::Searching,
        RunnerState::Scraping,
        RunnerState::Writing,
        RunnerState::Paused,
        RunnerState::Stalled,
        RunnerState::Review,
        RunnerState::Approved,
        RunnerState::Rejected,
        RunnerState::Failed,
        RunnerState::Done,
        RunnerState::Skipped,
    ];

    /// The state's name as the CLI and JSON print it.
    pub fn name(self) -> &'static str {
        match self {
            RunnerState::Queued => "queued",
            RunnerState::Checking => "checking",
            RunnerState::Searching => "searching",
            RunnerState::Scraping => "scraping",
            RunnerState::Writing => "writing",
            RunnerState::Paused => "paused",
            RunnerState::Stalled => "stalled",
            RunnerState::Review => "review",
            RunnerState::Approved => "approved",
            RunnerState::Rejected => "rejected",
            RunnerState::Failed => "failed",
            RunnerState::Done => "done",
            RunnerState::Skipped => "skipped",
        }
    }

    /// The state as a phrase that reads in a sentence: "PART 3 is awaiting review".
    pub fn phrase(self) -> &'static str {
        match self {
            RunnerState::Review => "awaiting review",
            RunnerState::Queued => "queued",
            RunnerState::Done => "already done in the plan",
            other => other.name(),
        }
    }

    /// A runner is doing work (or could, once resumed).
    pub fn is_active(self) -> bool {
        matches!(
            self,
            RunnerState::Checking
                | RunnerState::Searching
                | RunnerState::Scraping
                | RunnerState::Writing
                | RunnerState::Paused
                | RunnerState::Stalled
        )
    }

    /// Whether a runner is doing work now (its clock runs): active and not paused.
    pub fn is_working(self) -> bool {
        self.is_active() && self != RunnerState::Paused
    }

    /// Nothing more happens without the user (headless runs end when every PART is here).
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            RunnerState::Review
                | RunnerState::Approved
                | RunnerState::Failed
                | RunnerState::Done
                | RunnerState::Skipped
        )
    }
}

/// Whether a PART in `state` waits for a person: settled, or paused by the budget (its runner
/// has ended; only more budget moves it). A run ends, or may be left, once every PART is.
pub fn waits_for_a_person(state: RunnerState, budget_paused: bool) -> bool {
    state.is_settled() || budget_paused
}

impl std::fmt::Display for RunnerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How many PARTs are in each state, in the states' own order: "2 review, 1 approved" (empty
/// when there are none).
pub fn tally(states: impl IntoIterator<Item = RunnerState>) -> String {
    let mut counts = [0usize; RunnerState::ALL.len()];
    for s in states {
        if let Some(i) = RunnerState::ALL.iter().position(|&a| a == s) {
            counts[i] += 1;
        }
    }
    RunnerState::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {s}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a state change was, in a form a front end can branch on (its words are the message).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// An approval was undone: the PART is back in review.
    Undone,
    /// The budget paused the PART: its next request would pass a cap.
    Budget,
}

/// What a PART's log and status say when its approval is undone.
pub const APPROVAL_UNDONE: &str = "approval undone";

/// Current local time as RFC 3339 with seconds: the clock every record and event is stamped with.
pub fn now() -> String {
    // Milliseconds: records a runner makes and the state events its supervisor journals a
    // moment later are put back in the order they happened by their times.
    chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, false)
}

/// A time [`now`] stamped, as an instant: times carry the local offset of their moment, so two
/// sides of a daylight-saving change compare by instant, not as text. None: not such a time.
pub fn moment(ts: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(ts).ok()
}

/// `14:32:07` of a time [`now`] stamped (empty if it is not one).
pub fn time_of_day(ts: &str) -> &str {
    ts.get(11..19).unwrap_or("")
}

/// Token counts of model requests (one request, a section, a PART or a plan).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Counted by expanse's tokenizer because the server reported none.
    #[serde(default)]
    pub estimated: bool,
}

impl std::fmt::Display for Usage {
    /// `812 prompt + 96 completion tokens`, with `(estimated)` when they are.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} prompt + {} completion tokens{}",
            self.prompt_tokens,
            self.completion_tokens,
            if self.estimated { " (estimated)" } else { "" }
        )
    }
}

impl Usage {
    /// Both counts together.
    pub fn total(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }

    /// Add another request's usage; the sum is estimated if any part of it is.
    pub fn add(&mut self, other: Usage) {
        self.prompt_tokens += other.prompt_tokens;
        self.completion_tokens += other.completion_tokens;
        self.estimated |= other.estimated;
    }
}

/// One PART's status as the journal tells it (see `journal::replay`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartStatus {
    /// The last state recorded.
    pub state: Option<RunnerState>,
    /// The message of that state, if any.
    pub message: Option<String>,
    /// Lines of the last draft.
    pub draft_lines: Option<usize>,
    /// Sources of the last draft.
    pub sources: Option<usize>,
    /// The last rejection.
    pub rejection: Option<Rejection>,
    /// Tokens used by this PART's model requests so far, across runs.
    pub usage: Option<Usage>,
    /// Tokens the PART's usage was estimated to reach by the latest run's start (low, high).
    pub estimate: Option<(u64, u64)>,
    /// The drop path of an approval that began and has not finished (a resumed approval reuses it).
    pub approval_drop: Option<String>,
    /// A pending request to write one section or every section again, with why.
    pub regenerate: Option<Rewrite>,
    /// The reviewer edited the draft awaiting review.
    pub edited: bool,
    /// An undo began and has not finished (a crash interrupted it).
    pub undoing: bool,
    /// A person's notes to the PART's runner, oldest first; every section written after a note
    /// receives it.
    pub notes: Vec<String>,
    /// Its last state is a pause the budget made (it waits for more budget, not for a resume
    /// of its runner).
    pub budget_paused: bool,
}

/// A reviewer's rejection of a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Why, if they said.
    pub reason: Option<String>,
    /// The PART goes back to the writer (else it is skipped).
    pub requeue: bool,
}

/// A reviewer's request to write a draft again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// One section (0-based); None: every section.
    pub section: Option<usize>,
    /// Why.
    pub reason: String,
}

/// How a PART's status changes: the one place, for the journal's replay, the run and `status`
/// alike (the journal folds its records through these; the supervisor's machine says states that
/// [`after_report`] allows).
impl PartStatus {
    /// Every change of state goes through here: what caused the last one is forgotten.
    fn set(&mut self, state: RunnerState, message: Option<String>) {
        self.state = Some(state);
        self.message = message;
        self.budget_paused = false;
    }

    /// A state was reported (by a runner, or said by the supervisor), with its words and what it
    /// was.
    pub fn reported(&mut self, state: RunnerState, message: Option<String>, cause: Option<Cause>) {
        if let Some(next) = after_report(self.state, state) {
            self.set(next, message);
            self.budget_paused = cause == Some(Cause::Budget);
        }
    }

    /// A draft was written: it awaits review, and what asked for it is answered.
    pub fn drafted(&mut self, lines: usize, sources: usize) {
        self.draft_lines = Some(lines);
        self.sources = Some(sources);
        self.set(RunnerState::Review, None);
        self.rejection = None;
        self.regenerate = None;
        self.edited = false;
        self.approval_drop = None;
    }

    /// A reviewer asked for one section (or every section) to be written again.
    pub fn rewrite_asked(&mut self, section: Option<usize>, reason: &str) {
        self.set(RunnerState::Rejected, Some(reason.to_string()));
        self.regenerate = Some(Rewrite {
            section,
            reason: reason.to_string(),
        });
    }

    /// The reviewer edited the draft (`drop`: its drop, which has no line count here).
    pub fn edited_by_reviewer(&mut self, lines: usize, drop: bool) {
        self.edited = true;
        if !drop {
            self.draft_lines = Some(lines);
        }
    }

    /// A person's note to the runner (an empty one clears them).
    pub fn noted(&mut self, text: &str) {
        if text.trim().is_empty() {
            self.notes.clear();
        } else {
            self.notes.push(text.to_string());
        }
    }

    /// The draft was rejected: skipped, or (`requeue`) to be written again with the reason.
    pub fn rejected(&mut self, reason: Option<String>, requeue: bool) {
        self.rejection = Some(Rejection {
            reason: reason.clone(),
            requeue,
        });
        self.regenerate = None;
        let state = if requeue {
            RunnerState::Rejected
        } else {
            RunnerState::Skipped
        };
        self.set(state, reason);
    }

    /// An approval began; its drop's path is fixed (a resumed approval reuses it).
    pub fn approval_begun(&mut self, drop: Option<String>) {
        self.approval_drop = drop;
        self.undoing = false;
    }

    /// An approval finished.
    pub fn approved(&mut self) {
        self.set(RunnerState::Approved, None);
        self.approval_drop = None;
    }

    /// An approval was given up before it finished (the file changed meanwhile).
    pub fn approval_abandoned(&mut self) {
        self.approval_drop = None;
    }

    /// Model tokens were used.
    pub fn used(&mut self, usage: Usage) {
        self.usage.get_or_insert_with(Usage::default).add(usage);
    }

    /// An undo of the approval began.
    pub fn undo_begun(&mut self) {
        self.undoing = true;
    }

    /// The approval is undone: the draft awaits review again.
    pub fn undone(&mut self) {
        self.undoing = false;
        self.set(RunnerState::Review, Some(APPROVAL_UNDONE.into()));
    }

    /// A run's start estimated the model tokens still to come (low, high): the PART's usage is
    /// expected to reach what it spent so far plus these.
    pub fn estimated(&mut self, low: u64, high: u64) {
        let spent = self.usage.map_or(0, |u| u.total());
        self.estimate = Some((spent + low, spent + high));
    }

    /// An approval began (its drop is journalled) and a crash stopped it before it finished: the
    /// next command finishes it.
    pub fn approval_interrupted(&self) -> bool {
        self.approval_drop.is_some() && self.state == Some(RunnerState::Review)
    }

    /// What a runner starting this PART is asked for: a reviewer's reason to write it again (a
    /// pending regeneration's, else a requeued rejection's), and the one section to write.
    pub fn asked_again(&self) -> (Option<String>, Option<usize>) {
        match (&self.regenerate, &self.rejection) {
            (Some(r), _) => (Some(r.reason.clone()), r.section),
            (None, Some(r)) if r.requeue => (r.reason.clone(), None),
            _ => (None, None),
        }
    }
}

/// The state a PART starts a run in, from the plan (`done`: its checkbox is ticked) and what the
/// journal recorded. `redo` runs PARTs already done or approved again; a draft awaiting review is
/// never thrown away.
pub fn initial_state(
    done: bool,
    status: Option<&PartStatus>,
    has_draft: bool,
    redo: bool,
) -> RunnerState {
    match status.and_then(|s| s.state) {
        Some(RunnerState::Approved) if !redo => return RunnerState::Approved,
        Some(RunnerState::Review) if has_draft => return RunnerState::Review,
        Some(RunnerState::Skipped) if !redo => return RunnerState::Skipped,
        _ => {}
    }
    if done && !redo {
        return RunnerState::Done;
    }
    // A draft on disk that no rejection or regeneration asked to replace waits for review, even
    // when the journal lost what it knew of it: a reviewer's edit is never overwritten unasked.
    let replace_asked = status.is_some_and(|s| s.rejection.is_some() || s.regenerate.is_some());
    if has_draft && !redo && !replace_asked {
        RunnerState::Review
    } else {
        RunnerState::Queued
    }
}

/// The state `expanse status` shows: with a run `live`, what it last recorded; between runs,
/// where a run would start, except that a PART left mid-run (paused, failed, rejected for a
/// rewrite) shows where it stopped. A step nobody is doing (a run killed, or one whose last
/// words a full disk lost) is not shown as under way: the next run resumes it from its queue.
pub fn resting_state(
    done: bool,
    status: Option<&PartStatus>,
    has_draft: bool,
    live: bool,
) -> RunnerState {
    let start = initial_state(done, status, has_draft, false);
    match (start, status.and_then(|s| s.state)) {
        (RunnerState::Queued, Some(recorded)) if live => recorded,
        (RunnerState::Queued, Some(RunnerState::Paused)) => RunnerState::Paused,
        (RunnerState::Queued, Some(recorded)) if recorded.is_active() => RunnerState::Queued,
        (RunnerState::Queued, Some(recorded)) => recorded,
        _ => start,
    }
}

/// What a plan edit does to a PART in `current` whose checkbox is now `done`, given what the
/// journal says of it now (`journal`): a PART another command approved is approved (the tick is
/// that approval's); one ticked by hand that is not running becomes done. None: nothing changes.
pub fn after_plan_edit(
    current: RunnerState,
    done: bool,
    journal: Option<RunnerState>,
) -> Option<(RunnerState, &'static str)> {
    if journal == Some(RunnerState::Approved) && current != RunnerState::Approved {
        return Some((RunnerState::Approved, "approved from another command"));
    }
    (done && !current.is_active() && !matches!(current, RunnerState::Done | RunnerState::Approved))
        .then_some((RunnerState::Done, "ticked in the plan by hand"))
}

/// The state a PART in `current` moves to when `incoming` is reported (None: it stays): every
/// report moves it, except that an approved PART leaves `approved` only by a new start (`queued`)
/// or an undo (its own transition, [`PartStatus::undone`]) — never by a runner's `writing` or
/// `review` still on its way when it was approved (a CLI approval during a live run).
pub fn after_report(current: Option<RunnerState>, incoming: RunnerState) -> Option<RunnerState> {
    let stale = current == Some(RunnerState::Approved)
        && !matches!(incoming, RunnerState::Queued | RunnerState::Approved);
    (!stale).then_some(incoming)
}

/// The state a part of the plan starts in for a front end before any event arrives.
pub fn planned_state(part: &Part) -> RunnerState {
    initial_state(part.done, None, false, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: RunnerState) -> PartStatus {
        PartStatus {
            state: Some(state),
            ..PartStatus::default()
        }
    }

    #[test]
    fn a_runner_is_asked_again_with_a_regeneration_else_a_requeued_rejection() {
        let mut s = PartStatus {
            rejection: Some(Rejection {
                reason: Some("thin".into()),
                requeue: true,
            }),
            ..PartStatus::default()
        };
        assert_eq!(s.asked_again(), (Some("thin".into()), None));
        s.regenerate = Some(Rewrite {
            section: Some(2),
            reason: "cite it".into(),
        });
        assert_eq!(s.asked_again(), (Some("cite it".into()), Some(2)));
        s.regenerate = None;
        s.rejection = Some(Rejection {
            reason: Some("off topic".into()),
            requeue: false,
        });
        assert_eq!(s.asked_again(), (None, None), "a skip asks nothing again");
    }

    #[test]
    fn a_budget_pause_is_known_by_its_cause_until_the_next_change() {
        use RunnerState::*;
        let mut s = status(Writing);
        s.reported(Paused, Some("budget reached".into()), Some(Cause::Budget));
        assert!(s.budget_paused);
        s.reported(Paused, Some("budget reached, the words".into()), None);
        assert!(!s.budget_paused, "a person's pause is not the budget's");
        s.reported(Paused, Some("cap".into()), Some(Cause::Budget));
        s.reported(Queued, Some("resumed".into()), None);
        assert!(!s.budget_paused);
        s.reported(Paused, Some("cap".into()), Some(Cause::Budget));
        s.drafted(10, 1);
        assert!(!s.budget_paused, "every change of state forgets the cause");
    }

    #[test]
    fn late_runner_reports_do_not_undo_an_approval() {
        use RunnerState::*;
        assert_eq!(after_report(Some(Approved), Writing), None);
        assert_eq!(after_report(Some(Approved), Review), None);
        assert_eq!(
            after_report(Some(Approved), Queued),
            Some(Queued),
            "a redo starts again"
        );
        assert_eq!(after_report(Some(Review), Writing), Some(Writing));
        let mut s = status(Approved);
        s.reported(Review, Some("draft ready".into()), None);
        assert_eq!((s.state, s.message), (Some(Approved), None));
        let mut s = status(Approved);
        s.undone();
        assert_eq!(s.state, Some(Review), "an undo is its own transition");
    }

    #[test]
    fn where_a_part_starts() {
        use RunnerState::*;
        assert_eq!(initial_state(false, None, false, false), Queued);
        assert_eq!(initial_state(true, None, false, false), Done);
        assert_eq!(initial_state(true, None, false, true), Queued);
        assert_eq!(
            initial_state(true, Some(&status(Approved)), false, false),
            Approved
        );
        assert_eq!(
            initial_state(true, Some(&status(Approved)), false, true),
            Queued
        );
        assert_eq!(
            initial_state(false, Some(&status(Review)), true, true),
            Review
        );
        assert_eq!(
            initial_state(false, Some(&status(Review)), false, false),
            Queued,
            "a review without its draft file is written again"
        );
        assert_eq!(
            initial_state(false, None, true, false),
            Review,
            "a draft the journal lost is kept, not overwritten"
        );
        assert_eq!(
            initial_state(false, Some(&status(Writing)), true, false),
            Review
        );
        let rejected = PartStatus {
            state: Some(Rejected),
            rejection: Some(Rejection {
                reason: Some("thin".into()),
                requeue: true,
            }),
            ..PartStatus::default()
        };
        assert_eq!(initial_state(false, Some(&rejected), true, false), Queued);
        assert_eq!(
            initial_state(false, Some(&status(Skipped)), false, false),
            Skipped
        );
        assert_eq!(
            resting_state(false, Some(&status(Paused)), false, false),
            Paused
        );
        assert_eq!(
            resting_state(true, Some(&status(Paused)), false, false),
            Done
        );
        // Between runs a step nobody is doing is not shown as under way; in a live run it is.
        assert_eq!(
            resting_state(false, Some(&status(Scraping)), false, false),
            Queued
        );
        assert_eq!(
            resting_state(false, Some(&status(Scraping)), false, true),
            Scraping
        );
        assert_eq!(
            resting_state(false, Some(&status(Failed)), false, false),
            Failed
        );
    }

    #[test]
    fn a_tick_by_hand_marks_only_idle_parts_done() {
        use RunnerState::*;
        let by_hand = Some((Done, "ticked in the plan by hand"));
        assert_eq!(after_plan_edit(Queued, true, None), by_hand);
        assert_eq!(after_plan_edit(Review, true, Some(Review)), by_hand);
        assert_eq!(after_plan_edit(Writing, true, None), None);
        assert_eq!(after_plan_edit(Approved, true, None), None);
        assert_eq!(after_plan_edit(Queued, false, None), None);
        // The CLI approved it while the run showed it in review: an approval, not a hand tick.
        assert_eq!(
            after_plan_edit(Review, true, Some(Approved)),
            Some((Approved, "approved from another command"))
        );
        assert_eq!(after_plan_edit(Approved, true, Some(Approved)), None);
    }

    #[test]
    fn usage_adds_and_keeps_the_estimate_mark() {
        let mut u = Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            estimated: false,
        };
        u.add(Usage {
            prompt_tokens: 1,
            completion_tokens: 2,
            estimated: true,
        });
        assert_eq!((u.total(), u.estimated), (18, true));
    }

    #[test]
    fn a_tally_counts_states_in_their_own_order() {
        use RunnerState::*;
        assert_eq!(
            tally([Review, Approved, Review, Searching]),
            "1 searching, 2 review, 1 approved"
        );
        assert_eq!(tally([]), "");
    }
}
