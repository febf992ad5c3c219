//! The real binary's terminal UI driven through tmux: grid, help, review, approve, plan edits, quit.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{RUNNABLE, corpus, workspace};

struct Tmux {
    session: String,
}

impl Tmux {
    fn start(cmd: &str, size: (u16, u16)) -> Tmux {
        let have = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(have, "tmux is required for this test (.ci/run installs it)");
        let session = format!("expanse-test-{}-{}", std::process::id(), rand_suffix());
        let ok = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &session,
                "-x",
                &size.0.to_string(),
                "-y",
                &size.1.to_string(),
                cmd,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux could not start");
        Tmux { session }
    }

    fn keys(&self, keys: &[&str]) {
        for k in keys {
            Command::new("tmux")
                .args(["send-keys", "-t", &self.session, k])
                .status()
                .unwrap();
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait until the screen satisfies `pred`; fail with the last screen after 30 s.
    fn wait(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        % 1_000_000
}

fn command(ws: &Path, extra: &str) -> String {
    command_with_env(ws, "", extra)
}

fn command_with_env(ws: &Path, env: &str, extra: &str) -> String {
    let bin: PathBuf = assert_cmd::cargo::cargo_bin("expanse");
    let corpus = corpus();
    format!(
        "cd {ws} && {env} {bin} run plans/p.md --offline --corpus {corpus} {extra}; echo EXPANSE-EXITED $?; sleep 30",
        ws = ws.display(),
        bin = bin.display(),
        corpus = corpus.display()
    )
}

#[test]
fn grid_help_review_approve_plan_edit_and_quit() {
    let ws = workspace(RUNNABLE);
    let t = Tmux::start(&command(ws.path(), "--only 1-4"), (160, 48));
    let grid = t.wait("four drafts", |s| s.contains("◆ 4 review"));
    assert!(
        grid.contains("EXPANSION 18: Multi-GPU Distributed Frameworks"),
        "{grid}"
    );
    // Four cards across at 160 columns, titled `PART N · <stem>`.
    let row = grid.lines().find(|l| l.contains("PART 1 ·")).unwrap();
    assert_eq!(row.matches("PART ").count(), 4, "{row}");
    assert!(
        row.contains("PART 1 · 00-deepspeed-zero-optimizer"),
        "{row}"
    );
    assert!(grid.contains("log · PART 1"), "{grid}");
    assert!(
        grid.contains("draft ready") && grid.contains("section 5/5"),
        "the selected runner's log streams: {grid}"
    );

    // Pause on a PART with a draft says there is nothing to pause.
    t.keys(&["p"]);
    t.wait("the pause notice", |s| {
        s.contains("PART 1 is awaiting review; there is nothing to pause")
    });

    t.keys(&["?"]);
    let help = t.wait("help", |s| s.contains("Keys · grid"));
    assert!(
        help.contains("pause / resume the selected runner"),
        "{help}"
    );
    t.keys(&["Escape"]);
    t.wait("help closed", |s| !s.contains("Keys · grid"));

    // `n` opens the selected card's new draft first, then the next one not yet opened.
    t.keys(&["n"]);
    t.wait("PART 1's review", |s| s.contains("review · PART 1"));
    t.keys(&["Escape", "n"]);
    let review = t.wait("the review screen", |s| {
        s.contains("review · PART 2") && s.contains("sections filled,")
    });
    assert!(
        review.contains("+ ## Section 1: Pipeline parallelism fundamentals"),
        "{review}"
    );
    t.keys(&["Tab"]);
    t.wait("the drop tab", |s| {
        s.contains("KNOWLEDGE DROP: pipeline-parallelism")
    });
    t.keys(&["a"]);
    t.wait("the approval question", |s| s.contains("Approve? y"));
    t.keys(&["y"]);
    t.wait("approval", |s| s.contains("✓ 1 approved"));
    let target = ws
        .path()
        .join("knowledge/karpathy/distributed-training/01-deepspeed-pipeline-parallelism.md");
    assert!(target.is_file());
    let plan = std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap();
    assert!(plan.contains("- [✓] PART 2: Create karpathy/distributed-training/01-deepspeed-pipeline-parallelism.md (Completed "));

    // Ticking a PART by hand in the plan shows it done.
    let edited = plan.replace(
        "- [ ] PART 3: Create karpathy/distributed-training/02-megatron-lm-tensor-parallelism.md",
        "- [x] PART 3: Create karpathy/distributed-training/02-megatron-lm-tensor-parallelism.md (by hand)",
    );
    std::fs::write(ws.path().join("plans/p.md"), edited).unwrap();
    t.wait("PART 3 done", |s| s.contains("✔ 1 done"));

    // Quit asks first (drafts await review), then leaves with the terminal restored.
    t.keys(&["q"]);
    t.wait("the quit prompt", |s| s.contains("Quit now? y / n"));
    t.keys(&["y"]);
    let after = t.wait("exit", |s| s.contains("EXPANSE-EXITED"));
    assert!(after.contains("EXPANSE-EXITED 0"), "{after}");
    assert!(after.contains("drafts awaiting review"), "{after}");
    assert!(
        !after.contains("PART 1 ·"),
        "the alternate screen is gone: {after}"
    );
}

#[test]
fn at_80x24_typed_text_writes_nothing_and_help_reaches_quit() {
    let ws = workspace(RUNNABLE);
    let t = Tmux::start(&command(ws.path(), "--only 1-2"), (80, 24));
    t.wait("two drafts", |s| s.contains("◆ 2 review"));
    let plan_before = std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap();
    t.keys(&["n"]);
    t.wait("the review screen", |s| {
        s.contains("review · PART 1") && s.contains("sections filled,")
    });
    // The keys of `/data` and `/ZeRO-3` include `a` (approve) and `e` (edit): typed into the
    // search, they are text.
    t.keys(&["/", "d", "a", "t", "a", "Enter"]);
    t.wait("the search", |s| s.contains("/data"));
    t.keys(&["/", "Z", "e", "R", "O", "-", "3", "Enter"]);
    let shown = t.wait("the second search", |s| s.contains("/ZeRO-3"));
    assert!(shown.contains("review · PART 1"), "{shown}");
    assert!(!shown.contains("Approve?"), "{shown}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap(),
        plan_before,
        "nothing was approved"
    );
    assert!(
        !ws.path().join("knowledge/karpathy").exists(),
        "nothing was written to the knowledge base"
    );
    t.keys(&["Escape", "Escape", "?", "End"]);
    let help = t.wait("the end of the help", |s| s.contains("quit: stop the run"));
    assert!(help.contains("Keys · grid"), "{help}");
    t.keys(&["Escape"]);
    let grid = t.wait("help closed", |s| !s.contains("Keys · grid"));
    let bar = grid.lines().last().unwrap_or("");
    assert!(bar.contains("? help") && bar.contains("q quit"), "{grid}");
    t.keys(&["q", "y"]);
    t.wait("exit", |s| s.contains("EXPANSE-EXITED 0"));
}

#[test]
fn a_tiny_terminal_shows_a_note_and_quits_cleanly() {
    let ws = workspace(RUNNABLE);
    let t = Tmux::start(&command(ws.path(), "--only 1"), (50, 12));
    t.wait("the size note", |s| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains("expanse needs a terminal of at least 60×16")
    });
    t.keys(&["q"]);
    t.wait("the quit prompt", |s| {
        s.contains("y / n") || s.contains("EXPANSE-EXITED")
    });
    t.keys(&["y"]);
    t.wait("exit", |s| s.contains("EXPANSE-EXITED 0"));
}

/// The pid of the expanse process running in the session's pane.
fn expanse_pid(t: &Tmux) -> String {
    let out = Command::new("tmux")
        .args(["display", "-p", "-t", &t.session, "#{pane_pid}"])
        .output()
        .unwrap();
    let shell = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let children = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
    String::from_utf8_lossy(&children.stdout)
        .lines()
        .next()
        .expect("expanse runs under the pane's shell")
        .to_string()
}

fn signal(pid: &str, name: &str) {
    assert!(
        Command::new("kill")
            .args([&format!("-{name}"), pid])
            .status()
            .unwrap()
            .success()
    );
}

#[test]
fn hangup_interrupt_and_quit_signals_restore_the_terminal_and_keep_drafts() {
    for sig in ["HUP", "INT", "QUIT"] {
        let ws = workspace(RUNNABLE);
        let t = Tmux::start(&command(ws.path(), "--only 1"), (100, 30));
        t.wait("a draft", |s| s.contains("◆ 1 review"));
        signal(&expanse_pid(&t), sig);
        let after = t.wait("exit", |s| s.contains("EXPANSE-EXITED"));
        // Interrupted, the terminal that started the run stops it and sums it up; hung up, it
        // leaves the run, which has nothing left to do and ends.
        let said = if sig == "HUP" {
            "every PART has settled (1 review): the run ends once no terminal is attached"
        } else {
            "1 draft awaiting review"
        };
        assert!(after.contains(said), "SIG{sig}: {after}");
        assert!(
            !after.contains("PART 1 ·"),
            "SIG{sig}: the alternate screen is gone: {after}"
        );
    }
}

#[test]
fn stop_and_continue_leave_the_terminal_usable_and_redraw() {
    let ws = workspace(RUNNABLE);
    let t = Tmux::start(&command(ws.path(), "--only 1"), (100, 30));
    t.wait("a draft", |s| s.contains("◆ 1 review"));
    let pid = expanse_pid(&t);
    signal(&pid, "TSTP");
    t.wait("the TUI gone while stopped", |s| !s.contains("PART 1 ·"));
    // The screen is restored just before the process stops itself: give the stop a moment.
    let stopped = || std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let mut state = stopped();
    for _ in 0..50 {
        if state.contains(") T ") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        state = stopped();
    }
    assert!(state.contains(") T "), "the process is stopped: {state}");
    signal(&pid, "CONT");
    t.wait("the TUI back", |s| {
        s.contains("PART 1 ·") && s.contains("? help")
    });
    // Ctrl-Z in the TUI does the same.
    t.keys(&["C-z"]);
    t.wait("stopped by Ctrl-Z", |s| !s.contains("PART 1 ·"));
    signal(&pid, "CONT");
    t.wait("back again", |s| s.contains("PART 1 ·"));
    t.keys(&["q", "y"]);
    t.wait("exit", |s| s.contains("EXPANSE-EXITED 0"));
}

#[test]
fn sigterm_restores_the_terminal_and_keeps_drafts() {
    let ws = workspace(RUNNABLE);
    let t = Tmux::start(&command(ws.path(), "--only 1-2"), (120, 40));
    t.wait("drafts", |s| s.contains("◆ 2 review"));
    let pid = expanse_pid(&t);
    signal(&pid, "TERM");
    let after = t.wait("exit", |s| s.contains("EXPANSE-EXITED"));
    assert!(after.contains("2 drafts awaiting review"), "{after}");
    assert!(
        !after.contains("PART 1 ·"),
        "the alternate screen is gone: {after}"
    );
    let status = Command::new(assert_cmd::cargo::cargo_bin("expanse"))
        .arg("--root")
        .arg(ws.path())
        .args(["status", "plans/p.md"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&status.stdout)
            .matches("review")
            .count(),
        2
    );
}

#[test]
fn the_editor_suspends_the_tui_and_the_edit_is_reviewed() {
    use std::os::unix::fs::PermissionsExt;
    let ws = workspace(RUNNABLE);
    let editor = ws.path().join("editor.sh");
    std::fs::write(&editor, "#!/bin/sh\nsed -i -e 's/^# DeepSpeed ZeRO Optimizer$/# DeepSpeed ZeRO Optimizer (edited)/' \"$1\"\n").unwrap();
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let env = format!("EDITOR={}", editor.display());
    let t = Tmux::start(&command_with_env(ws.path(), &env, "--only 1"), (120, 40));
    t.wait("a draft", |s| s.contains("◆ 1 review"));
    t.keys(&["n"]);
    t.wait("the review screen", |s| {
        s.contains("review · PART 1") && s.contains("sections filled,")
    });
    t.keys(&["e"]);
    let after = t.wait("the edited diff", |s| {
        s.contains("+ # DeepSpeed ZeRO Optimizer (edited)")
    });
    assert!(
        after.contains("review · PART 1"),
        "back in the review screen after the editor: {after}"
    );
    t.keys(&["a", "y"]);
    t.wait("approval", |s| s.contains("✓ 1 approved"));
    let file = std::fs::read_to_string(
        ws.path()
            .join("knowledge/karpathy/distributed-training/00-deepspeed-zero-optimizer.md"),
    )
    .unwrap();
    assert!(file.starts_with("# DeepSpeed ZeRO Optimizer (edited)\n"));
    t.keys(&["q"]);
    t.wait("exit", |s| s.contains("EXPANSE-EXITED 0"));
}

/// A SearXNG-compatible server on 127.0.0.1 answering each search after `delay`, with pages to
/// fetch; it records every query it was asked.
fn slow_searxng(delay: Duration) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::extract::{RawQuery, State};
    use axum::routing::get;
    let queries = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (listener, _) = common::listen();
    let port = listener.local_addr().unwrap().port();
    let seen = queries.clone();
    let app = axum::Router::new()
        .route(
            "/search",
            get(move |State(seen): State<std::sync::Arc<std::sync::Mutex<Vec<String>>>>, RawQuery(raw): RawQuery| async move {
                let url = reqwest::Url::parse(&format!("http://x/?{}", raw.unwrap_or_default())).unwrap();
                let query = url.query_pairs().find(|(k, _)| k == "q").map(|(_, v)| v.into_owned()).unwrap_or_default();
                seen.lock().unwrap().push(query.clone());
                tokio::time::sleep(delay).await;
                let slug: String = query.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
                let body = serde_json::json!({
                    "query": query,
                    "results": [{"url": format!("http://127.0.0.1:{port}/page/{slug}"), "title": query, "content": "a page"}]
                });
                ([(axum::http::header::CONTENT_TYPE, "application/json")], body.to_string())
            }),
        )
        .route(
            "/page/{slug}",
            get(|axum::extract::Path(slug): axum::extract::Path<String>| async move {
                axum::response::Html(format!(
                    "<html><head><title>{slug}</title></head><body><nav>Home | Docs</nav><main><h1>{slug}</h1>\
                     <p>The overview of {slug}: ZeRO partitions optimizer states, gradients and parameters across data parallel ranks, and pipeline parallelism splits layers into stages.</p>\
                     <p>Memory optimization breakdown for {slug}: mixed precision Adam keeps sixteen bytes per parameter before partitioning.</p></main></body></html>"
                ))
            }),
        )
        .with_state(seen);
    common::serve_in_thread(listener, app);
    (port, queries)
}

#[test]
fn pause_holds_one_runner_while_others_go_on_and_resume_repeats_nothing() {
    let (port, queries) = slow_searxng(Duration::from_millis(700));
    let ws = workspace(RUNNABLE);
    let bin = assert_cmd::cargo::cargo_bin("expanse");
    let cmd = format!(
        "cd {ws} && SEARXNG_URL=http://127.0.0.1:{port} EXPANSE_ALLOW_PRIVATE_URLS=1 {bin} run plans/p.md --only 1-2 --corpus /nonexistent-corpus; echo EXPANSE-EXITED $?; sleep 30",
        ws = ws.path().display(),
        bin = bin.display()
    );
    let t = Tmux::start(&cmd, (160, 48));
    t.wait("PART 1 searching", |s| {
        s.contains("⌕ searching") && s.contains("search 1/")
    });
    t.keys(&["p"]);
    t.wait("PART 1 paused", |s| s.contains("⏸ 1 paused"));
    let plan = expanse::plan::Plan::parse(RUNNABLE);
    let mine: Vec<String> = expanse::runner::planned_searches(plan.part(1).unwrap())
        .into_iter()
        .map(|s| s.query)
        .collect();
    let part1 = |q: &Vec<String>| q.iter().filter(|q| mine.contains(q)).count();
    let at_pause = part1(&queries.lock().unwrap());
    // PART 2 finishes while PART 1 stays paused, sending nothing new.
    let screen = t.wait("PART 2's draft", |s| s.contains("◆ 1 review"));
    assert!(screen.contains("⏸ 1 paused"), "{screen}");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        part1(&queries.lock().unwrap()),
        at_pause,
        "a paused runner starts no new request"
    );
    t.keys(&["p"]);
    t.wait("both drafts", |s| s.contains("◆ 2 review"));
    let all = queries.lock().unwrap().clone();
    let mut unique = all.clone();
    unique.sort();
    unique.dedup();
    // The search in flight when `p` was pressed is dropped and asked again; no other repeats.
    assert!(
        all.len() <= unique.len() + 1,
        "only the search in flight was sent again: {all:?}"
    );
    let distinct_mine = unique.iter().filter(|q| mine.contains(q)).count();
    assert_eq!(
        distinct_mine, 6,
        "five queries and one named target: {all:?}"
    );
    t.keys(&["q"]);
    t.wait("the quit prompt", |s| s.contains("Quit now? y / n"));
    t.keys(&["y"]);
    t.wait("exit", |s| s.contains("EXPANSE-EXITED 0"));
}

