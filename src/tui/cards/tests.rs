//! The cards: seeded from the journal, moved by the run's events.
use super::*;

fn plan() -> Plan {
    let mut s = String::from("# Demo\n\n");
    for n in 1..=3 {
        s.push_str(&format!(
            "### PART {n}: Create a/{n:02}-t.md\n\n- [ ] PART {n}: Create a/{n:02}-t.md\n\n"
        ));
    }
    Plan::parse(&s)
}

#[test]
fn a_card_s_clock_stops_while_it_is_paused_and_runs_again_on_resume() {
    let mut c = Cards::new(&plan(), None);
    c.apply(&Event::state(1, RunnerState::Writing, ""));
    assert!(c.list[0].started.is_some());
    c.apply(&Event::state(1, RunnerState::Paused, "paused by you"));
    assert!(c.list[0].started.is_none(), "a paused card's clock stops");
    c.apply(&Event::state(1, RunnerState::Writing, "resumed"));
    assert!(c.list[0].started.is_some());
    c.apply(&Event::draft(1, 30, 2, "draft ready"));
    assert!(
        c.list[0].started.is_none(),
        "a card in review waits, its clock stopped"
    );
}

#[test]
fn the_journal_leaves_each_card_in_its_state_a_budget_pause_known_by_its_cause() {
    let mut c = Cards::new(&plan(), None);
    let state = |part, state, cause| Record::State {
        ts: format!("2026-12-04T19:00:0{part}.000+00:00"),
        part,
        state,
        message: Some("budget reached".into()),
        cause,
    };
    c.seed(
        &[
            state(1, RunnerState::Paused, Some(crate::state::Cause::Budget)),
            state(2, RunnerState::Paused, None),
            state(3, RunnerState::Searching, None),
        ],
        "2026-12-04T20:00:00.000+00:00",
    );
    let card = |i: usize| &c.list[i];
    assert_eq!(card(0).state, RunnerState::Paused);
    assert!(card(0).budget_paused);
    assert_eq!(card(0).message, "budget reached");
    assert!(!card(1).budget_paused, "words are not a cause");
    assert_eq!(card(2).state, RunnerState::Searching);
    assert!(card(2).started.is_some(), "its clock runs");
}

#[test]
fn a_card_knows_a_budget_pause_by_its_cause_not_its_words() {
    let mut c = Cards::new(&plan(), None);
    c.apply(&Event::state(1, RunnerState::Writing, ""));
    c.apply(&Event::budget_paused(1, "cap of 10 tokens"));
    assert!(c.list[0].budget_paused);
    c.apply(&Event::state(1, RunnerState::Queued, "resumed"));
    assert!(!c.list[0].budget_paused);
    c.apply(&Event::state(
        1,
        RunnerState::Paused,
        "budget reached (said by a person)",
    ));
    assert!(!c.list[0].budget_paused, "words are not a cause");
}

#[test]
fn events_drive_cards_and_a_draft_is_reported() {
    let mut c = Cards::new(&plan(), None);
    c.apply(&Event::state(2, RunnerState::Searching, ""));
    let counts = crate::runner::Counts {
        step: Some([2, 5]),
        ..Default::default()
    };
    c.apply(&Event::counted(Some(2), Level::Info, "search", counts));
    assert_eq!(c.list[1].state, RunnerState::Searching);
    assert_eq!(c.list[1].step, Some([2, 5]));
    assert!(c.list[1].started.is_some());
    assert_eq!(
        c.apply(&Event::draft(2, 300, 4, "draft ready")),
        Change::DraftArrived(2)
    );
    assert_eq!(c.list[1].lines, Some(300));
    assert_eq!(c.in_review(), [2]);
    c.apply(&Event::state(3, RunnerState::Approved, "approved"));
    assert_eq!(
        c.list[2].log.get(0).unwrap().text,
        "→ approved",
        "a message repeating the state is not said twice"
    );
}

/// A run that began after every record of these tests.
const LATER: &str = "2026-12-01T00:00:00+00:00";

#[test]
fn what_the_live_run_journalled_before_the_screen_attached_is_shown_once() {
    let mut c = Cards::new(&plan(), None);
    let at = |ms: u32| format!("2026-12-04T19:18:33.{ms:03}+00:00");
    let record = |ms, state| Record::State {
        ts: at(ms),
        part: 1,
        state,
        message: None,
        cause: None,
    };
    let event = |ms, state| {
        let mut e = Event::state(1, state, "");
        e.ts = at(ms);
        e
    };
    // Queued and checking in the same millisecond; a draft the runner stamped before the
    // supervisor's pause, journalled after it.
    let records = vec![
        record(100, RunnerState::Review),
        record(913, RunnerState::Queued),
        record(913, RunnerState::Checking),
        record(920, RunnerState::Paused),
    ];
    // The run began at .900 (an hour later by the clock's offset): the review is an earlier
    // run's, the rest this run's.
    c.seed(&records, "2026-12-04T20:18:33.900+01:00");
    let texts = |c: &Cards| -> Vec<String> {
        (0..c.list[0].log.len())
            .map(|i| c.list[0].log.get(i).unwrap().text.clone())
            .collect()
    };
    assert_eq!(
        texts(&c),
        [
            "── earlier runs, from the journal ──",
            "→ review",
            "── this run, before this screen attached ──",
            "→ queued",
            "→ checking",
            "→ paused",
        ]
    );
    assert_eq!(
        c.list[0].state,
        RunnerState::Paused,
        "where the journal leaves it"
    );
    // The run's own events for those records arrive too, with the records' times: none is
    // applied again, whatever the order.
    for (ms, s) in [
        (913, RunnerState::Queued),
        (913, RunnerState::Checking),
        (920, RunnerState::Paused),
    ] {
        c.apply(&event(ms, s));
        assert_eq!(c.list[0].state, RunnerState::Paused, "no step back to {s}");
    }
    assert_eq!(
        c.list[0].log.len(),
        6,
        "nothing said twice: {:?}",
        texts(&c)
    );
    // Events the journal did not hold are applied, older times or not.
    assert_eq!(
        c.apply(&Event {
            ts: at(915),
            ..Event::draft(1, 40, 2, "draft ready")
        }),
        Change::DraftArrived(1)
    );
    assert_eq!(c.list[0].state, RunnerState::Review);
}

