//! Every TUI screen and overlay rendered on a TestBackend at 80×24, 120×40 and 200×50 and
//! compared with snapshots; plus the properties a person relies on at each size.

use std::time::Instant;

use expanse::plan::Plan;
use expanse::review::{self, Inspection};
use expanse::runner::{Counts, Event, Level, RunnerState};
use expanse::tui::app::{App, Msg};
use expanse::tui::keymap::{Key, Keymap, ScreenKind};
use expanse::tui::screens::drafts::DraftSummary;
use expanse::tui::theme::Theme;
use expanse::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const RUNNABLE: &str = include_str!("../plans/expansion-18-21.md");
const SIZES: [(u16, u16); 3] = [(80, 24), (120, 40), (200, 50)];

fn at(mut e: Event) -> Event {
    e.ts = "2026-11-24T10:11:12+00:00".into();
    e
}

/// A run in mid-flight: every state on screen, logs with searches, fetches and an error.
fn scene(size: (u16, u16)) -> App {
    let plan = Plan::parse(RUNNABLE);
    let mut app = App::new(&plan, None, size);
    let states = [
        (1, RunnerState::Review),
        (2, RunnerState::Writing),
        (3, RunnerState::Searching),
        (4, RunnerState::Scraping),
        (5, RunnerState::Paused),
        (6, RunnerState::Failed),
        (7, RunnerState::Approved),
        (8, RunnerState::Stalled),
        (9, RunnerState::Checking),
        (10, RunnerState::Skipped),
        (11, RunnerState::Done),
    ];
    for (n, s) in states {
        let e = match s {
            RunnerState::Review => Event::draft(n, 337, 4, "draft ready: 337 lines, 4 sources"),
            RunnerState::Failed => {
                Event::state(n, s, "all 5 searches failed; the last error: HTTP 503")
            }
            _ => Event::state(n, s, ""),
        };
        app.update(Msg::Core(at(e)));
    }
    // A state event carries no step: PART 3's third search says it.
    app.update(Msg::Core(at(Event::counted(
        Some(3),
        Level::Info,
        "search \"ZeRO offload\" → 4 hits in 2 ms",
        Counts {
            step: Some([3, 5]),
            hits: Some(4),
            ..Counts::default()
        },
    ))));
    for (i, q) in [
        "DeepSpeed ZeRO optimizer tutorial 2024",
        "ZeRO-1 ZeRO-2 ZeRO-3 comparison",
        "DeepSpeed memory optimization techniques",
    ]
    .iter()
    .enumerate()
    {
        app.update(Msg::Core(at(Event::counted(
            Some(1),
            Level::Info,
            format!("search \"{q}\" → 5 hits in 3 ms"),
            Counts {
                step: Some([i + 1, 5]),
                hits: Some(5),
                ..Counts::default()
            },
        ))));
    }
    app.update(Msg::Core(at(Event::log(
        Some(1),
        Level::Warn,
        "fetch https://example.com/slow failed: timed out after 30 s, and this line is long enough to wrap at word boundaries on a narrow terminal",
    ))));
    app.clear_notice();
    app
}

fn inspection() -> Inspection {
    let plan = Plan::parse(RUNNABLE);
    let claims = review::grounding::check(
        review::grounding::claims(
            "## Section 1: ZeRO Overview\n\nZeRO stage 3 partitions parameters, gradients and optimizer states. [1]\n\nStage 3 was made up here. [1]\n",
            false,
        ),
        &std::collections::BTreeMap::from([(
            1,
            "ZeRO stage 3 partitions parameters, gradients and optimizer states.".to_string(),
        )]),
    );
    let old =
        "# ZeRO\n\nZeRO stage 2 partitions gradients and optimizer states.\n\nUnchanged tail.\n";
    let new = "# ZeRO\n\nZeRO stage 3 partitions parameters, gradients and optimizer states. [1]\n\nUnchanged tail.\n\n## Sources\n\n[1] ZeRO — corpus://zero.md\n";
    Inspection {
        file: review::diff(
            Some(old),
            new,
            "karpathy/distributed-training/00-deepspeed-zero-optimizer.md",
        ),
        drop: review::diff(
            None,
            "# KNOWLEDGE DROP: deepspeed-zero\n\n- **Runner**: PART 1\n",
            "drops/KNOWLEDGE-DROP-deepspeed-zero-2025-11-13-[TIME].md",
        ),
        checklist: review::checklist(&plan.parts[0], new, None, &[], None, &claims),
        claims,
        target: "karpathy/distributed-training/00-deepspeed-zero-optimizer.md".into(),
        drop_name: "KNOWLEDGE-DROP-deepspeed-zero-2025-11-13-[TIME].md".into(),
        base_hash: Some(review::content_hash(old)),
    }
}

