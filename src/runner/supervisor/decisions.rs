//! The supervisor's answers to a person's decisions: approve, reject, undo and regenerate a
//! draft, and notes to a running PART.

use super::*;

impl Supervisor {
    pub(super) fn review(&self) -> Review {
        let review = Review::new(
            self.ctx.workspace.clone(),
            self.ctx.plan_path.clone(),
            self.ctx.journal.clone(),
        );
        match &self.options.second_opinion {
            Some(o) => review.with_second_opinion(o.0.clone()),
            None => review,
        }
    }

    /// Approve a draft (only when its checklist is clean, for `--approve-all`). Approvals run one
    /// at a time here, so two never tick the plan at once.
    pub(super) async fn approve(
        &mut self,
        n: u32,
        only_if_clean: bool,
        seen: Seen,
        hunks: Option<BTreeSet<usize>>,
    ) {
        let decided = self
            .decide(
                n,
                "approval refused, nothing was written",
                "approval failed, nothing was written",
                move |review| {
                    let now = chrono::Local::now();
                    if only_if_clean {
                        review.approve_if_clean(n, now)
                    } else {
                        review
                            .approve_hunks(n, now, seen, hunks.as_ref())
                            .map(AutoApproval::Approved)
                    }
                },
            )
            .await;
        match decided {
            Some(AutoApproval::Approved(a)) => {
                if a.unchanged {
                    self.forward(Event::log(
                        Some(n),
                        Level::Info,
                        format!(
                            "{} already holds this text: nothing new was written{}",
                            a.file,
                            if a.ticked {
                                " (the plan is ticked)"
                            } else {
                                ""
                            }
                        ),
                    ))
                    .await;
                } else {
                    self.forward(Event::written(
                        n,
                        a.file.clone(),
                        format!("wrote {}", a.file),
                    ))
                    .await;
                }
                if let Some(drop) = &a.drop {
                    self.forward(Event::written(n, drop.clone(), format!("wrote {drop}")))
                        .await;
                }
                let why = if only_if_clean {
                    "checklist clean (--approve-all)"
                } else if a.unchanged {
                    "unchanged"
                } else {
                    ""
                };
                self.forward(Event::state(n, RunnerState::Approved, why))
                    .await;
            }
            Some(AutoApproval::NotClean(reasons)) => {
                self.forward(Event::log(
                    Some(n),
                    Level::Warn,
                    format!("left for review, not clean: {}", reasons.join("; ")),
                ))
                .await;
            }
            None => {}
        }
    }

