//! The TUI's keys driven without a terminal: each screen does only what it documents, typed
//! text never runs a command, and random key sequences never approve, reject or write unless
//! the documented sequence was given.

use expanse::plan::Plan;
use expanse::review::{self, Inspection, Seen};
use expanse::runner::{Command, Event, Level, Refusal, RunnerState};
use expanse::tui::app::{App, Edited, Front, Msg, Settings};
use expanse::tui::keymap::{Key, ScreenKind};
use expanse::tui::overlay::{Confirm, Overlay, Prompt};
use expanse::tui::screens::review::StatusKind;
use expanse::tui::screens::{EditWhat, Effect};
use proptest::prelude::*;

const RUNNABLE: &str = include_str!("../plans/expansion-18-21.md");

fn app() -> App {
    App::new(&Plan::parse(RUNNABLE), None, (120, 40))
}

fn inspection(part: usize) -> Inspection {
    let plan = Plan::parse(RUNNABLE);
    let text = "# T\n\n## Overview\n\nZeRO data parallel [1]\n\n## Sources\n\n[1] a — b\n";
    Inspection {
        file: review::diff(None, text, "t.md"),
        drop: review::diff(None, "# KNOWLEDGE DROP\n", "drops/d.md"),
        checklist: review::checklist(&plan.parts[part - 1], text, None, &[], None, &[]),
        claims: Vec::new(),
        target: plan.parts[part - 1].target.clone(),
        drop_name: "KNOWLEDGE-DROP-x-[TIME].md".into(),
        base_hash: None,
    }
}

fn press(app: &mut App, keys: &[Key]) -> Vec<Effect> {
    keys.iter().flat_map(|k| app.update(Msg::Key(*k))).collect()
}

fn typed(app: &mut App, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| app.update(Msg::Key(Key::Char(c))))
        .collect()
}

fn commands(fx: &[Effect]) -> Vec<&Command> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Command(c) => Some(c),
            _ => None,
        })
        .collect()
}

/// PART 3's draft under review, loaded.
fn reviewing() -> App {
    reviewing_with(app())
}

/// `a` with PART 3's draft arrived and its review open and loaded.
fn reviewing_with(mut a: App) -> App {
    a.update(Msg::Core(Event::draft(3, 9, 1, "draft ready")));
    assert_eq!(
        press(&mut a, &[Key::Char('n')]),
        vec![Effect::LoadReview(3)]
    );
    a.update(Msg::ReviewLoaded {
        part: 3,
        result: Ok(Box::new(inspection(3))),
    });
    a
}

#[test]
fn typing_in_review_searches_and_never_approves_or_edits() {
    let mut a = reviewing();
    let mut fx = press(&mut a, &[Key::Char('/')]);
    fx.extend(typed(&mut a, "data"));
    fx.extend(press(&mut a, &[Key::Enter]));
    let mut more = press(&mut a, &[Key::Char('/')]);
    more.extend(typed(&mut a, "ZeRO-3"));
    more.extend(press(&mut a, &[Key::Enter]));
    assert!(fx.is_empty() && more.is_empty(), "{fx:?} {more:?}");
    let Front::Review(r) = a.front() else {
        panic!("still in review")
    };
    assert_eq!(r.query(), "ZeRO-3");
    assert!(!r.is_busy());
}

#[test]
fn approve_asks_for_one_confirming_key_and_shows_what_is_written() {
    let mut a = reviewing();
    assert!(press(&mut a, &[Key::Char('a')]).is_empty());
    let Some(Overlay::Confirm(Confirm::Approve { writes, .. })) = a.overlay() else {
        panic!("a opens the confirmation: {:?}", a.overlay())
    };
    assert!(writes.iter().any(|w| w.contains("INDEX.md")));
    assert!(writes.iter().any(|w| w.contains("drops/KNOWLEDGE-DROP-x")));
    let fx = press(&mut a, &[Key::Char('y')]);
    assert_eq!(
        commands(&fx),
        vec![&Command::Approve {
            part: 3,
            seen: Seen::Absent,
            hunks: None,
        }]
    );
    assert!(
        press(&mut a, &[Key::Char('a'), Key::Char('y')])
            .iter()
            .all(|e| !matches!(e, Effect::Command(_))),
        "no second approval while the first is answered"
    );
    // Off in settings: one key.
    let mut b = app();
    b.configure(Settings {
        confirm_approve: false,
        ..Settings::default()
    });
    let mut b = reviewing_with(b);
    assert_eq!(commands(&press(&mut b, &[Key::Char('a')])).len(), 1);
}