fn keys(app: &mut App, keys: &[Key]) {
    for k in keys {
        app.update(Msg::Key(*k));
    }
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Msg::Key(Key::Char(c)));
    }
}

/// The scene with PART 1's review open and loaded.
fn reviewing(size: (u16, u16)) -> App {
    let mut app = scene(size);
    keys(&mut app, &[Key::Char('n')]);
    app.update(Msg::ReviewLoaded {
        part: 1,
        result: Ok(Box::new(inspection())),
    });
    app
}

fn render(app: &App, size: (u16, u16), no_color: bool) -> String {
    let mut term = Terminal::new(TestBackend::new(size.0, size.1)).unwrap();
    let theme = Theme::new(no_color);
    term.draw(|f| {
        view::draw(f, app, &theme, Instant::now());
    })
    .unwrap();
    let buf = term.backend().buffer().clone();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn snap(name: &str, size: (u16, u16), screen: &str) {
    insta::assert_snapshot!(format!("{name}_{}x{}", size.0, size.1), screen);
}

/// The key bar (last row) always offers help and quit.
fn bar_has_help_and_quit(screen: &str) {
    let bar = screen.lines().last().unwrap_or("");
    assert!(bar.contains("? help") && bar.contains("q quit"), "{bar}");
}

#[test]
fn grid_and_log_at_three_sizes() {
    for size in SIZES {
        let app = scene(size);
        let screen = render(&app, size, true);
        let across = screen
            .lines()
            .find(|l| l.contains("PART 1 ·"))
            .unwrap()
            .matches("PART ")
            .count();
        assert_eq!(across, ((size.0 / 38) as usize).min(4));
        bar_has_help_and_quit(&screen);
        // Cards that do not fit are counted, never drawn in part.
        if size == (80, 24) {
            assert!(screen.contains("cards below"), "{screen}");
        }
        snap("grid", size, &screen);
    }
}

#[test]
fn maximised_log_scrolled_to_the_top_is_full() {
    for size in SIZES {
        let mut app = scene(size);
        for i in 0..80 {
            app.update(Msg::Core(at(Event::log(
                Some(1),
                Level::Info,
                format!("fetch https://example.com/page-{i} → 12.0 KB"),
            ))));
        }
        keys(&mut app, &[Key::Char('l'), Key::Char('g')]);
        let screen = render(&app, size, true);
        let body: Vec<&str> = screen.lines().skip(2).take(size.1 as usize - 3).collect();
        assert!(
            body.iter().all(|l| !l.trim().is_empty()),
            "no blank rows when scrolled to the top:\n{screen}"
        );
        assert!(screen.contains("── earlier runs") || screen.contains("10:11:12"));
        bar_has_help_and_quit(&screen);
        snap("log_top", size, &screen);
    }
}

#[test]
fn a_filtered_scrolled_log_shows_every_match() {
    let size = (80, 24);
    let mut app = scene(size);
    for i in 0..60 {
        let text = if i % 15 == 0 {
            format!("needle {i}")
        } else {
            format!("hay {i}")
        };
        app.update(Msg::Core(at(Event::log(Some(1), Level::Info, text))));
    }
    keys(&mut app, &[Key::Char('l'), Key::Char('/')]);
    typed(&mut app, "needle");
    keys(
        &mut app,
        &[Key::Enter, Key::Char('f'), Key::Char('k'), Key::Char('g')],
    );
    let screen = render(&app, size, true);
    for i in [0, 15, 30, 45] {
        assert!(screen.contains(&format!("needle {i}")), "{screen}");
    }
    assert!(!screen.contains("hay"), "{screen}");
}

#[test]
fn review_screen_at_three_sizes() {
    for size in SIZES {
        let app = reviewing(size);
        let screen = render(&app, size, true);
        assert!(screen.contains("review · PART 1"), "{screen}");
        assert!(screen.contains("0/5 sections"), "{screen}");
        bar_has_help_and_quit(&screen);
        let row = screen.lines().find(|l| l.contains("checklist")).unwrap();
        if size.0 < 120 {
            assert!(
                !row.contains("review ·"),
                "narrow: the checklist goes under the diff"
            );
        } else {
            assert!(row.contains("review ·"), "wide: side by side");
        }
        snap("review", size, &screen);
    }
}

#[test]
fn review_search_highlights_and_counts() {
    let size = (120, 40);
    let mut app = reviewing(size);
    keys(&mut app, &[Key::Char('/')]);
    typed(&mut app, "zero");
    keys(&mut app, &[Key::Enter]);
    let screen = render(&app, size, true);
    assert!(screen.contains("/zero 1/"), "{screen}");
    snap("review_search", size, &screen);
}

#[test]
fn drafts_screen_at_three_sizes() {
    for size in SIZES {
        let mut app = scene(size);
        keys(&mut app, &[Key::Char('D')]);
        app.update(Msg::DraftsLoaded(Ok(vec![DraftSummary {
            part: 1,
            added: 337,
            removed: 0,
            checklist: "5/5 sections, 337/500 lines".into(),
            clean: false,
        }])));
        let screen = render(&app, size, true);
        assert!(screen.contains("(not clean)"), "{screen}");
        bar_has_help_and_quit(&screen);
        snap("drafts", size, &screen);
    }
}

#[test]
fn help_reaches_every_key_at_every_size() {
    let km = Keymap::default();
    for size in SIZES {
        let mut app = scene(size);
        keys(&mut app, &[Key::Char('?')]);
        let first = render(&app, size, true);
        snap("help", size, &first);
        keys(&mut app, &[Key::End]);
        let last = render(&app, size, true);
        let both = format!("{first}{last}");
        for a in km.actions(ScreenKind::Grid) {
            assert!(
                both.contains(a.description()),
                "help at {size:?} never shows \"{}\"",
                a.description()
            );
        }
        assert!(
            last.contains("quit: stop the run (asks")
                && last.contains("detach: leave the run going"),
            "the last line is reachable:\n{last}"
        );
    }
}

#[test]
fn overlays_at_three_sizes() {
    for size in SIZES {
        // Quit asks while work is pending: stop the run, or leave it running.
        let mut app = scene(size);
        keys(&mut app, &[Key::Char('q')]);
        let screen = render(&app, size, true);
        assert!(
            screen.contains("Stop the run? y stop · d leave running · n stay"),
            "{screen}"
        );
        snap("confirm_quit", size, &screen);

        // Approve shows what will be written and waits for its key.
        let mut app = reviewing(size);
        keys(&mut app, &[Key::Char('a')]);
        let screen = render(&app, size, true);
        assert!(screen.contains("INDEX.md"), "{screen}");
        assert!(screen.contains("any other key cancels"), "{screen}");
        snap("confirm_approve", size, &screen);

        // A long reason wraps and the toggle and Esc hint stay.
        let mut app = reviewing(size);
        keys(&mut app, &[Key::Char('r')]);
        typed(
            &mut app,
            &"the sections on stages repeat the overview and cite nothing; ".repeat(3),
        );
        let screen = render(&app, size, true);
        assert!(screen.contains("write it again"), "{screen}");
        assert!(screen.contains("Esc: cancel"), "{screen}");
        snap("reject_prompt", size, &screen);

        // Picking a section to write again, then its reason.
        let mut app = reviewing(size);
        keys(&mut app, &[Key::Char('s'), Key::Down]);
        let screen = render(&app, size, true);
        assert!(
            screen.contains("Write which section of PART 1 again?"),
            "{screen}"
        );
        snap("sections", size, &screen);
        keys(&mut app, &[Key::Enter]);
        typed(&mut app, "compare the stages' communication volume");
        let screen = render(&app, size, true);
        assert!(screen.contains("Enter: write it again"), "{screen}");
        snap("regenerate_prompt", size, &screen);

        // The log search being typed takes the key bar's place.
        let mut app = scene(size);
        keys(&mut app, &[Key::Char('/')]);
        typed(&mut app, "fetch");
        let screen = render(&app, size, true);
        assert!(
            screen.lines().last().unwrap().starts_with("/fetch"),
            "{screen}"
        );
        snap("search_prompt", size, &screen);

        // Undo of an approval asks first.
        let mut app = scene(size);
        app.select(app.cards().index_of(7).unwrap());
        keys(&mut app, &[Key::Char('u')]);
        let screen = render(&app, size, true);
        assert!(screen.contains("Undo it? y / n"), "{screen}");
        snap("confirm_undo", size, &screen);

        // Redo of an approved PART asks first.
        let mut app = scene(size);
        let seven = app.cards().index_of(7).unwrap();
        app.select(seven);
        keys(&mut app, &[Key::Char('R')]);
        let screen = render(&app, size, true);
        assert!(screen.contains("Run it again? y / n"), "{screen}");
        snap("confirm_redo", size, &screen);
    }
}

#[test]
fn a_tiny_terminal_gets_a_note_not_a_panic() {
    let app = scene((40, 10));
    let screen = render(&app, (40, 10), true);
    let flat = screen.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("expanse needs a terminal of at least 60×16 (this one is 40×10)"),
        "{screen}"
    );
}

