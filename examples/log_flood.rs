//! Log flood: 16 runners each logging 10,000 lines a second into the TUI's app and renderer
//! (TestBackend, 200×50, at most 60 frames a second) for 10 seconds. Prints lines produced and
//! applied, the backlog left, frames drawn, input latency, CPU time and peak RSS.
//!
//! Run: `cargo run --release --example log_flood [-- SECONDS]`

use std::time::{Duration, Instant};

use expanse::plan::Plan;
use expanse::runner::{Event, Level, RunnerState};
use expanse::tui::app::{App, Msg};
use expanse::tui::keymap::Key;
use expanse::tui::theme::Theme;
use expanse::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

const PLAN: &str = include_str!("../plans/expansion-18-21.md");
const RUNNERS: u32 = 16;
const PER_SECOND: u64 = 10_000;

fn proc_field(file: &str, key: &str) -> String {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .map(|l| l[key.len()..].trim().to_string())
        .unwrap_or_default()
}

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields
        .get(11)
        .and_then(|u| u.parse::<f64>().ok())
        .unwrap_or(0.0)
        + fields
            .get(12)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0);
    ticks / 100.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let plan = Plan::parse(PLAN);
    let mut app = App::new(&plan, None, (200, 50));
    let mut term = Terminal::new(TestBackend::new(200, 50)).expect("a test backend");
    let theme = Theme::new(false);
    let (tx, mut rx) = mpsc::channel::<Event>(1024);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut producers = Vec::new();
    for n in 1..=RUNNERS {
        let tx = tx.clone();
        producers.push(tokio::spawn(async move {
            let _ = tx.send(Event::state(n, RunnerState::Searching, "")).await;
            let mut sent = 0u64;
            let start = Instant::now();
            let mut tick = tokio::time::interval(Duration::from_millis(10));
            while Instant::now() < deadline {
                tick.tick().await;
                // Catch up to 10,000 lines a second in bursts every 10 ms.
                let due = (start.elapsed().as_secs_f64() * PER_SECOND as f64) as u64;
                while sent < due {
                    let e = Event::log(
                        Some(n),
                        Level::Info,
                        format!("fetch https://example.com/page/{sent} → ok, 12.3 KB in 45 ms"),
                    );
                    if tx.send(e).await.is_err() {
                        return sent;
                    }
                    sent += 1;
                }
            }
            sent
        }));
    }
    drop(tx);
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let (mut applied, mut frames, mut last_draw) = (0u64, 0u64, Instant::now());
    let mut input_every = tokio::time::interval(Duration::from_millis(50));
    let (mut input_max, mut input_total, mut inputs) = (Duration::ZERO, Duration::ZERO, 0u32);
    let mut pending_input: Option<Instant> = None;
    loop {
        tokio::select! {
            e = rx.recv() => match e {
                Some(e) => {
                    app.update(Msg::Core(e));
                    applied += 1;
                    while let Ok(e) = rx.try_recv() {
                        app.update(Msg::Core(e));
                        applied += 1;
                    }
                }
                None => break,
            },
            _ = input_every.tick() => pending_input = Some(Instant::now()),
        }
        // A key press arriving now is handled on this turn of the loop.
        if let Some(at) = pending_input.take() {
            app.update(Msg::Key(Key::Down));
            let waited = at.elapsed();
            input_max = input_max.max(waited);
            input_total += waited;
            inputs += 1;
        }
        if app.is_dirty() && last_draw.elapsed() >= Duration::from_millis(16) {
            let mut drawn = Default::default();
            term.draw(|f| {
                drawn = view::draw(f, &app, &theme, Instant::now());
            })
            .expect("draw");
            app.drawn(drawn);
            frames += 1;
            last_draw = Instant::now();
        }
    }
    let mut produced = 0;
    for p in producers {
        produced += p.await.unwrap_or(0);
    }
    let wall = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    println!("log flood: {RUNNERS} runners × {PER_SECOND} lines/s for {secs} s");
    println!(
        "  produced {produced} lines, applied {applied} events ({:.0}/s), backlog at end {}",
        applied as f64 / wall,
        produced + RUNNERS as u64 - applied
    );
    println!("  frames drawn {frames} ({:.1}/s)", frames as f64 / wall);
    println!(
        "  input latency: mean {:.2} ms, max {:.2} ms over {inputs} key presses",
        input_total.as_secs_f64() * 1000.0 / inputs.max(1) as f64,
        input_max.as_secs_f64() * 1000.0
    );
    println!(
        "  CPU {cpu:.2} s over {wall:.2} s wall ({:.0}% of one core)",
        cpu / wall * 100.0
    );
    println!("  peak RSS {}", proc_field("/proc/self/status", "VmHWM:"));
}
