//! The TUI's views rendered on a TestBackend at 80×24, 120×40 and 200×50, compared with snapshots.

use std::time::Instant;

use expanse::plan::Plan;
use expanse::review;
use expanse::runner::{Event, Level, RunnerState};
use expanse::tui::app::{App, Msg, ReviewData};
use expanse::tui::keymap::{Action, Keymap};
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
        if s == RunnerState::Review {
            app.update(Msg::Core(at(Event::draft(
                n,
                337,
                4,
                "draft ready: 337 lines, 4 sources",
            ))));
        } else if s == RunnerState::Failed {
            app.update(Msg::Core(at(Event::state(
                n,
                s,
                "all 5 searches failed; the last error: HTTP 503",
            ))));
        } else {
            app.update(Msg::Core(at(Event::state(n, s, ""))));
        }
    }
    app.update(Msg::Core(at(Event {
        step: Some([3, 5]),
        ..Event::state(3, RunnerState::Searching, "")
    })));
    for (i, q) in [
        "DeepSpeed ZeRO optimizer tutorial 2024",
        "ZeRO-1 ZeRO-2 ZeRO-3 comparison",
        "DeepSpeed memory optimization techniques",
    ]
    .iter()
    .enumerate()
    {
        app.update(Msg::Core(at(Event {
            step: Some([i + 1, 5]),
            hits: Some(5),
            ..Event::log(
                Some(1),
                Level::Info,
                format!("search \"{q}\" → 5 hits in 3 ms"),
            )
        })));
    }
    app.update(Msg::Core(at(Event::log(
        Some(1),
        Level::Warn,
        "fetch https://example.com/slow failed: timed out after 30 s",
    ))));
    app.update(Msg::Core(at(Event::error(
        Some(1),
        "approval refused: knowledge/x.md changed on disk",
    ))));
    app
}

fn render(app: &App, size: (u16, u16), no_color: bool) -> String {
    let mut term = Terminal::new(TestBackend::new(size.0, size.1)).unwrap();
    let theme = Theme::new(no_color);
    let keys = Keymap::default();
    let now = Instant::now();
    term.draw(|f| view::draw(f, app, &theme, &keys, now))
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

#[test]
fn grid_and_log_at_three_sizes() {
    for size in SIZES {
        let app = scene(size);
        let screen = render(&app, size, true);
        // Four cards across at 160+ columns, fewer when narrow.
        let across = screen
            .lines()
            .find(|l| l.contains("PART 1 ·"))
            .unwrap()
            .matches("PART ")
            .count();
        assert_eq!(
            across,
            if size.0 >= 160 {
                4
            } else {
                (size.0 / 38) as usize
            }
        );
        insta::assert_snapshot!(format!("grid_{}x{}", size.0, size.1), screen);
    }
}

#[test]
fn review_screen_at_three_sizes() {
    let plan = Plan::parse(RUNNABLE);
    let old =
        "# ZeRO\n\nZeRO stage 2 partitions gradients and optimizer states.\n\nUnchanged tail.\n";
    let new = "# ZeRO\n\nZeRO stage 3 partitions parameters, gradients and optimizer states. [1]\n\nUnchanged tail.\n\n## Sources\n\n[1] ZeRO — corpus://zero.md\n";
    for size in SIZES {
        let mut app = scene(size);
        app.update(Msg::Action(Action::Next));
        let data = ReviewData {
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
            checklist: review::checklist(&plan.parts[0], new, &[]),
            target: "karpathy/distributed-training/00-deepspeed-zero-optimizer.md".into(),
            base_hash: Some(review::content_hash(old)),
        };
        app.update(Msg::ReviewLoaded {
            part: 1,
            result: Ok(Box::new(data)),
        });
        let screen = render(&app, size, true);
        assert!(screen.contains("review · PART 1"), "{screen}");
        assert!(screen.contains("0/5 sections"), "{screen}");
        insta::assert_snapshot!(format!("review_{}x{}", size.0, size.1), screen);
    }
}

#[test]
fn help_overlay_lists_every_action() {
    let size = (120, 40);
    let mut app = scene(size);
    app.update(Msg::Action(Action::Help));
    let screen = render(&app, size, true);
    for (_, text) in Action::HELP {
        assert!(
            screen.contains(text),
            "help is missing \"{text}\":\n{screen}"
        );
    }
    insta::assert_snapshot!("help_120x40", screen);
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
        view::draw(
            f,
            &app,
            &Theme::new(true),
            &Keymap::default(),
            Instant::now(),
        )
    })
    .unwrap();
    let buf = term.backend().buffer();
    assert!(
        buf.content()
            .iter()
            .all(|c| c.fg == ratatui::style::Color::Reset && c.bg == ratatui::style::Color::Reset)
    );
    term.draw(|f| {
        view::draw(
            f,
            &app,
            &Theme::new(false),
            &Keymap::default(),
            Instant::now(),
        )
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