#[test]
fn no_color_drops_every_colour() {
    let size = (120, 40);
    let app = scene(size);
    let mut term = Terminal::new(TestBackend::new(size.0, size.1)).unwrap();
    term.draw(|f| {
        view::draw(f, &app, &Theme::new(true), Instant::now());
    })
    .unwrap();
    let buf = term.backend().buffer();
    assert!(
        buf.content()
            .iter()
            .all(|c| c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset)
    );
    term.draw(|f| {
        view::draw(f, &app, &Theme::new(false), Instant::now());
    })
    .unwrap();
    assert!(
        term.backend()
            .buffer()
            .content()
            .iter()
            .any(|c| c.fg != ratatui::style::Color::Reset)
    );
}

/// `p` and `P` toggle, so the key bar names what they would do now.
#[test]
fn the_key_bar_says_resume_when_p_would_resume() {
    let plan = Plan::parse(RUNNABLE);
    let size = (120, 40);
    let mut app = App::new(&plan, None, size);
    for n in 1..=16 {
        app.update(Msg::Core(at(Event::draft(n, 300, 4, "draft ready"))));
    }
    app.update(Msg::Core(at(Event::state(2, RunnerState::Searching, ""))));
    let bar = |app: &App| render(app, size, true).lines().last().unwrap().to_string();
    // PART 1 (selected) is in review and PART 2 is searching.
    let now = bar(&app);
    assert!(
        now.contains("p pause ") && now.contains("P pause all"),
        "{now}"
    );
    app.update(Msg::Core(at(Event::state(1, RunnerState::Paused, ""))));
    let now = bar(&app);
    assert!(
        now.contains("p resume ") && now.contains("P pause all"),
        "{now}"
    );
    // Nothing left running: P resumes the paused PART.
    app.update(Msg::Core(at(Event::state(2, RunnerState::Paused, ""))));
    let now = bar(&app);
    assert!(
        now.contains("p resume ") && now.contains("P resume all"),
        "{now}"
    );
}