#[test]
fn a_refused_approval_keeps_its_explanation_across_the_reload() {
    let mut a = reviewing();
    press(&mut a, &[Key::Char('a'), Key::Char('y')]);
    let fx = a.update(Msg::Core(Event::refused(
        3,
        Refusal::Conflict,
        "approval refused, nothing was written: the file changed on disk",
    )));
    assert_eq!(fx, vec![Effect::LoadReview(3)]);
    a.update(Msg::ReviewLoaded {
        part: 3,
        result: Ok(Box::new(inspection(3))),
    });
    let Front::Review(r) = a.front() else {
        panic!()
    };
    assert_eq!(r.status_kind(), Some(StatusKind::Conflict));
    assert!(!r.is_busy(), "the reviewer can approve the new diff");
}

#[test]
fn e_on_the_drop_tab_edits_the_drop() {
    let mut a = reviewing();
    assert_eq!(
        press(&mut a, &[Key::Char('e')]),
        vec![Effect::Edit {
            part: 3,
            what: EditWhat::File
        }]
    );
    assert_eq!(
        press(&mut a, &[Key::Tab, Key::Char('e')]),
        vec![Effect::Edit {
            part: 3,
            what: EditWhat::Drop
        }]
    );
}

#[test]
fn an_edit_updates_the_card_and_reloads_the_diff() {
    let mut a = reviewing();
    let fx = a.update(Msg::Edited {
        part: 3,
        result: Ok(Edited::Changed {
            what: EditWhat::File,
            lines: 42,
        }),
    });
    assert_eq!(fx, vec![Effect::LoadReview(3)]);
    assert_eq!(a.cards().get(3).unwrap().lines, Some(42));
}

#[test]
fn opening_one_draft_leaves_the_others_counted_new() {
    let mut a = app();
    for n in [2, 5] {
        a.update(Msg::Core(Event::draft(n, 10, 1, "draft ready")));
    }
    assert_eq!(a.unseen().len(), 2);
    press(&mut a, &[Key::Char('n')]);
    assert_eq!(a.unseen().len(), 1, "only the draft opened is seen");
}

#[test]
fn a_draft_approved_elsewhere_is_no_longer_new() {
    let mut a = app();
    for n in [2, 5] {
        a.update(Msg::Core(Event::draft(n, 10, 1, "draft ready")));
    }
    // Another terminal approves PART 2; the plan watcher then reports it done.
    a.update(Msg::Core(Event::state(
        2,
        RunnerState::Done,
        "ticked in the plan",
    )));
    assert_eq!(a.unseen().iter().copied().collect::<Vec<_>>(), vec![5]);
    assert_eq!(
        press(&mut a, &[Key::Char('n')]),
        vec![Effect::LoadReview(5)]
    );
}

#[test]
fn redo_of_an_approved_part_asks_first() {
    let mut a = app();
    a.update(Msg::Core(Event::state(1, RunnerState::Approved, "")));
    assert!(commands(&press(&mut a, &[Key::Char('R')])).is_empty());
    assert!(matches!(
        a.overlay(),
        Some(Overlay::Confirm(Confirm::Redo { part: 1, .. }))
    ));
    assert!(
        commands(&press(&mut a, &[Key::Char('n')])).is_empty(),
        "n is no"
    );
    press(&mut a, &[Key::Char('R')]);
    assert_eq!(
        commands(&press(&mut a, &[Key::Char('y')])),
        vec![&Command::Retry(1)]
    );
    // A failed PART retries at once.
    a.update(Msg::Core(Event::state(2, RunnerState::Failed, "boom")));
    press(&mut a, &[Key::Right]);
    assert_eq!(
        commands(&press(&mut a, &[Key::Char('R')])),
        vec![&Command::Retry(2)]
    );
}

