//! A word when a person is needed: which events call for one (a draft to review, a failure, a
//! budget reached, the run finished), the JSON line `[notify] command` receives on stdin, and the
//! terminal's bell and desktop-notification escapes. Running the command never blocks the run.

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::runner::{Cause, Event, What};
use crate::state::RunnerState;

/// How long a notify command may run before it is killed.
pub const COMMAND_DEADLINE: Duration = Duration::from_secs(10);

/// Why a person is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A draft awaits review.
    Review,
    /// A PART failed.
    Failed,
    /// The budget stopped a PART.
    Budget,
    /// The run finished.
    Finished,
}

/// One notification, as the command receives it (one JSON line).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    /// Why.
    pub kind: Kind,
    /// The plan, as the run was given it.
    pub plan: String,
    /// The PART, when it is about one.
    pub part: Option<u32>,
    /// The PART's title (its target), when it is about one.
    pub title: Option<String>,
    /// What happened, in words.
    pub message: String,
}

impl Notice {
    /// The notice `event` calls for, if it needs a person ([`need`]); `titles` gives each PART's
    /// target.
    pub fn of(
        event: &Event,
        plan: &str,
        titles: &std::collections::BTreeMap<u32, String>,
    ) -> Option<Notice> {
        Some(Notice {
            kind: need(event)?,
            plan: plan.to_string(),
            part: event.part,
            title: event.part.and_then(|n| titles.get(&n).cloned()),
            message: event.message.clone(),
        })
    }

    /// The line a terminal shows: "expanse: PART 3 awaits review (…)".
    pub fn headline(&self) -> String {
        let what = match self.kind {
            Kind::Review => "a draft awaits review",
            Kind::Failed => "a PART failed",
            Kind::Budget => "the budget stopped a PART",
            Kind::Finished => "the run finished",
        };
        match (self.part, &self.title) {
            (Some(n), Some(t)) => format!("expanse: PART {n} ({t}): {what}"),
            (Some(n), None) => format!("expanse: PART {n}: {what}"),
            _ => format!("expanse: {what}: {}", self.message),
        }
    }
}

/// Whether `event` calls for a person, and why. Only what happens in this run counts: a draft an
/// earlier run left is announced by a state event, not a draft event, and rings nothing.
pub fn need(event: &Event) -> Option<Kind> {
    match event.what {
        What::Draft { .. } => Some(Kind::Review),
        What::State {
            state: RunnerState::Failed,
            ..
        } => Some(Kind::Failed),
        What::State {
            cause: Some(Cause::Budget),
            ..
        } => Some(Kind::Budget),
        What::Settled => Some(Kind::Finished),
        _ => None,
    }
}

/// The bytes that ring the bell and ask the terminal for a desktop notification: BEL, OSC 9
/// (iTerm2, WezTerm, Windows Terminal, kitty) and OSC 777 (foot, urxvt, VTE terminals). Control
/// characters of the text are dropped, so a title cannot end the escape early.
pub fn terminal_bytes(notice: &Notice) -> Vec<u8> {
    let text: String = notice
        .headline()
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let text = text.replace(';', ",");
    format!("\x07\x1b]9;{text}\x07\x1b]777;notify;expanse;{text}\x07").into_bytes()
}

/// At most one terminal notification per this long: sixteen drafts arriving together ring once.
pub const TERMINAL_GAP: Duration = Duration::from_secs(2);

/// Runs `[notify] command` for each notice, each in a thread of its own so a slow or hanging
/// command never holds the run; one past [`COMMAND_DEADLINE`] is killed and logged.
#[derive(Debug, Default)]
pub struct Notifier {
    command: Option<String>,
    pending: Vec<std::thread::JoinHandle<()>>,
    last_terminal: Option<Instant>,
}

impl Notifier {
    /// A notifier running `command` (None: none).
    pub fn new(command: Option<String>) -> Notifier {
        Notifier {
            command: command.filter(|c| !c.trim().is_empty()),
            ..Notifier::default()
        }
    }

    /// Run the command for `notice`, if one is set.
    pub fn send(&mut self, notice: &Notice) {
        let Some(command) = self.command.clone() else {
            return;
        };
        let line = match serde_json::to_string(notice) {
            Ok(l) => l + "\n",
            Err(_) => return,
        };
        self.pending.retain(|h| !h.is_finished());
        self.pending
            .push(std::thread::spawn(move || run_command(&command, &line)));
    }

    /// Whether a terminal notification may ring now (none in the last [`TERMINAL_GAP`]).
    pub fn terminal_due(&mut self, now: Instant) -> bool {
        if self
            .last_terminal
            .is_some_and(|t| now.duration_since(t) < TERMINAL_GAP)
        {
            return false;
        }
        self.last_terminal = Some(now);
        true
    }

    /// Wait up to `limit` for the commands still running (a run about to exit lets the last
    /// notice reach its command).
    pub fn finish(self, limit: Duration) {
        let until = Instant::now() + limit;
        for h in self.pending {
            while !h.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

fn run_command(command: &str, line: &str) {
    let child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("notify command could not start: {e}");
            return;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is not an error.
        let _ = stdin.write_all(line.as_bytes());
    }
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return,
            Ok(Some(status)) => {
                tracing::warn!("notify command ended with {status}");
                return;
            }
            Ok(None) if started.elapsed() >= COMMAND_DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                tracing::warn!(
                    "notify command still running after {} s: stopped",
                    COMMAND_DEADLINE.as_secs()
                );
                return;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                tracing::warn!("notify command: {e}");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_drafts_failures_and_budget_stops_call_for_a_person_earlier_drafts_do_not() {
        assert_eq!(
            need(&Event::draft(3, 10, 2, "draft ready")),
            Some(Kind::Review)
        );
        assert_eq!(
            need(&Event::state(
                3,
                RunnerState::Review,
                "a draft from an earlier run awaits review"
            )),
            None
        );
        assert_eq!(
            need(&Event::state(3, RunnerState::Failed, "boom")),
            Some(Kind::Failed)
        );
        assert_eq!(
            need(&Event::budget_paused(3, "budget reached: 10 of 10 tokens")),
            Some(Kind::Budget)
        );
        // The words alone are not the budget.
        assert_eq!(
            need(&Event::state(
                3,
                RunnerState::Paused,
                "budget reached: 10 of 10 tokens"
            )),
            None
        );
        assert_eq!(need(&Event::state(3, RunnerState::Paused, "paused")), None);
    }

    #[test]
    fn the_terminal_escape_cannot_be_ended_by_a_title_and_rings_once_a_gap() {
        let n = Notice {
            kind: Kind::Review,
            plan: "plans/p.md".into(),
            part: Some(2),
            title: Some("a\x07b\x1b]0;x".into()),
            message: String::new(),
        };
        let bytes = String::from_utf8(terminal_bytes(&n)).unwrap();
        assert!(
            bytes.starts_with("\x07\x1b]9;expanse: PART 2 (ab]0,x): a draft awaits review\x07")
        );
        assert_eq!(bytes.matches('\x07').count(), 3);
        let mut notifier = Notifier::new(None);
        let t = Instant::now();
        assert!(notifier.terminal_due(t));
        assert!(!notifier.terminal_due(t + Duration::from_millis(500)));
        assert!(notifier.terminal_due(t + TERMINAL_GAP));
    }
}
