//! The supervisor's machine, driven input by input on synthetic instants.

use std::time::Duration;

use super::*;
use crate::runner::{Refusal, What};

fn setup(jobs: usize) -> Setup {
    Setup {
        jobs,
        stall_after: Duration::from_secs(60),
        approve_all: false,
        only: None,
        redo: false,
        exit_when_settled: true,
    }
}

fn part(n: u32) -> Part {
    Part {
        number: n,
        target: format!("topic/0{n}-part.md"),
        ..Part::default()
    }
}

/// A machine with PARTs `parts`, none with a draft, and the effects of beginning.
fn begun(setup: Setup, parts: &[u32], t0: Instant) -> (Machine, Vec<Effect>) {
    let mut m = Machine::new(setup);
    for &n in parts {
        m.seed(&part(n), None, DraftFile::Absent, BTreeMap::new(), t0);
    }
    let effects = m.handle(Input::Begin, t0);
    (m, effects)
}

/// The states the effects say, in order, with their words.
fn said(effects: &[Effect]) -> Vec<(u32, RunnerState, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Emit { event, .. } => event
                .state_now()
                .zip(event.part)
                .map(|(s, n)| (n, s, event.message.clone())),
            _ => None,
        })
        .collect()
}

fn spawned(effects: &[Effect]) -> Vec<u32> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Spawn(s) => Some(s.n),
            _ => None,
        })
        .collect()
}

fn settled_said(effects: &[Effect]) -> Option<String> {
    effects.iter().find_map(|e| match e {
        Effect::Emit { event, .. } if event.what == What::Settled => Some(event.message.clone()),
        _ => None,
    })
}

#[test]
fn at_most_jobs_runners_start_and_a_paused_one_gives_up_its_task() {
    let t0 = Instant::now();
    let (mut m, begin) = begun(setup(2), &[1, 2, 3, 4, 5], t0);
    assert_eq!(spawned(&begin), vec![1, 2]);
    let paused = m.handle(Input::Command(Command::Pause(Target::Part(1))), t0);
    assert_eq!(paused[0], Effect::Hold(1, true));
    assert_eq!(said(&paused)[0].1, RunnerState::Paused);
    assert_eq!(spawned(&paused), vec![3], "a held runner does not count");
    assert_eq!(
        m.handle(Input::Tick, t0),
        vec![Effect::SyncNotes(vec![2, 3])],
        "only runners at work catch up on notes"
    );
    let ended = m.handle(Input::Ended(2, Outcome::Review), t0);
    assert_eq!(
        spawned(&ended),
        vec![4],
        "an ended runner's task goes to the next"
    );
    let retried = m.handle(Input::Command(Command::Retry(5)), t0);
    assert!(spawned(&retried).is_empty(), "PART 5 waits for a task");
    assert_eq!(said(&retried), vec![], "a queued PART is not queued twice");
    let resumed = m.handle(Input::Command(Command::Resume(Target::Part(1))), t0);
    assert_eq!(resumed[0], Effect::Hold(1, false));
    assert_eq!(
        said(&resumed),
        vec![(1, RunnerState::Queued, "resumed".into())],
        "no step reported yet: it returns to where it started"
    );
}

#[test]
fn a_quiet_runner_is_stalled_once_and_progress_ends_the_stall() {
    let t0 = Instant::now();
    let (mut m, _) = begun(setup(1), &[1], t0);
    let searching = Event::state(1, RunnerState::Searching, "");
    m.handle(Input::Report(searching), t0);
    let early = m.handle(Input::Tick, t0 + Duration::from_secs(30));
    assert!(said(&early).is_empty());
    assert_eq!(early, vec![Effect::SyncNotes(vec![1])]);
    let late = m.handle(Input::Tick, t0 + Duration::from_secs(61));
    assert_eq!(
        said(&late),
        vec![(
            1,
            RunnerState::Stalled,
            "no progress for 61 s while searching".into()
        )]
    );
    assert!(
        matches!(late[0], Effect::Emit { journal: false, .. }),
        "a stall is not journalled"
    );
    let again = m.handle(Input::Tick, t0 + Duration::from_secs(90));
    assert!(said(&again).is_empty(), "said once");
    let log = Event::log(Some(1), Level::Info, "search → 3 hits");
    let back = m.handle(Input::Report(log), t0 + Duration::from_secs(91));
    assert_eq!(
        said(&back),
        vec![(1, RunnerState::Searching, "progress again".into())]
    );
}

