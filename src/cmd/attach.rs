//! `expanse attach [PLAN]` opens the terminal UI on a run that is live in another process (a
//! `run --headless`, or a terminal UI elsewhere), through its socket; `expanse stop PLAN` ends a
//! live run cleanly, as quitting it would.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use expanse::journal::Journal;
use expanse::knowledge::lock;
use expanse::runner::Command;
use expanse::runner::live::{self, Hello};
use expanse::tui::Ending;
use expanse::workspace::Workspace;

/// Arguments of `expanse attach`.
#[derive(clap::Args)]
pub struct Args {
    /// The plan whose run to attach to (default: the one live run of the workspace).
    plan: Option<PathBuf>,
}

/// Arguments of `expanse stop`.
#[derive(clap::Args)]
pub struct StopArgs {
    /// The plan whose run to stop.
    plan: PathBuf,
}

impl Args {
    /// The plan's path as given, if one was.
    pub fn plan_mut(&mut self) -> Option<&mut PathBuf> {
        self.plan.as_mut()
    }
}

impl StopArgs {
    /// The plan's path as given.
    pub fn plan_mut(&mut self) -> &mut PathBuf {
        &mut self.plan
    }
}

/// The live runs of the workspace: (state folder, what the run says of itself).
fn live_runs(ws: &Workspace) -> Vec<(PathBuf, Hello)> {
    let Ok(entries) = std::fs::read_dir(ws.state().join("plans")) else {
        return Vec::new();
    };
    let mut out: Vec<(PathBuf, Hello)> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|dir| is_live(dir).is_some())
        .filter_map(|dir| live::info(&dir).map(|h| (dir, h)))
        .collect();
    out.sort_by(|a, b| a.1.since.cmp(&b.1.since));
    out
}

/// The pid of the run holding the plan's run lock, if one is live (as its holder wrote it in the
/// lock file). Only looks: taking the lock to see would write this process's pid into it.
pub(crate) fn is_live(dir: &Path) -> Option<String> {
    let lock_file = dir.join("run.lock");
    if !lock::run_is_live(&lock_file) {
        return None;
    }
    let pid = std::fs::read_to_string(&lock_file).unwrap_or_default();
    Some(pid.trim().to_string())
}

/// Remove the socket and `live.json` a crashed run left (no run holds the lock).
fn remove_stale(dir: &Path) {
    let _ = std::fs::remove_file(live::socket_path(dir));
    let _ = std::fs::remove_file(live::info_path(dir));
}

/// How the plan's PARTs stood when its last run ended (", it ended with 15 review, 1 approved"),
/// or nothing when it never ran.
fn last_state(dir: &Path) -> String {
    let records = expanse::journal::read_records(&dir.join("journal.jsonl")).unwrap_or_default();
    let statuses = expanse::journal::replay(&records);
    let list = expanse::state::tally(statuses.values().filter_map(|s| s.state));
    if list.is_empty() {
        return String::new();
    }
    format!(" (its last run left {list})")
}

/// The state folder of the plan to act on, or why there is none (said on stderr).
fn pick(ws: &Workspace, plan: Option<&Path>) -> Option<(PathBuf, PathBuf)> {
    if let Some(plan) = plan {
        let plan_path = ws.resolve(plan);
        if !plan_path.is_file() {
            eprintln!(
                "expanse: {} is not a plan file (looked for {})",
                plan.display(),
                plan_path.display()
            );
            return None;
        }
        let dir = ws.journal_dir(&plan_path);
        if is_live(&dir).is_none() {
            remove_stale(&dir);
            eprintln!(
                "expanse: no run of {} is live{}; start one with `expanse run {}` (add --headless to run it without a terminal), or review its drafts with `expanse review {}`",
                plan.display(),
                last_state(&dir),
                plan.display(),
                plan.display()
            );
            return None;
        }
        return Some((dir, plan_path));
    }
    let runs = live_runs(ws);
    match runs.as_slice() {
        [] => {
            eprintln!(
                "expanse: no run is live in {}; start one with `expanse run PLAN`",
                ws.root.display()
            );
            None
        }
        [(dir, hello)] => Some((dir.clone(), hello.plan.clone())),
        many => {
            eprintln!("expanse: {} runs are live; name the plan:", many.len());
            for (_, h) in many {
                eprintln!(
                    "  expanse attach {}   (process {}, since {})",
                    h.plan.display(),
                    h.pid,
                    h.since
                );
            }
            None
        }
    }
}