#[test]
fn down_moves_to_the_card_below() {
    let mut a = app();
    // 120 columns: 3 cards a row; EXPANSION 18 has PARTs 1-4, so PART 4 sits alone in its row.
    press(&mut a, &[Key::Char('j')]);
    assert_eq!(a.cards().list[a.selected()].number, 4);
    press(&mut a, &[Key::Char('j')]);
    assert_eq!(
        a.cards().list[a.selected()].number,
        5,
        "down from the last row of a group enters the next group"
    );
    press(&mut a, &[Key::Right, Key::Char('k')]);
    assert_eq!(
        a.cards().list[a.selected()].number,
        4,
        "nearest card on the left"
    );
}

#[test]
fn grid_keys_that_belong_to_review_do_nothing_there() {
    let mut a = app();
    a.update(Msg::Core(Event::draft(1, 10, 1, "draft ready")));
    for k in ['a', 'r', 'e'] {
        assert!(press(&mut a, &[Key::Char(k)]).is_empty());
        assert!(matches!(a.front(), Front::Grid));
        assert!(a.notice_text().is_some_and(|n| n.contains("? lists")));
    }
}

#[test]
fn pausing_a_draft_says_why_not_in_words() {
    let mut a = app();
    a.update(Msg::Core(Event::draft(1, 10, 1, "draft ready")));
    press(&mut a, &[Key::Char('p')]);
    assert_eq!(
        a.notice_text(),
        Some("PART 1 is awaiting review; there is nothing to pause")
    );
}

#[test]
fn log_lines_keep_a_scrolled_view_in_place() {
    let mut a = app();
    for i in 0..100 {
        a.update(Msg::Core(Event::log(
            Some(1),
            Level::Info,
            format!("line {i}"),
        )));
    }
    press(&mut a, &[Key::PageUp]);
    let before = a.grid().log().offset();
    assert!(before > 0);
    a.update(Msg::Core(Event::log(Some(1), Level::Info, "new")));
    assert_eq!(a.grid().log().offset(), before + 1);
}