#[test]
fn the_journal_seeds_the_history_of_earlier_runs() {
    let mut c = Cards::new(&plan(), None);
    let ts = |s: &str| format!("2026-11-24T10:{s}+00:00");
    let records = vec![
        Record::Searched {
            ts: ts("00:00"),
            part: 1,
            query: "q".into(),
            hits: 1,
        },
        Record::Fetched {
            ts: ts("00:30"),
            part: 1,
            url: "https://a".into(),
            bytes: 2048,
        },
        Record::Drafted {
            ts: ts("01:05"),
            part: 1,
            lines: 120,
            sources: 1,
        },
    ];
    c.seed(&records, LATER);
    let card = &c.list[0];
    assert_eq!(card.sources, 1);
    assert_eq!(card.lines, Some(120));
    assert_eq!(card.elapsed, Duration::from_secs(65));
    assert!(card.log.get(1).unwrap().text.contains("1 hit"));
    assert!(c.list[1].log.is_empty());
}

#[test]
fn time_spent_is_time_at_work_not_the_time_between_runs() {
    let mut c = Cards::new(&plan(), None);
    let at = |h: u32, m: u32, s: u32| format!("2026-12-04T{h:02}:{m:02}:{s:02}.000+00:00");
    let state = |ts: String, state| Record::State {
        ts,
        part: 1,
        state,
        message: None,
        cause: None,
    };
    let searched = |ts| Record::Searched {
        ts,
        part: 1,
        query: "q".into(),
        hits: 1,
    };
    let estimated = |ts| Record::Estimated {
        ts,
        part: 1,
        low: 10,
        high: 20,
    };
    let noted = |ts| Record::Noted {
        ts,
        part: 1,
        text: "cite the paper".into(),
    };
    let records = vec![
        // A run stopped a minute into its searches.
        state(at(9, 0, 0), RunnerState::Queued),
        state(at(9, 0, 0), RunnerState::Searching),
        searched(at(9, 1, 0)),
        // A note given while no run was live, then the next run, an hour later: its
        // estimate, two minutes to a draft (a note on the way), then it waits for review;
        // the reviewer's second opinion costs tokens the next morning.
        noted(at(9, 30, 0)),
        estimated(at(10, 0, 0)),
        state(at(10, 0, 0), RunnerState::Queued),
        state(at(10, 0, 0), RunnerState::Searching),
        noted(at(10, 0, 10)),
        searched(at(10, 0, 30)),
        state(at(10, 2, 0), RunnerState::Review),
        Record::Usage {
            ts: at(11, 0, 0),
            part: 1,
            section: None,
            prompt_tokens: 5,
            completion_tokens: 5,
            estimated: false,
        },
        // A run stopped while writing, and the live run, started in the afternoon, whose
        // first word on the PART is a search from the cache.
        state(at(12, 0, 0), RunnerState::Writing),
        searched(at(15, 0, 1)),
    ];
    c.seed(&records, &at(15, 0, 0));
    assert_eq!(c.list[0].elapsed, Duration::from_secs(60 + 120));
}

#[test]
fn the_history_is_replayed_in_the_order_it_happened() {
    let mut c = Cards::new(&plan(), None);
    // The supervisor journals the runner's `writing` a moment after the runner's own
    // `Drafted` record was written, with the earlier time it happened at.
    let records = vec![
        Record::Drafted {
            ts: "2026-11-24T10:00:00.900+00:00".into(),
            part: 1,
            lines: 12,
            sources: 1,
        },
        Record::State {
            ts: "2026-11-24T10:00:00.100+00:00".into(),
            part: 1,
            state: RunnerState::Writing,
            message: None,
            cause: None,
        },
    ];
    c.seed(&records, LATER);
    let log = &c.list[0].log;
    let writing = (0..log.len()).position(|i| log.get(i).unwrap().text.contains("writing"));
    let ready = (0..log.len()).position(|i| log.get(i).unwrap().text.contains("draft ready"));
    assert!(
        writing.is_some() && writing < ready,
        "{writing:?} {ready:?}"
    );
}