/// Run `expanse attach`.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let ws = Workspace::new(root);
    let Some((dir, plan_path)) = pick(&ws, args.plan.as_deref()) else {
        return Ok(ExitCode::FAILURE);
    };
    let config = expanse::config::Config::load(&ws.root)?;
    open(
        &ws,
        &dir,
        &plan_path,
        false,
        None,
        &config,
        keymap(&config)?,
    )
}

/// Open the terminal UI on the live run of the plan whose state folder is `dir`, then say what
/// became of the run. `owner`: this terminal started it (Ctrl-C and SIGTERM stop it; elsewhere
/// they only close the screen). `lead`: what to say first, in place of "attached to …".
pub(crate) fn open(
    ws: &Workspace,
    dir: &Path,
    plan_path: &Path,
    owner: bool,
    lead: Option<String>,
    config: &expanse::config::Config,
    keymap: expanse::tui::keymap::Keymap,
) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let client = match rt.block_on(live::connect(dir)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("expanse: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let journal = Arc::new(Journal::open(dir)?);
    let shown = plan_path
        .strip_prefix(&ws.root)
        .unwrap_or(plan_path)
        .display()
        .to_string();
    let hello = client.hello.clone();
    let pid = hello.pid;
    // The first line said is the one left in the key bar: the run's own first line (the corpus)
    // for the terminal that started it, who this is attached to for any other.
    let mut startup = hello.facts.startup.clone();
    if !owner {
        startup.insert(
            0,
            lead.unwrap_or_else(|| {
                // A run that settled before this terminal came said so then: said again here.
                let (working, counts) = so_far(&journal, plan_path, &hello);
                let settled = if working == 0 && !counts.is_empty() {
                    format!(": every PART has settled ({counts})")
                } else {
                    String::new()
                };
                format!(
                    "attached to the run of {shown} (process {pid}){settled}; d leaves it running, q stops it"
                )
            }),
        );
    }
    let tui = expanse::tui::TuiOptions {
        keymap,
        no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
        terminal_notify: config.notify.terminal.unwrap_or(true),
        owner,
        plan_shown: shown.clone(),
        confirm_approve: config.review.confirm_approve.unwrap_or(true),
        startup,
        estimate: hello.facts.estimate,
    };
    let closed = match rt.block_on(expanse::tui::attach(
        ws.clone(),
        plan_path.to_path_buf(),
        journal.clone(),
        client,
        tui,
    )) {
        Ok(c) => c,
        Err(e) => {
            // The screen failed, not the run: say where it is.
            eprintln!(
                "expanse: the run goes on in process {pid}: `expanse attach {shown}` comes back to it, `expanse stop {shown}` ends it"
            );
            return Err(e).context("the terminal UI failed");
        }
    };
    let review = super::said::review_command(&ws.root, &shown);
    match closed.ending {
        Ending::Stop => {
            eprintln!(
                "expanse: stopping the run (process {pid}); its runners journal what they did …"
            );
            let (mut events, _connected) = (closed.events, closed.commands);
            if !rt.block_on(ended_in_time(&mut events)) {
                not_ended(pid);
                return Ok(ExitCode::FAILURE);
            }
            Ok(ended_report(dir, pid, &review))
        }
        Ending::RunEnded => Ok(ended_report(dir, pid, &review)),
        Ending::Detach | Ending::HungUp => {
            // After a hang-up the terminal may be gone: said where it still can be.
            let (working, counts) = so_far(&journal, plan_path, &hello);
            if working > 0 {
                note!(
                    "expanse: detached; the run goes on in process {pid} ({counts}): `expanse attach {shown}` comes back to it, `expanse stop {shown}` ends it"
                );
            } else {
                note!(
                    "expanse: detached; every PART has settled ({counts}): the run ends once no terminal is attached, its drafts wait for `{review}` or `expanse run {shown}`"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// How long a stopped run may take to journal what its runners did and end.
const STOP_WITHIN: Duration = Duration::from_secs(60);

/// Whether the run asked to stop closed its socket (its runners' work journalled) in time.
async fn ended_in_time(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<expanse::runner::Event>,
) -> bool {
    tokio::time::timeout(STOP_WITHIN, async {
        while events.recv().await.is_some() {}
    })
    .await
    .is_ok()
}

/// Say that process `pid` was asked to stop and has not ended.
fn not_ended(pid: u32) {
    eprintln!(
        "expanse: process {pid} was asked to stop and has not ended within {} s; `kill {pid}` ends it (the journal keeps what it did)",
        STOP_WITHIN.as_secs()
    );
}

/// What the run of process `pid` said as it ended (its summary; exit status 1 when a PART
/// failed), or that it ended without a word.
fn ended_report(dir: &Path, pid: u32, review: &str) -> ExitCode {
    match live::ended_summary(dir, pid) {
        Some(summary) => super::said::report(&summary, review),
        None => {
            note!(
                "expanse: the run (process {pid}) ended without a summary (killed?){}; its journal keeps what it did",
                last_state(dir)
            );
            ExitCode::FAILURE
        }
    }
}

/// Runners still working (or queued) in the run's PARTs, and how the PARTs stand
/// ("1 review, 2 searching"). The run's PARTs are the plan's (within its `--only`); one the run
/// has said nothing of since it began (`since`) still has its work ahead.
fn so_far(journal: &Journal, plan_path: &Path, hello: &Hello) -> (usize, String) {
    let records = journal.records().unwrap_or_default();
    let plan = std::fs::read_to_string(plan_path)
        .map(|text| expanse::plan::Plan::parse(&text))
        .ok();
    let statuses = expanse::journal::replay(&records);
    let only = hello.facts.only.as_ref();
    let selected: Vec<u32> = match &plan {
        Some(p) => p.parts.iter().map(|p| p.number).collect::<Vec<_>>(),
        None => statuses.keys().copied().collect(),
    }
    .into_iter()
    .filter(|n| only.is_none_or(|o| o.contains(n)))
    .collect();
    let since = expanse::state::moment(&hello.since);
    let mut said_now = std::collections::BTreeSet::new();
    for r in &records {
        if let expanse::journal::Record::State { ts, part, .. } = r
            && since.is_some()
            && expanse::state::moment(ts) >= since
        {
            said_now.insert(*part);
        }
    }
    let mut working = 0;
    let mut states = Vec::new();
    for n in selected {
        let status = statuses.get(&n);
        if let Some(state) = status.and_then(|s| s.state) {
            states.push(state);
        }
        // A PART the budget paused waits for a person, as a settled one does.
        let resting = status.is_some_and(|s| {
            s.state
                .is_some_and(|st| expanse::state::waits_for_a_person(st, s.budget_paused))
        });
        if !resting || !said_now.contains(&n) {
            working += 1;
        }
    }
    (working, expanse::state::tally(states))
}

/// Run `expanse stop`.
pub fn stop(root: &Path, args: &StopArgs) -> anyhow::Result<ExitCode> {
    let ws = Workspace::new(root);
    let Some((dir, _)) = pick(&ws, Some(&args.plan)) else {
        return Ok(ExitCode::FAILURE);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let stopped = rt.block_on(async {
        let mut client = live::connect(&dir).await?;
        let pid = client.hello.pid;
        let _ = client.commands.send(Command::Shutdown).await;
        // The run closes the socket once its runners have journalled what they did.
        let ended = ended_in_time(&mut client.events).await;
        Ok::<_, live::AttachError>((pid, ended))
    });
    match stopped {
        Ok((pid, true)) => {
            println!(
                "the run of {} (process {pid}) stopped; what it did is journalled, and the next run goes on from there",
                args.plan.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok((pid, false)) => {
            not_ended(pid);
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("expanse: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The default keys with expanse.toml's `[keys]` table (action = "key") applied.
pub(crate) fn keymap(
    config: &expanse::config::Config,
) -> anyhow::Result<expanse::tui::keymap::Keymap> {
    use expanse::tui::keymap::{Action, Keymap};
    let mut overrides = std::collections::HashMap::new();
    for (action, key) in &config.keys {
        let parsed: Action = toml::Value::String(action.clone()).try_into().map_err(|_| {
            anyhow::anyhow!(
                "expanse.toml: [keys] has no action \"{action}\"; actions are named as in the ? help, e.g. pause, pause_all, approve, reject, quit"
            )
        })?;
        overrides.insert(parsed, key.clone());
    }
    let km = Keymap::with_overrides(&overrides).context("expanse.toml: [keys]")?;
    // Said before the screen is taken: a rebinding that takes a key from another action.
    for line in km.taken_keys(&overrides) {
        eprintln!("expanse: warning: {line}");
    }
    Ok(km)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaving_counts_the_plans_parts_the_run_has_spoken_of_and_a_budget_pause_as_resting() {
        let dir = tempfile::tempdir().unwrap();
        let plan = dir.path().join("plan.md");
        let mut text = String::from("# Plan\n\n");
        for n in 1..=3 {
            text.push_str(&format!(
                "### PART {n}: Create a/{n}.md\n\n- [ ] PART {n}: Create a/{n}.md\n\n"
            ));
        }
        std::fs::write(&plan, text).unwrap();
        let line = |minute: u32, part: u32, state: &str, cause: &str| {
            format!(
                r#"{{"type":"state","ts":"2026-12-04T19:{minute:02}:00.000+00:00","part":{part},"state":"{state}"{cause}}}"#
            )
        };
        let hello = Hello {
            expanse: 1,
            pid: 1,
            plan: plan.clone(),
            since: "2026-12-04T19:10:00.000+00:00".into(),
            clients: 1,
            facts: Default::default(),
        };
        let write = |lines: &[String]| {
            let mut j = lines.join("\n");
            j.push('\n');
            std::fs::write(dir.path().join("journal.jsonl"), j).unwrap();
        };
        // An earlier run left every PART in review, and a PART no longer in the plan working.
        let mut lines = vec![
            line(1, 1, "review", ""),
            line(1, 2, "review", ""),
            line(1, 3, "review", ""),
            line(1, 9, "writing", ""),
        ];
        write(&lines);
        assert_eq!(
            so_far(&Journal::open(dir.path()).unwrap(), &plan, &hello).0,
            3,
            "this run has said nothing yet: its PARTs have their work ahead"
        );
        lines.extend([
            line(11, 1, "review", ""),
            line(11, 2, "paused", r#","cause":"budget""#),
            line(11, 3, "review", ""),
        ]);
        write(&lines);
        assert_eq!(
            so_far(&Journal::open(dir.path()).unwrap(), &plan, &hello),
            (0, "1 paused, 2 review".into()),
            "a budget's pause rests; PART 9 is not the plan's"
        );
        lines.push(line(12, 3, "paused", ""));
        write(&lines);
        assert_eq!(
            so_far(&Journal::open(dir.path()).unwrap(), &plan, &hello).0,
            1,
            "a person's pause waits for a resume in the run"
        );
    }
}
