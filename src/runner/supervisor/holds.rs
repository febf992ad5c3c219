//! A person's holds on runners (pause, resume) and the run's own watch over them: runners
//! without progress reported stalled, and the word that every PART has settled.

use super::*;

impl Supervisor {
    /// What a pause or resume needs to know of PART `n`.
    pub(super) fn held(&self, n: u32, slot: &Slot) -> reactions::Held {
        reactions::Held {
            state: slot.state,
            before_stall: slot.before_stall,
            before_pause: slot.before_pause,
            has_runner: slot.pause.is_some(),
            waiting: self.waiting.iter().any(|w| w.n == n),
            budget_paused: slot.budget_paused.is_some(),
        }
    }

    /// Pause at once: the card says so now; the runner drops what it has in flight.
    pub(super) async fn pause(&mut self, target: Target) {
        let decided: Vec<(u32, RunnerState)> = self
            .slots
            .iter()
            .filter(|(n, _)| target.includes(**n))
            .filter_map(|(n, slot)| reactions::pause(self.held(*n, slot)).map(|step| (*n, step)))
            .collect();
        for &(n, step) in &decided {
            if let Some(slot) = self.slots.get_mut(&n) {
                if let Some(p) = &slot.pause {
                    let _ = p.send(true);
                }
                slot.before_pause = Some(step);
            }
        }
        for (n, _) in decided {
            self.forward(Event::state(n, RunnerState::Paused, "paused by you"))
                .await;
        }
    }

    /// Resume where each runner stopped; a PART the budget paused starts again (and pauses again
    /// at once if the budget is still reached).
    pub(super) async fn resume(&mut self, target: Target) {
        let decided: Vec<(u32, reactions::Resume)> = self
            .slots
            .iter()
            .filter(|(n, _)| target.includes(**n))
            .map(|(n, slot)| (*n, reactions::resume(self.held(*n, slot))))
            .collect();
        let mut restart = Vec::new();
        for (n, what) in decided {
            match what {
                reactions::Resume::Leave => {}
                reactions::Resume::Restart => restart.push(n),
                reactions::Resume::GoOn(step) => {
                    if let Some(slot) = self.slots.get_mut(&n) {
                        if let Some(p) = &slot.pause {
                            let _ = p.send(false);
                            slot.last_progress = Instant::now();
                        }
                        slot.before_pause = None;
                    }
                    self.forward(Event::state(n, step, "resumed")).await;
                }
            }
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
        let list = crate::state::tally(self.slots.values().map(|s| s.state));
        self.forward(Event {
            cause: Some(Cause::Settled),
            ..Event::log(None, Level::Info, format!("every PART has settled: {list}"))
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