/// `expanse status --json` of the test plan.
fn status(ws: &Path) -> serde_json::Value {
    let out = Command::new(assert_cmd::cargo::cargo_bin("expanse"))
        .arg("--root")
        .arg(ws)
        .args(["status", "plans/p.md", "--json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The run's command line against a SearXNG on `port` that answers slowly.
fn slow_run(ws: &Path, port: u16, extra: &str) -> String {
    format!(
        "cd {ws} && SEARXNG_URL=http://127.0.0.1:{port} EXPANSE_ALLOW_PRIVATE_URLS=1 {bin} run plans/p.md --corpus /nonexistent-corpus {extra}; echo EXPANSE-EXITED $?; sleep 30",
        ws = ws.display(),
        bin = assert_cmd::cargo::cargo_bin("expanse").display()
    )
}

fn attach_command(ws: &Path) -> String {
    format!(
        "cd {ws} && {bin} attach; echo ATTACH-EXITED $?; sleep 30",
        ws = ws.display(),
        bin = assert_cmd::cargo::cargo_bin("expanse").display()
    )
}

#[test]
fn a_hang_up_mid_run_leaves_the_run_going_and_it_finishes() {
    let (port, _) = slow_searxng(Duration::from_millis(400));
    let ws = workspace(RUNNABLE);
    let t = Tmux::start(&slow_run(ws.path(), port, "--only 1-2"), (120, 40));
    t.wait("searching", |s| s.contains("⌕ ") && s.contains("search 1/"));
    let client = expanse_pid(&t);
    signal(&client, "HUP");
    // The screen is given back at once; the run is a process of its own and goes on.
    let after = t.wait("the client gone", |s| s.contains("EXPANSE-EXITED 0"));
    assert!(
        after.contains("detached; the run goes on in process"),
        "{after}"
    );
    let live = status(ws.path());
    let server = live["live"]["pid"].as_str().unwrap_or_default().to_string();
    assert!(
        !server.is_empty() && server != client,
        "the run outlives its terminal: {live}"
    );
    // It finishes its PARTs on its own and then ends.
    let start = Instant::now();
    while status(ws.path())["live"].is_object() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run never ended"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let text = Command::new(assert_cmd::cargo::cargo_bin("expanse"))
        .arg("--root")
        .arg(ws.path())
        .args(["status", "plans/p.md"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&text.stdout)
            .matches("review")
            .count(),
        2,
        "both drafts written with nobody attached"
    );
}

#[test]
fn detach_leaves_the_run_going_two_clients_see_one_approval_and_a_killed_run_is_said() {
    let (port, _) = slow_searxng(Duration::from_millis(300));
    let ws = workspace(RUNNABLE);
    let owner = Tmux::start(&slow_run(ws.path(), port, "--only 1-2"), (120, 40));
    owner.wait("searching", |s| s.contains("search 1/"));
    let other = Tmux::start(&attach_command(ws.path()), (100, 30));
    other.wait("attached", |s| {
        s.contains("PART 1 ·") && s.contains("attached to the run of plans/p.md")
    });
    assert_eq!(status(ws.path())["live"]["clients"], 2);

    // q asks while runners work; d leaves the run going.
    owner.keys(&["q"]);
    owner.wait("the question", |s| {
        s.contains("Stop the run? y stop · d leave running · n stay")
    });
    owner.keys(&["d"]);
    let after = owner.wait("detached", |s| s.contains("EXPANSE-EXITED 0"));
    assert!(
        after.contains("detached; the run goes on in process"),
        "{after}"
    );
    other.wait("both drafts, written after the detach", |s| {
        s.contains("◆ 2 review")
    });

    // A third terminal attaches; an approval in one is seen by the other.
    let third = Tmux::start(&attach_command(ws.path()), (100, 30));
    third.wait("attached", |s| s.contains("◆ 2 review"));
    other.keys(&["n"]);
    other.wait("PART 1's review", |s| s.contains("review · PART 1"));
    other.keys(&["a"]);
    other.wait("the approval question", |s| s.contains("Approve? y"));
    other.keys(&["y"]);
    other.wait("approved here", |s| s.contains("✓ 1 approved"));
    third.wait("approved there too", |s| s.contains("✓ 1 approved"));
    assert!(
        ws.path()
            .join("knowledge/karpathy/distributed-training/00-deepspeed-zero-optimizer.md")
            .is_file()
    );

    // kill -9 of a client changes nothing for the run.
    let server = status(ws.path())["live"]["pid"]
        .as_str()
        .unwrap()
        .to_string();
    signal(&expanse_pid(&third), "KILL");
    let start = Instant::now();
    while status(ws.path())["live"]["clients"] != 1 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the run never saw the client go"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status(ws.path())["live"]["pid"], server.as_str());

    // kill -9 of the run: its client says the run ended, and nothing approved is lost.
    signal(&server, "KILL");
    other.wait("the run ended", |s| {
        s.contains("ended without a word (killed?)")
    });
    other.keys(&["q"]);
    let after = other.wait("closed", |s| s.contains("ATTACH-EXITED"));
    assert!(
        after.contains("ended without a summary (killed?)"),
        "{after}"
    );
    let plan = std::fs::read_to_string(ws.path().join("plans/p.md")).unwrap();
    assert!(plan.contains("- [✓] PART 1: Create"), "{plan}");
    // The socket it left is found stale by the next attach, and removed.
    let sock = std::fs::read_dir(ws.path().join(".expanse/plans"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("run.sock"))
        .find(|p| p.exists())
        .expect("a killed run leaves its socket");
    common::attach_finds_the_socket_stale(ws.path(), &sock);
}
