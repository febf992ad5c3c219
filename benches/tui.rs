//! Rendering the TUI on a TestBackend, and the update path under a log flood.

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use expanse::plan::Plan;
use expanse::runner::{Event, Level, RunnerState};
use expanse::tui::app::{App, Msg};
use expanse::tui::theme::Theme;
use expanse::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const PLAN: &str = include_str!("../plans/expansion-18-21.md");

fn busy_app(size: (u16, u16)) -> App {
    let plan = Plan::parse(PLAN);
    let mut app = App::new(&plan, None, size);
    for n in 1..=16 {
        app.update(Msg::Core(Event::state(n, RunnerState::Searching, "")));
        for i in 0..2_000 {
            app.update(Msg::Core(Event::log(
                Some(n),
                Level::Info,
                format!("search \"query {i}\" → 5 hits in 3 ms"),
            )));
        }
    }
    app
}

fn bench(c: &mut Criterion) {
    let theme = Theme::new(false);
    for size in [(120u16, 40u16), (200, 50)] {
        let app = busy_app(size);
        let mut term = Terminal::new(TestBackend::new(size.0, size.1)).unwrap();
        c.bench_function(
            &format!("render full frame {}x{}, 16 busy runners", size.0, size.1),
            |b| {
                b.iter(|| {
                    term.draw(|f| {
                        view::draw(f, &app, &theme, Instant::now());
                    })
                    .unwrap();
                })
            },
        );
    }
    let mut app = busy_app((200, 50));
    let events: Vec<Event> = (0..10_000)
        .map(|i| {
            Event::log(
                Some(i % 16 + 1),
                Level::Info,
                format!("fetch https://example.com/{i} → ok, 12.3 KB in 45 ms"),
            )
        })
        .collect();
    c.bench_function("apply 10,000 log events", |b| {
        b.iter(|| {
            for e in &events {
                app.update(Msg::Core(e.clone()));
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
