//! A live run's socket: what a keystroke costs through it (a command from an attached client
//! until the run has it) against the in-process channel the run's own terminal uses, and what
//! serving 0, 1 and 3 clients costs the run under a flood of events (the CPU time of the whole
//! process while 200,000 events are published at up to 500 a millisecond and, with clients,
//! written to the socket for clients in processes of their own).
//!
//! Run: `cargo bench --bench live` (plain main: one run is the figure).

use std::time::{Duration, Instant};

use expanse::runner::live::{Live, connect};
use expanse::runner::{Command, Event, Level, Target};
use tokio::sync::mpsc;

const KEYS: usize = 2_000;
const FLOOD: usize = 200_000;

/// CPU time (user + system) of this process so far, every thread.
fn cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn percentile(mut v: Vec<Duration>, p: f64) -> Duration {
    v.sort();
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // A client of its own process (so the run's CPU is the run's): read until the run drops it.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--client") {
        let dir = std::path::PathBuf::from(&args[i + 1]);
        let mut c = connect(&dir).await.unwrap();
        let mut got = 0usize;
        while let Ok(Some(_)) =
            tokio::time::timeout(Duration::from_millis(1500), c.events.recv()).await
        {
            got += 1;
        }
        println!("{got}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();

    // In process: a command on the channel until the run's loop has it.
    let (tx, mut rx) = mpsc::channel::<Command>(64);
    let mut local = Vec::with_capacity(KEYS);
    for _ in 0..KEYS {
        let t = Instant::now();
        tx.send(Command::Pause(Target::Part(1))).await.unwrap();
        rx.recv().await.unwrap();
        local.push(t.elapsed());
    }

    // Through the socket.
    let (tx, mut rx) = mpsc::channel::<Command>(64);
    let live = Live::serve(
        dir.path(),
        std::path::Path::new("/p.md"),
        tx,
        Default::default(),
    )
    .unwrap();
    let client = connect(dir.path()).await.unwrap();
    let mut socket = Vec::with_capacity(KEYS);
    for _ in 0..KEYS {
        let t = Instant::now();
        client
            .commands
            .send(Command::Pause(Target::Part(1)))
            .await
            .unwrap();
        rx.recv().await.unwrap();
        socket.push(t.elapsed());
    }
    drop(client);
    println!("| a command until the run has it | median | p99 |");
    println!("|---|---|---|");
    println!(
        "| in process (the run's own terminal) | {:?} | {:?} |",
        percentile(local.clone(), 0.5),
        percentile(local, 0.99)
    );
    println!(
        "| through the socket (an attached client) | {:?} | {:?} |",
        percentile(socket.clone(), 0.5),
        percentile(socket, 0.99)
    );

    println!();
    println!(
        "| clients | {FLOOD} events published: wall | process CPU | events each client read |"
    );
    println!("|---|---|---|---|");
    for n in [0usize, 1, 3] {
        let mut readers = Vec::new();
        for _ in 0..n {
            readers.push(
                std::process::Command::new(std::env::current_exe().unwrap())
                    .args(["--client", dir.path().to_str().unwrap()])
                    .stdout(std::process::Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
        }
        // Every client attached before the flood.
        while expanse::runner::live::info(dir.path()).map(|h| h.clients) != Some(n) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let (wall, cpu0) = (Instant::now(), cpu());
        for i in 0..FLOOD {
            live.publish(&Event::log(
                Some(1 + (i % 16) as u32),
                Level::Info,
                "section 2/5 \"Stages\": 1,234 tokens so far",
            ));
            // 500 events a millisecond at most: far above what a run sends (its progress is
            // sampled), yet paced as a run's events are.
            if i % 500 == 499 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let published = wall.elapsed();
        let spent = cpu() - cpu0;
        let mut got = Vec::new();
        for r in readers {
            let out = r.wait_with_output().unwrap();
            got.push(String::from_utf8_lossy(&out.stdout).trim().to_string());
        }
        println!(
            "| {n} | {:.0} ms | {:.0} ms | {} |",
            published.as_secs_f64() * 1000.0,
            spent.as_secs_f64() * 1000.0,
            if got.is_empty() {
                "-".to_string()
            } else {
                got.join(", ")
            }
        );
    }
}