/// The keys a sequence is drawn from: every bound key, letters a person might mistype, text.
fn any_key() -> impl Strategy<Value = Key> {
    prop_oneof![
        prop::sample::select(vec![
            Key::Enter,
            Key::Esc,
            Key::Tab,
            Key::Backspace,
            Key::Up,
            Key::Down,
            Key::Left,
            Key::Right,
            Key::PageUp,
            Key::PageDown,
            Key::Home,
            Key::End,
            Key::Ctrl('u'),
        ]),
        prop::sample::select(
            "aAyYnNreEqQpPRDl/?fFgG[]jkh dxz0"
                .chars()
                .collect::<Vec<_>>()
        )
        .prop_map(Key::Char),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_keys_never_decide_without_the_documented_sequence(
        keys in prop::collection::vec(any_key(), 1..60)
    ) {
        let mut a = reviewing();
        a.update(Msg::Core(Event::state(1, RunnerState::Approved, "")));
        for k in keys {
            let overlay = a.overlay().cloned();
            let screen = a.screen_kind();
            let busy = matches!(a.front(), Front::Review(r) if r.is_busy());
            let fx = a.update(Msg::Key(k));
            for e in &fx {
                match e {
                    Effect::Command(Command::Approve { .. }) => prop_assert!(
                        matches!(overlay, Some(Overlay::Confirm(Confirm::Approve { .. })))
                            && matches!(k, Key::Char('y') | Key::Char('Y') | Key::Enter),
                        "approved by {k:?} with {overlay:?}"
                    ),
                    Effect::Command(Command::Reject { .. }) => prop_assert!(
                        matches!(overlay, Some(Overlay::Prompt(Prompt::Reject { .. })))
                            && k == Key::Enter,
                        "rejected by {k:?} with {overlay:?}"
                    ),
                    Effect::Edit { .. } => prop_assert!(
                        overlay.is_none() && screen == ScreenKind::Review && k == Key::Char('e') && !busy,
                        "edit by {k:?} on {screen:?}"
                    ),
                    Effect::Command(Command::Retry(_)) => prop_assert!(
                        (matches!(overlay, Some(Overlay::Confirm(Confirm::Redo { .. })))
                            && matches!(k, Key::Char('y') | Key::Char('Y') | Key::Enter))
                            || (overlay.is_none() && k == Key::Char('R')),
                        "retry by {k:?}"
                    ),
                    _ => {}
                }
            }
            // Opening the approval question takes `a` on the review screen.
            if let Some(Overlay::Confirm(Confirm::Approve { .. })) = &a.overlay() {
                prop_assert!(
                    overlay.is_some() || (screen == ScreenKind::Review && k == Key::Char('a'))
                );
            }
        }
    }
}

#[test]
fn the_readme_key_table_is_the_keymaps_own_descriptions() {
    let readme = include_str!("../README.md");
    let start = readme
        .find("<!-- keys: generated")
        .expect("the README has the key table");
    let end = readme.find("<!-- /keys -->").unwrap();
    let block = &readme[start..end];
    let table = expanse::tui::keymap::Keymap::default().markdown();
    assert!(
        block.contains(table.trim()),
        "README's key table differs from `expanse help keys`; paste its output between the markers"
    );
}

/// An edit that could not be saved says so where it is read whole: the PART's log keeps the
/// message (and the path of the kept text) the key bar may cut.
#[test]
fn an_edit_not_saved_is_told_in_the_parts_log() {
    let mut a = reviewing();
    let e = expanse::review::ReviewError::EditKept {
        reason: Box::new(expanse::review::ReviewError::NoDraft(3)),
        kept: "/state/unsaved-edits/part-3-20261130-100000.md".into(),
    };
    let fx = a.update(Msg::Edited {
        part: 3,
        result: Err(e.into()),
    });
    assert!(!fx.contains(&Effect::LoadReview(3)));
    let log = &a.cards().get(3).unwrap().log;
    let last = log.get(log.len() - 1).unwrap();
    assert!(
        last.text.starts_with("edit not saved: ")
            && last
                .text
                .ends_with("kept in /state/unsaved-edits/part-3-20261130-100000.md"),
        "{}",
        last.text
    );
}

#[test]
fn space_leaves_a_hunk_out_and_approval_writes_the_others() {
    let mut a = app();
    a.update(Msg::Core(Event::draft(3, 9, 1, "draft ready")));
    press(&mut a, &[Key::Char('n')]);
    let old: String = (1..=30).map(|i| format!("line {i}\n")).collect();
    let new = old
        .replace("line 2\n", "line 2\nadded early [1]\n")
        .replace("line 28\n", "line 28\nadded late [1]\n");
    let plan = Plan::parse(RUNNABLE);
    let mut i = inspection(3);
    i.file = review::diff(Some(&old), &new, "t.md");
    i.checklist = review::checklist(&plan.parts[2], &new, Some(&old), &[], None, &[]);
    i.base_hash = Some(review::content_hash(&old));
    a.update(Msg::ReviewLoaded {
        part: 3,
        result: Ok(Box::new(i)),
    });
    press(&mut a, &[Key::Char(' ')]);
    // Space again keeps it again; a third time leaves it out for good.
    press(&mut a, &[Key::Char(' '), Key::Char(' ')]);
    let fx = press(&mut a, &[Key::Char('a'), Key::Char('y')]);
    assert_eq!(
        commands(&fx),
        vec![&Command::Approve {
            part: 3,
            seen: Seen::Hash(review::content_hash(&old)),
            hunks: Some([2].into()),
        }]
    );
}

#[test]
fn every_hunk_left_out_approves_nothing() {
    let mut a = reviewing();
    let fx = press(&mut a, &[Key::Char(' '), Key::Char('a')]);
    assert!(commands(&fx).is_empty());
    assert!(
        a.overlay().is_none(),
        "no confirmation for an empty approval"
    );
}

#[test]
fn a_reject_to_write_again_needs_a_reason() {
    let mut a = reviewing();
    let fx = press(&mut a, &[Key::Char('r'), Key::Enter]);
    assert!(commands(&fx).is_empty(), "{fx:?}");
    assert!(
        a.notice_text()
            .is_some_and(|n| n.contains("say why it should be written again")),
        "{:?}",
        a.notice_text()
    );
    // Skipping the PART needs no reason.
    let fx = press(&mut a, &[Key::Char('r'), Key::Tab, Key::Enter]);
    assert_eq!(
        commands(&fx),
        vec![&Command::Reject {
            part: 3,
            reason: None,
            requeue: false
        }]
    );
}

#[test]
fn n_after_a_search_goes_to_matches_not_to_a_review() {
    let mut a = app();
    a.update(Msg::Core(Event::draft(3, 9, 1, "draft ready")));
    let mut fx = press(&mut a, &[Key::Char('/')]);
    fx.extend(typed(&mut a, "zzz-nothing"));
    fx.extend(press(&mut a, &[Key::Enter, Key::Char('n')]));
    assert!(
        !fx.contains(&Effect::LoadReview(3)),
        "a search with no match does not open a review: {fx:?}"
    );
    assert!(
        a.notice_text()
            .is_some_and(|n| n.contains("matches \"zzz-nothing\"")),
        "{:?}",
        a.notice_text()
    );
    // Cleared, n opens the next draft again.
    assert_eq!(
        press(&mut a, &[Key::Esc, Key::Char('n')]),
        vec![Effect::LoadReview(3)]
    );
}

#[test]
fn the_message_log_keeps_each_notice_whole() {
    let mut a = App::new(&Plan::parse(RUNNABLE), None, (80, 24));
    press(&mut a, &[Key::Char('x')]);
    let first = a.notice_text().unwrap().to_string();
    press(&mut a, &[Key::Char('u')]);
    let second = a.notice_text().unwrap().to_string();
    assert_ne!(first, second);
    press(&mut a, &[Key::Char('M')]);
    let Some(Overlay::Messages { lines, .. }) = a.overlay() else {
        panic!("M opens the messages: {:?}", a.overlay())
    };
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].ends_with(&first) && lines[1].ends_with(&second),
        "{lines:?}"
    );
    press(&mut a, &[Key::Esc]);
    assert!(a.overlay().is_none());
}

