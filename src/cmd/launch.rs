//! `expanse run PLAN` in a terminal: the run becomes a process of its own (`run --serve`, in a
//! session of its own, so a closed terminal does not end it) and this terminal its first client.

use std::io::{BufRead as _, Write as _};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use expanse::config::Config;
use expanse::runner::live;
use expanse::workspace::Workspace;

/// Start the plan's run as a process of its own and open the terminal UI on it; a run of the
/// plan already live is attached to instead (`shaped`: options that shape a run were given,
/// which a live run does not take).
pub fn launch(
    ws: &Workspace,
    mut server: std::process::Command,
    plan_path: &Path,
    shown: &str,
    config: &Config,
    shaped: bool,
) -> anyhow::Result<ExitCode> {
    let dir = ws.journal_dir(plan_path);
    // A bad [keys] is said before anything starts.
    let keymap = super::attach::keymap(config)?;
    if let Some(pid) = super::attach::is_live(&dir)
        && listening(&dir, &pid, shown)?
    {
        let stand = if shaped {
            " (its own options stand; those given here apply to the next run)"
        } else {
            ""
        };
        let lead = format!(
            "a run of {shown} was already live (process {pid}); this terminal attached to it{stand}"
        );
        return super::attach::open(ws, &dir, plan_path, false, Some(lead), config, keymap);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let log_path = dir.join("run.log");
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;
    let mut child = server
        .stderr(log)
        .spawn()
        .context("cannot start the run's process")?;
    // The run's own lines (the corpus being indexed, the providers) are said here while it
    // starts; a run that cannot start says why and ends.
    let mut said = std::io::BufReader::new(
        std::fs::File::open(&log_path)
            .with_context(|| format!("cannot read {}", log_path.display()))?,
    );
    let echo = |said: &mut std::io::BufReader<std::fs::File>| {
        let mut line = String::new();
        while said.read_line(&mut line).unwrap_or(0) > 0 {
            let _ = std::io::stderr().write_all(line.as_bytes());
            line.clear();
        }
    };
    loop {
        echo(&mut said);
        if let Some(status) = child.try_wait()? {
            echo(&mut said);
            eprintln!(
                "expanse: the run could not start (its process ended: {status}); what it said is above and in {}",
                log_path.display()
            );
            return Ok(ExitCode::FAILURE);
        }
        if live::info(&dir).is_some_and(|h| h.pid == child.id()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let code = super::attach::open(ws, &dir, plan_path, true, None, config, keymap)?;
    // Reaped once it has ended; a run left going is the init process's to reap.
    let _ = child.try_wait();
    Ok(code)
}

/// How long `run` waits for a live run of the plan to listen (it may be indexing its corpus).
const LISTEN_WITHIN: Duration = Duration::from_secs(120);

/// Whether the live run `pid` of the plan whose state folder is `dir` listens (waiting while it
/// starts); false when it ended meanwhile (a new run may start); an error when it holds the plan
/// but never listens.
fn listening(dir: &Path, pid: &str, shown: &str) -> anyhow::Result<bool> {
    let start = std::time::Instant::now();
    let mut said = false;
    while live::info(dir).is_none() {
        if super::attach::is_live(dir).is_none() {
            return Ok(false);
        }
        if !said {
            eprintln!("expanse: a run of {shown} is starting (process {pid}); waiting for it …");
            said = true;
        }
        if start.elapsed() > LISTEN_WITHIN {
            anyhow::bail!(
                "process {pid} runs {shown} but has not listened on its socket within {} s; `expanse status {shown}` shows it, `kill {pid}` ends it (the journal keeps what it did)",
                LISTEN_WITHIN.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(true)
}
