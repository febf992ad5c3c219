//! The supervisor's IO for a person's decisions: review operations (approve, reject, undo,
//! regenerate) run off the async threads, and notes handed to running PARTs.

use super::machine::{Answer, Decision, Input};
use super::*;
use crate::review::{AutoApproval, Review, ReviewError};
use crate::runner::event::{Level, Refusal};

impl Supervisor {
    fn review(&self) -> Review {
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

    /// Carry out `decision` off the async threads; its answer, or why it was refused (the review
    /// said no, or its task died), for the machine. Decisions run one at a time here, so two
    /// approvals never tick the plan at once.
    pub(super) async fn carry_out(&mut self, decision: Decision) -> Input {
        let review = self.review();
        let d = decision.clone();
        let work = move || -> Result<Answer, ReviewError> {
            let now = chrono::Local::now();
            Ok(match d {
                Decision::Approve {
                    n,
                    only_if_clean: true,
                    ..
                } => match review.approve_if_clean(n, now)? {
                    AutoApproval::Approved(a) => Answer::Approved(a),
                    AutoApproval::NotClean(reasons) => Answer::NotClean(reasons),
                },
                Decision::Approve { n, seen, hunks, .. } => {
                    Answer::Approved(review.approve_hunks(n, now, seen, hunks.as_ref())?)
                }
                Decision::Reject { n, reason, requeue } => {
                    review.reject(n, reason.as_deref(), requeue)?;
                    Answer::Done
                }
                Decision::Undo(n) => Answer::Undone(review.undo(n)?.describe("the plan")),
                Decision::Regenerate { n, section, reason } => {
                    review.regenerate(n, section, &reason)?;
                    Answer::Done
                }
            })
        };
        let answer = match tokio::task::spawn_blocking(work).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => {
                let refusal = match e {
                    ReviewError::Conflict { .. } => Refusal::Conflict,
                    _ => Refusal::Failed,
                };
                Answer::Refused(refusal, format!("{}: {e}", decision.refused_words(false)))
            }
            Err(e) => Answer::Refused(
                Refusal::Failed,
                format!("{}: {e}", decision.refused_words(true)),
            ),
        };
        Input::Decided(decision, answer)
    }

    /// PART `n`'s notes as a runner starting now must see them: the journal's (a note given
    /// through it while the PART waited is taken here; ticks follow only working runners).
    pub(super) fn notes_now(&mut self, n: u32) -> Notes {
        let notes = self.notes.entry(n).or_default().clone();
        if let Ok(Some(status)) = self.ctx.journal.status(n)
            && let Ok(mut list) = notes.lock()
        {
            list.clone_from(&status.notes);
        }
        notes
    }

    /// A person's note to PART `n`'s runner: journalled, then read by every section that starts
    /// after it (an empty text clears the notes).
    pub(super) async fn note(&mut self, n: u32, text: String) {
        let record = Record::Noted {
            ts: crate::state::now(),
            part: n,
            text: text.clone(),
        };
        if let Err(e) = self.ctx.journal.append(&record) {
            let why = format!("the note could not be journalled, so it was not given: {e}");
            self.emit(Event::error(Some(n), why), false).await;
            return;
        }
        let notes = self.notes.entry(n).or_default().clone();
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
        self.emit(Event::log(Some(n), Level::Info, line), false)
            .await;
    }

    /// Notes another process journalled (`expanse steer` while this run is live) reach the
    /// working runners too: the journal, read from where it was last read, is the one list of
    /// notes.
    pub(super) async fn sync_notes(&mut self, working: &[u32]) {
        let mut told = Vec::new();
        for n in working {
            let Ok(status) = self.ctx.journal.status(*n) else {
                return;
            };
            let journalled = status.map(|s| s.notes).unwrap_or_default();
            let Some(notes) = self.notes.get(n) else {
                continue;
            };
            let Ok(mut notes) = notes.lock() else {
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
            self.emit(Event::log(Some(n), Level::Info, line), false)
                .await;
        }
    }
}
