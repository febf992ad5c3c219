//! A person's holds on runners (pause, resume) and the run's own watch over them: runners
//! without progress reported stalled, and the word that every PART has settled.

use super::*;

impl Supervisor {
    /// Pause at once: the card says so now; the runner drops what it has in flight.
    pub(super) async fn pause(&mut self, target: Target) {
        let mut paused = Vec::new();
        for (n, slot) in self.slots.iter_mut() {
            let running = slot.state.is_active() || slot.state == RunnerState::Queued;
            if !target.includes(*n) || slot.state == RunnerState::Paused || !running {
                continue;
            }
            let waiting = self.waiting.iter().any(|w| w.n == *n);
            if let Some(p) = &slot.pause {
                let _ = p.send(true);
                slot.before_pause = Some(match slot.state {
                    RunnerState::Stalled => slot.before_stall.unwrap_or(RunnerState::Queued),
                    s => s,
                });
                paused.push(*n);
            } else if waiting {
                // Not started yet: it simply is not started until resumed.
                slot.before_pause = Some(RunnerState::Queued);
                paused.push(*n);
            }
        }
        for n in paused {
            self.forward(Event::state(n, RunnerState::Paused, "paused by you"))
                .await;
        }
    }

    /// Resume where each runner stopped; a PART the budget paused starts again (and pauses again
    /// at once if the budget is still reached).
    pub(super) async fn resume(&mut self, target: Target) {
        let mut resumed = Vec::new();
        let mut restart = Vec::new();
        for (n, slot) in self.slots.iter_mut() {
            if !target.includes(*n) || slot.state != RunnerState::Paused {
                continue;
            }
            if slot.budget_paused.is_some() && slot.cancel.is_none() {
                restart.push(*n);
            } else if slot.pause.is_none() && self.waiting.iter().any(|w| w.n == *n) {
                resumed.push((*n, slot.before_pause.take().unwrap_or(RunnerState::Queued)));
            } else if let Some(p) = &slot.pause {
                let _ = p.send(false);
                slot.last_progress = Instant::now();
                resumed.push((*n, slot.before_pause.take().unwrap_or(RunnerState::Queued)));
            }
        }
        for (n, state) in resumed {
            self.forward(Event::state(n, state, "resumed")).await;
        }
        for n in restart {
            // A budget-paused PART resumes with what it was asked for when it started: a
            // regeneration's reason and section, or a requeued rejection's reason (that one was
            // dropped here, so the sections left were written without it).
            let status = self.ctx.journal.status(n).ok().flatten();
            let (feedback, only) = status.map_or((None, None), |s| s.asked_again());
            self.restart(n, feedback, only, "resumed").await;
        }
    }

    /// Once every PART has settled after work (approvals by --approve-all done too), say so
    /// once: the run's "finished", for notices and attached terminals.
    pub(super) async fn say_settled(&mut self, settled: bool) {
        if !settled {
            self.unsettled = true;
            return;
        }
        if !self.unsettled {
            return;
        }
        self.unsettled = false;
        let mut counts: BTreeMap<RunnerState, usize> = BTreeMap::new();
        for slot in self.slots.values() {
            *counts.entry(slot.state).or_default() += 1;
        }
        let list: Vec<String> = counts.iter().map(|(s, n)| format!("{n} {s}")).collect();
        self.forward(Event {
            cause: Some(Cause::Settled),
            ..Event::log(
                None,
                Level::Info,
                format!("every PART has settled: {}", list.join(", ")),
            )
        })
        .await;
    }

    pub(super) async fn check_stalls(&mut self) {
        let watched = self.slots.iter().map(|(n, s)| stalls::Watched {
            part: *n,
            state: s.state,
            running: s.pause.as_ref().is_some_and(|p| !*p.borrow()),
            last_progress: s.last_progress,
        });
        let stalled = stalls::stalled(watched, Instant::now(), self.options.stall_after);
        for (n, prev, secs) in stalled {
            if let Some(slot) = self.slots.get_mut(&n) {
                slot.before_stall = Some(prev);
            }
            self.forward(Event::state(
                n,
                RunnerState::Stalled,
                format!("no progress for {secs} s while {prev}"),
            ))
            .await;
        }
    }
}
