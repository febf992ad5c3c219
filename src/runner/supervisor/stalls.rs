//! When a runner counts as stalled: a plain function of what each runner is doing and the time,
//! so it is tested without a clock (the supervisor's loop only asks it on its ticker).

use std::time::Duration;

use tokio::time::Instant;

use crate::state::RunnerState;

/// What the stall check needs to know of one runner.
pub(super) struct Watched {
    /// The PART.
    pub part: u32,
    /// Its state now.
    pub state: RunnerState,
    /// Its runner is going (not held by a pause).
    pub running: bool,
    /// When it last made progress.
    pub last_progress: Instant,
}

/// The runners to report stalled at `now`: working, not paused, not stalled already, and
/// without progress for at least `limit`; each with what it was doing and for how many seconds.
pub(super) fn stalled(
    watched: impl IntoIterator<Item = Watched>,
    now: Instant,
    limit: Duration,
) -> Vec<(u32, RunnerState, u64)> {
    watched
        .into_iter()
        .filter(|w| w.state.is_working() && w.state != RunnerState::Stalled && w.running)
        .filter_map(|w| {
            let quiet = now.saturating_duration_since(w.last_progress);
            (quiet >= limit).then_some((w.part, w.state, quiet.as_secs()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_working_runner_quiet_for_the_limit_is_stalled() {
        let t0 = Instant::now();
        let limit = Duration::from_secs(60);
        let w = |part, state, running, secs_ago: u64| {
            Watched {
                part,
                state,
                running,
                last_progress: t0,
            }
            .at(secs_ago)
        };
        let now = t0 + Duration::from_secs(90);
        let got = stalled(
            [
                w(1, RunnerState::Searching, true, 0),
                w(2, RunnerState::Writing, true, 31),
                w(3, RunnerState::Scraping, false, 0),
                w(4, RunnerState::Paused, true, 0),
                w(5, RunnerState::Stalled, true, 0),
                w(6, RunnerState::Review, true, 0),
                w(7, RunnerState::Checking, true, 30),
            ],
            now,
            limit,
        );
        // 1 was quiet 90 s; 2 only 59 s; 3 is held by a pause; 4–6 are not working; 7 exactly 60.
        assert_eq!(
            got,
            [
                (1, RunnerState::Searching, 90),
                (7, RunnerState::Checking, 60)
            ]
        );
        // A clock that went backwards (or progress "after" now) is no stall.
        assert!(stalled([w(1, RunnerState::Searching, true, 0)], t0, limit).is_empty());
    }

    impl Watched {
        /// The same runner, having made progress `secs` after `last_progress`.
        fn at(mut self, secs: u64) -> Watched {
            self.last_progress += Duration::from_secs(secs);
            self
        }
    }
}