/// A draft that grows a person's file in two places and changes one of their lines.
fn two_hunks() -> Inspection {
    let plan = Plan::parse(RUNNABLE);
    let old: String = (1..=30)
        .map(|i| format!("Line {i} of the person's notes.\n"))
        .collect();
    let new = old.replace("Line 3 of", "Line 3 (revised) of").replace(
        "Line 25 of the person's notes.\n",
        "Line 25 of the person's notes.\nZeRO stage 3 partitions parameters. [1]\n",
    );
    let target = "karpathy/distributed-training/00-deepspeed-zero-optimizer.md";
    Inspection {
        file: review::diff(Some(&old), &new, target),
        drop: review::diff(None, "# KNOWLEDGE DROP\n", "drops/d.md"),
        checklist: review::checklist(&plan.parts[0], &new, Some(&old), &[], None, &[]),
        claims: Vec::new(),
        target: target.into(),
        drop_name: "KNOWLEDGE-DROP-deepspeed-zero-[TIME].md".into(),
        base_hash: Some(review::content_hash(&old)),
    }
}

#[test]
fn a_hunk_left_out_at_80x24() {
    let size = (80, 24);
    let mut app = scene(size);
    keys(&mut app, &[Key::Char('n')]);
    app.update(Msg::ReviewLoaded {
        part: 1,
        result: Ok(Box::new(two_hunks())),
    });
    // Space on the first hunk (the one that revises the person's line 3) leaves it out.
    keys(&mut app, &[Key::Char(' ')]);
    let screen = render(&app, size, true);
    assert!(
        screen.contains("hunk 1 · left out: not written"),
        "{screen}"
    );
    snap("review_hunk_left_out", size, &screen);
    keys(&mut app, &[Key::Char('a')]);
    let confirm = render(&app, size, true);
    assert!(confirm.contains("1 of 2 hunks: 2"), "{confirm}");
    assert!(
        !confirm.contains("Not clean: removes"),
        "the revision is in the hunk left out: {confirm}"
    );
    snap("confirm_approve_hunks", size, &confirm);
}