    /// Run a review operation off the async threads. When the review says no, or the task dies,
    /// the PART is told with a refused event (`refused: why` / `failed: why`) and None comes back.
    async fn decide<T: Send + 'static>(
        &mut self,
        n: u32,
        refused: &str,
        failed: &str,
        work: impl FnOnce(Review) -> Result<T, ReviewError> + Send + 'static,
    ) -> Option<T> {
        let review = self.review();
        match tokio::task::spawn_blocking(move || work(review)).await {
            Ok(Ok(v)) => Some(v),
            Ok(Err(e)) => {
                let refusal = match e {
                    ReviewError::Conflict { .. } => Refusal::Conflict,
                    _ => Refusal::Failed,
                };
                self.forward(Event::refused(n, refusal, format!("{refused}: {e}")))
                    .await;
                None
            }
            Err(e) => {
                self.forward(Event::refused(n, Refusal::Failed, format!("{failed}: {e}")))
                    .await;
                None
            }
        }
    }

    /// Reject a draft: skip the PART, or write it again with the reason.
    pub(super) async fn reject(&mut self, n: u32, reason: Option<String>, requeue: bool) {
        let r = reason.clone();
        let decided = self
            .decide(n, "rejection failed", "rejection failed", move |review| {
                review.reject(n, r.as_deref(), requeue)
            })
            .await;
        match decided {
            Some(()) if requeue => {
                self.forward(Event::state(
                    n,
                    RunnerState::Rejected,
                    format!(
                        "rejected, written again with your reason: {}",
                        reason.clone().unwrap_or_default()
                    ),
                ))
                .await;
                self.restart(
                    n,
                    reason.or(Some(String::new())),
                    None,
                    "requeued with the reviewer's reason",
                )
                .await;
            }
            Some(()) => {
                self.forward(Event::state(
                    n,
                    RunnerState::Skipped,
                    format!("rejected: {}", reason.unwrap_or_default()),
                ))
                .await
            }
            None => {}
        }
    }

    /// A person's note to PART `n`'s runner: journalled, then read by every section that starts
    /// after it (an empty text clears the notes).
    pub(super) async fn note(&mut self, n: u32, text: String) {
        let text = text.trim().to_string();
        let Some(slot) = self.slots.get(&n) else {
            self.forward(Event::log(
                Some(n),
                Level::Warn,
                format!("no PART {n} in this run: the note was not given"),
            ))
            .await;
            return;
        };
        let notes = slot.notes.clone();
        let record = Record::Noted {
            ts: crate::state::now(),
            part: n,
            text: text.clone(),
        };
        if let Err(e) = self.ctx.journal.append(&record) {
            self.forward(Event::error(
                Some(n),
                format!("the note could not be journalled, so it was not given: {e}"),
            ))
            .await;
            return;
        }
        let count = match notes.lock() {
            Ok(mut list) => {
                if text.is_empty() {
                    list.clear();
                } else {
                    list.push(text.clone());
                }
                list.len()
            }
            Err(_) => 0,
        };
        let line = if text.is_empty() {
            "notes cleared: the sections still to write get none".to_string()
        } else {
            format!("note ({count} in all), for every section not yet written: {text}")
        };
        self.forward(Event::log(Some(n), Level::Info, line)).await;
    }

    /// Notes another process journalled (`expanse steer` while this run is live) reach the
    /// runners too: the journal, read from where it was last read, is the one list of notes.
    pub(super) async fn sync_notes(&mut self) {
        let mut told = Vec::new();
        // Only runners at work take notes: one PART's status each, not every PART's.
        for (n, slot) in self.slots.iter().filter(|(_, s)| s.state.is_active()) {
            let Ok(status) = self.ctx.journal.status(*n) else {
                return;
            };
            let journalled = status.map(|s| s.notes).unwrap_or_default();
            let Ok(mut notes) = slot.notes.lock() else {
                continue;
            };
            if *notes == journalled {
                continue;
            }
            let fresh: Vec<String> = journalled
                .iter()
                .filter(|t| !notes.contains(t))
                .cloned()
                .collect();
            *notes = journalled;
            told.push((*n, fresh, notes.len()));
        }
        for (n, fresh, count) in told {
            let line = if count == 0 {
                "notes cleared (expanse steer): the sections still to write get none".to_string()
            } else {
                format!(
                    "note (expanse steer; {count} in all), for every section not yet written: {}",
                    fresh.join(" / ")
                )
            };
            self.forward(Event::log(Some(n), Level::Info, line)).await;
        }
    }

    /// Undo an approval: the PART's files go back as they were and it returns to review.
    pub(super) async fn undo(&mut self, n: u32) {
        let decided = self
            .decide(n, "undo refused", "undo failed", move |review| {
                review.undo(n)
            })
            .await;
        if let Some(u) = decided {
            self.forward(Event::log(
                Some(n),
                Level::Info,
                format!("undone: {}", u.describe("the plan")),
            ))
            .await;
            self.forward(Event::undone(n)).await;
        }
    }

    /// Write one section (or all) of a draft awaiting review again, with the reviewer's reason.
    pub(super) async fn regenerate(&mut self, n: u32, section: Option<usize>, reason: String) {
        let r = reason.clone();
        let decided = self
            .decide(n, "cannot regenerate", "cannot regenerate", move |review| {
                review.regenerate(n, section, &r)
            })
            .await;
        if decided.is_some() {
            let what = match section {
                Some(k) => format!("section {} asked for again: {reason}", k + 1),
                None => format!("every section asked for again: {reason}"),
            };
            self.forward(Event::state(n, RunnerState::Rejected, what))
                .await;
            self.restart(n, Some(reason), section, "writing again")
                .await;
        }
    }
}
