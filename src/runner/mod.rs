//! Runners (one per PART), their decisions, and the supervisor that drives them.

pub mod budget;
mod driver;
pub mod estimate;
mod event;
pub mod live;
mod machine;
mod plan_watch;
mod supervisor;

pub use crate::review::Seen;
pub use crate::state::{RunnerState, now};
pub use driver::{Outcome, PAGE_DEADLINE, PAGES_AT_ONCE, RunnerCtx, run_part};
pub use event::{Cause, Command, Counts, Event, EventKind, Level, Refusal, Target, What};
pub use machine::{Action, PlannedSearch, Progress, next_action, plan_fetches, planned_searches};
pub use plan_watch::{on_plan_change, watch_plan};
pub use supervisor::{COMMANDS_WAITING, RunContext, RunOptions, Summary, spawn, spawn_on};