#[test]
fn a_requeued_rejection_is_written_again_with_the_reason_once_the_review_answers() {
    let t0 = Instant::now();
    let mut m = Machine::new(setup(1));
    let seeded = m.seed(&part(1), None, DraftFile::Present, BTreeMap::new(), t0);
    assert_eq!(said(&seeded)[0].1, RunnerState::Review);
    m.handle(Input::Begin, t0);
    let reject = Command::Reject {
        part: 1,
        reason: Some("thin".into()),
        requeue: true,
    };
    let asked = m.handle(Input::Command(reject), t0);
    let Some(decision) = decision(asked.first()) else {
        panic!("the rejection is carried out first: {asked:?}");
    };
    assert!(said(&asked).is_empty(), "nothing changes before the answer");
    let answered = m.handle(Input::Decided(decision, Answer::Done), t0);
    assert_eq!(
        said(&answered)
            .iter()
            .map(|(_, s, _)| *s)
            .collect::<Vec<_>>(),
        vec![RunnerState::Rejected, RunnerState::Queued]
    );
    let starts: Vec<&Start> = answered
        .iter()
        .filter_map(|e| match e {
            Effect::Spawn(s) => Some(s),
            _ => None,
        })
        .collect();
    assert_eq!(
        starts[0].asked,
        Asked::Given {
            feedback: Some("thin".into()),
            only_section: None
        }
    );
}

/// The decision a review effect carries out.
fn decision(e: Option<&Effect>) -> Option<Decision> {
    match e {
        Some(Effect::Review(d)) => Some(d.clone()),
        _ => None,
    }
}

#[test]
fn a_refused_approval_says_why_and_leaves_the_part_in_review() {
    let t0 = Instant::now();
    let mut m = Machine::new(setup(1));
    m.seed(&part(1), None, DraftFile::Present, BTreeMap::new(), t0);
    m.handle(Input::Begin, t0);
    let approve = Command::Approve {
        part: 1,
        seen: Seen::Unattended,
        hunks: None,
    };
    let Some(Effect::Review(decision)) = m.handle(Input::Command(approve), t0).pop() else {
        panic!("an approval is carried out");
    };
    let why = format!("{}: the file changed", decision.refused_words(false));
    let refused = m.handle(
        Input::Decided(decision, Answer::Refused(Refusal::Conflict, why.clone())),
        t0,
    );
    let Effect::Emit { event, .. } = &refused[0] else {
        panic!("{refused:?}");
    };
    assert_eq!(
        event.what,
        What::Error {
            refusal: Some(Refusal::Conflict)
        }
    );
    assert_eq!(event.message, why);
    assert_eq!(m.states()[&1], RunnerState::Review);
    assert!(settled_said(&refused).is_none(), "nothing worked");
}

#[test]
fn the_run_says_it_settled_once_after_work_and_waits_for_an_approval_under_way() {
    let t0 = Instant::now();
    let (mut m, _) = begun(
        Setup {
            approve_all: true,
            ..setup(1)
        },
        &[1],
        t0,
    );
    let draft = m.handle(Input::Report(Event::draft(1, 40, 3, "draft ready")), t0);
    let Some(decision) = decision(draft.last()) else {
        panic!("--approve-all approves the draft as it arrives: {draft:?}");
    };
    let ended = m.handle(Input::Ended(1, Outcome::Review), t0);
    assert!(settled_said(&ended).is_none(), "the approval is under way");
    assert!(!m.settled());
    let approved = Approved {
        file: "topic/01-part.md".into(),
        drop: Some("drops/KNOWLEDGE-DROP-1.md".into()),
        ticked: true,
        unchanged: false,
    };
    let done = m.handle(Input::Decided(decision, Answer::Approved(approved)), t0);
    assert_eq!(
        said(&done),
        vec![(
            1,
            RunnerState::Approved,
            "checklist clean (--approve-all)".into()
        )]
    );
    assert_eq!(
        settled_said(&done).as_deref(),
        Some("every PART has settled: 1 approved")
    );
    assert!(m.settled());
    let later = m.handle(Input::Command(Command::StayWhenSettled), t0);
    assert!(settled_said(&later).is_none(), "said once");
}

