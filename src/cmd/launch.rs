//! `expanse run PLAN` in a terminal: the run becomes a process of its own (`run --serve`, in a
//! session of its own, so a closed terminal does not end it) and this terminal its first client.
//! Also how long a served run lives: while a client is attached, or until every PART settles.

use std::io::{BufRead as _, Write as _};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use expanse::config::Config;
use expanse::runner::Command;
use expanse::runner::live;
use expanse::workspace::Workspace;
use tokio::sync::{mpsc, watch};

/// How long a served run waits for the terminal that started it before it starts without it
/// (and ends once every PART settles).
const FIRST_CLIENT_WITHIN: Duration = Duration::from_secs(30);

/// Wait for a served run's first client (the terminal that started it): true when it came,
/// false when none came within [`FIRST_CLIENT_WITHIN`].
pub async fn first_client(mut clients: watch::Receiver<usize>) -> bool {
    let came = clients.wait_for(|n| *n > 0);
    match tokio::time::timeout(FIRST_CLIENT_WITHIN, came).await {
        Ok(Ok(_)) => true,
        _ => {
            tracing::warn!(
                "no terminal attached to the served run; it runs and ends once every PART settles"
            );
            false
        }
    }
}

/// A live run's lifetime: it stays while a client is attached (a person may be reviewing) and
/// ends once every PART has settled with nobody attached.
pub struct Lifetime {
    clients: watch::Receiver<usize>,
    commands: mpsc::Sender<Command>,
}

impl Lifetime {
    /// Follow `clients` for the run whose commands go to `commands`.
    pub fn new(clients: watch::Receiver<usize>, commands: mpsc::Sender<Command>) -> Lifetime {
        Lifetime { clients, commands }
    }

    /// Wait for the next change and tell the run; never returns without a lifetime (no socket).
    pub async fn next(this: &mut Option<Lifetime>) {
        let Some(l) = this else {
            return std::future::pending().await;
        };
        if l.clients.changed().await.is_err() {
            // The socket is gone: nothing more to follow.
            *this = None;
            return;
        }
        let command = if *l.clients.borrow_and_update() > 0 {
            Command::StayWhenSettled
        } else {
            Command::EndWhenSettled
        };
        let _ = l.commands.send(command).await;
    }
}

/// Start the plan's run as a process of its own and open the terminal UI on it; a run of the
/// plan already live is attached to instead.
pub fn launch(
    ws: &Workspace,
    args: &super::run::Args,
    plan_path: &Path,
    shown: &str,
    config: &Config,
) -> anyhow::Result<ExitCode> {
    let dir = ws.journal_dir(plan_path);
    if let Some(pid) = super::attach::is_live(&dir) {
        let lead = format!(
            "a run of {shown} was already live (process {pid}); this terminal attached to it"
        );
        return super::attach::open(ws, &dir, plan_path, false, Some(lead), config);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let log_path = dir.join("run.log");
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;
    let mut child = server_command(ws, args)?
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
                "expanse: the run ended before it could be attached to ({status}); what it said is in {}",
                log_path.display()
            );
            return Ok(ExitCode::FAILURE);
        }
        if live::info(&dir).is_some_and(|h| h.pid == child.id()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let code = super::attach::open(ws, &dir, plan_path, true, None, config)?;
    // Reaped once it has ended; a run left going is the init process's to reap.
    let _ = child.try_wait();
    Ok(code)
}

/// `expanse run PLAN --serve` with this run's options, detached from the terminal.
fn server_command(
    ws: &Workspace,
    args: &super::run::Args,
) -> anyhow::Result<std::process::Command> {
    let exe = std::env::current_exe().context("cannot find the expanse program to start")?;
    let mut c = std::process::Command::new(exe);
    c.arg("--root")
        .arg(&ws.root)
        .arg("run")
        .arg(&args.plan)
        .arg("--serve")
        .arg("--stall-after")
        .arg(args.stall_after.to_string());
    if let Some(j) = args.jobs {
        c.arg("--jobs").arg(j.to_string());
    }
    if let Some(only) = &args.only {
        let list: Vec<String> = only.iter().map(u32::to_string).collect();
        c.arg("--only").arg(list.join(","));
    }
    for (on, flag) in [
        (args.offline, "--offline"),
        (args.redo, "--redo"),
        (args.approve_all, "--approve-all"),
    ] {
        if on {
            c.arg(flag);
        }
    }
    if let Some(corpus) = &args.corpus {
        c.arg("--corpus").arg(corpus);
    }
    if let Some(t) = args.budget_tokens {
        c.arg("--budget-tokens").arg(t.to_string());
    }
    if let Some(u) = args.budget_usd {
        c.arg("--budget-usd").arg(u.to_string());
    }
    c.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null());
    {
        use std::os::unix::process::CommandExt as _;
        // SAFETY: between fork and exec only setsid runs, which is async-signal-safe and
        // touches no memory of the parent. A session of its own: no controlling terminal, so
        // the terminal's hang-up never reaches the run.
        unsafe {
            c.pre_exec(|| {
                if libc::setsid() == -1 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    Ok(c)
}