#[test]
fn m_gives_a_working_runner_a_note_and_says_why_not_for_a_draft() {
    let mut a = app();
    a.update(Msg::Core(Event::state(
        1,
        RunnerState::Writing,
        "writing 5 sections",
    )));
    // The prompt takes typed text (`q` included) and Enter sends the note.
    assert!(commands(&press(&mut a, &[Key::Char('m')])).is_empty());
    assert!(matches!(
        a.overlay(),
        Some(Overlay::Prompt(Prompt::Note { part: 1, .. }))
    ));
    assert!(commands(&typed(&mut a, "quote the paper")).is_empty());
    let fx = press(&mut a, &[Key::Enter]);
    assert_eq!(
        commands(&fx),
        [&Command::Note {
            part: 1,
            text: "quote the paper".into()
        }]
    );
    // Esc gives nothing.
    press(&mut a, &[Key::Char('m')]);
    typed(&mut a, "never mind");
    assert!(commands(&press(&mut a, &[Key::Esc])).is_empty());
    // A PART in review takes no note: it says what to do instead.
    a.update(Msg::Core(Event::draft(1, 9, 1, "draft ready")));
    assert!(commands(&press(&mut a, &[Key::Char('m')])).is_empty());
    assert!(a.overlay().is_none());
    assert!(
        a.notice_text()
            .is_some_and(|n| n.contains("a note reaches a runner still working")),
        "{:?}",
        a.notice_text()
    );
}

#[test]
fn an_undone_approval_is_said_by_its_cause_not_its_words() {
    let mut a = app();
    a.update(Msg::Core(Event::state(
        2,
        RunnerState::Approved,
        "approved",
    )));
    // Words alone (a log line that happens to read so) say nothing of an undo.
    a.update(Msg::Core(Event::state(
        2,
        RunnerState::Review,
        "approval undone",
    )));
    assert!(
        a.notice_text()
            .is_none_or(|n| !n.contains("approval undone"))
    );
    a.update(Msg::Core(Event::state(
        2,
        RunnerState::Approved,
        "approved",
    )));
    a.update(Msg::Core(Event::undone(2)));
    assert_eq!(
        a.notice_text(),
        Some("PART 2: approval undone; the draft awaits review again")
    );
}