#[test]
fn a_run_with_nothing_to_do_says_nothing_and_a_damaged_draft_waits() {
    let t0 = Instant::now();
    let mut m = Machine::new(setup(4));
    let done = Part {
        done: true,
        ..part(1)
    };
    m.seed(&done, None, DraftFile::Absent, BTreeMap::new(), t0);
    let damaged = m.seed(
        &part(2),
        None,
        DraftFile::Unreadable("not UTF-8".into()),
        BTreeMap::new(),
        t0,
    );
    let begin = m.handle(Input::Begin, t0);
    assert!(spawned(&begin).is_empty());
    assert!(settled_said(&begin).is_none());
    assert!(m.settled());
    let (n, state, why) = &said(&damaged)[0];
    assert_eq!((*n, *state), (2, RunnerState::Failed));
    assert!(why.starts_with("not UTF-8; move the file away"), "{why}");
}

#[test]
fn cancel_stops_running_runners_and_skips_waiting_ones() {
    let t0 = Instant::now();
    let (mut m, begin) = begun(setup(1), &[1, 2], t0);
    assert_eq!(spawned(&begin), vec![1]);
    let cancelled = m.handle(Input::Command(Command::Cancel(Target::All)), t0);
    assert_eq!(cancelled[0], Effect::Cancel(1));
    assert_eq!(
        said(&cancelled),
        vec![(2, RunnerState::Skipped, "cancelled".into())]
    );
    let ended = m.handle(Input::Ended(1, Outcome::Cancelled), t0);
    assert_eq!(said(&ended)[0].1, RunnerState::Skipped);
    assert!(m.settled());
}

#[test]
fn a_plan_edit_adds_parts_within_only_and_marks_a_hand_tick() {
    let t0 = Instant::now();
    let mut m = Machine::new(Setup {
        only: Some(BTreeSet::from([1, 2])),
        ..setup(4)
    });
    m.seed(&part(1), None, DraftFile::Present, BTreeMap::new(), t0);
    m.handle(Input::Begin, t0);
    let plan = Plan {
        parts: vec![
            Part {
                done: true,
                ..part(1)
            },
            part(2),
            part(3),
        ],
        ..Plan::default()
    };
    let edited = m.handle(
        Input::PlanEdited {
            plan,
            recorded: BTreeMap::new(),
        },
        t0,
    );
    let adopted: Vec<u32> = edited
        .iter()
        .filter_map(|e| match e {
            Effect::Adopt(p) => Some(p.number),
            _ => None,
        })
        .collect();
    assert_eq!(adopted, vec![2], "PART 3 is outside --only");
    assert_eq!(
        said(&edited),
        vec![
            (1, RunnerState::Done, "ticked in the plan by hand".into()),
            (2, RunnerState::Queued, "added to the plan".into()),
        ]
    );
    assert_eq!(spawned(&edited), vec![2]);
}

#[test]
fn a_part_the_budget_paused_is_settled_and_a_resume_starts_it_with_what_it_was_asked() {
    let t0 = Instant::now();
    let (mut m, _) = begun(setup(1), &[1], t0);
    let ended = m.handle(
        Input::Ended(1, Outcome::BudgetPaused("cap reached".into())),
        t0,
    );
    let paused = said(&ended);
    assert_eq!(paused[0].1, RunnerState::Paused);
    assert!(m.settled(), "nothing happens without more budget");
    assert_eq!(m.budget_paused()[&1], "cap reached");
    let resumed = m.handle(Input::Command(Command::Resume(Target::All)), t0);
    assert_eq!(
        said(&resumed),
        vec![(1, RunnerState::Queued, "resumed".into())]
    );
    let Some(Effect::Spawn(start)) = resumed.iter().find(|e| matches!(e, Effect::Spawn(_))) else {
        panic!("{resumed:?}");
    };
    assert_eq!(start.asked, Asked::Journal);
    assert!(m.budget_paused().is_empty());
}