#[test]
fn a_click_is_tested_against_the_cards_the_last_frame_drew() {
    for size in SIZES {
        let mut app = scene(size);
        // Before any frame nothing is on screen to click: where PART 1's card (selected, with a
        // draft) will be, a click opens nothing.
        let effects = app.update(Msg::Click { col: 2, row: 3 });
        assert_eq!(app.selected(), 0);
        assert!(effects.is_empty(), "{size:?}: {effects:?}");
        assert!(
            !matches!(app.front(), expanse::tui::app::Front::Review(_)),
            "{size:?}"
        );
        let mut term = Terminal::new(TestBackend::new(size.0, size.1)).unwrap();
        let mut drawn = expanse::tui::layout::Drawn::default();
        term.draw(|f| drawn = view::draw(f, &app, &Theme::new(true), Instant::now()))
            .unwrap();
        assert!(drawn.cards.len() >= 2, "{size:?}: {drawn:?}");
        app.drawn(drawn.clone());
        // The second card drawn, clicked inside its border, is selected.
        let (second, rect) = drawn.cards[1];
        app.update(Msg::Click {
            col: rect.x + rect.width - 1,
            row: rect.y + rect.height - 1,
        });
        assert_eq!(app.selected(), second, "{size:?}");
        // Just outside every card drawn: nothing changes.
        let below = drawn
            .cards
            .iter()
            .map(|(_, r)| r.y + r.height)
            .max()
            .unwrap();
        app.update(Msg::Click {
            col: 0,
            row: below + 1,
        });
        assert_eq!(app.selected(), second, "{size:?}");
        // PART 1's card holds a draft: a click selects it, a second opens its review.
        let (first, rect) = drawn.cards[0];
        app.update(Msg::Click {
            col: rect.x,
            row: rect.y,
        });
        assert_eq!(app.selected(), first);
        app.update(Msg::Click {
            col: rect.x,
            row: rect.y,
        });
        assert!(
            matches!(app.front(), expanse::tui::app::Front::Review(_)),
            "{size:?}"
        );
    }
}
