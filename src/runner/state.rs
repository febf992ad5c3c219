//! The runner states of DESIGN.md and which of them are active or final.

use serde::{Deserialize, Serialize};

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

impl std::fmt::Display for RunnerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
