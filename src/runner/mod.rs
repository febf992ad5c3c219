//! Runners (one per PART), their decisions, and the supervisor that drives them.

mod driver;
mod event;
mod machine;
mod state;
mod supervisor;

pub use driver::{Outcome, RunnerCtx, run_part};
pub use event::{Command, Event, EventKind, Level, Target, now};
pub use machine::{Action, PlannedSearch, Progress, next_action, plan_fetches, planned_searches};
pub use state::RunnerState;
pub use supervisor::{RunContext, RunOptions, Summary, initial_state, spawn};
