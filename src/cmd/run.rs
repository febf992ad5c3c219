//! `expanse run`: start the supervisor on a plan and follow it (headless: one line per event).

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use super::said::{report, review_command, summary_line};
use anyhow::Context as _;
use expanse::journal::{Cache, Journal};
use expanse::review::Review;
use expanse::runner::budget::{Limits, Prices};
use expanse::runner::{self, Event, Level, RunContext, RunOptions, RunnerState, What};
use expanse::workspace::{Workspace, parse_only};
use tokio::sync::mpsc;

/// Arguments of `expanse run`.
#[derive(clap::Args)]
pub struct Args {
    /// The plan to run (markdown), relative to --root.
    pub(crate) plan: PathBuf,
    /// Print one line per event instead of opening the terminal UI.
    #[arg(long)]
    pub(crate) headless: bool,
    /// With --headless, print events as JSON lines; with --dry-run, the estimate as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Say what the run would ask (searches, pages, model requests, tokens and, with prices,
    /// dollars) and send nothing anywhere.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// How many runners work at once (default: every selected PART, at most 64).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) jobs: Option<u32>,
    /// Run only these PARTs, e.g. 1,3-5.
    #[arg(long, value_name = "LIST", value_parser = parse_only_arg)]
    pub(crate) only: Option<std::collections::BTreeSet<u32>>,
    /// Use the embedded offline providers (local corpus, extractive writer) whatever is configured.
    #[arg(long)]
    pub(crate) offline: bool,
    /// Run PARTs the plan already marks done (their diff is then against the existing file).
    #[arg(long)]
    pub(crate) redo: bool,
    /// Approve, as they arrive, the drafts whose checklist is clean (for unattended runs).
    #[arg(long)]
    pub(crate) approve_all: bool,
    /// The corpus folder for offline search (default: the demo corpus built into expanse).
    #[arg(long, value_name = "DIR")]
    pub(crate) corpus: Option<PathBuf>,
    /// Report an active runner as stalled after this many seconds without progress.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub(crate) stall_after: u64,
    /// Stop new model requests once the plan has used this many tokens (all runs counted);
    /// PARTs that still need the model pause, nothing is lost (overrides [budget] tokens).
    #[arg(long, value_name = "N")]
    pub(crate) budget_tokens: Option<u64>,
    /// Stop new model requests once the plan has cost this many dollars (needs [model]
    /// price_input_per_mtok and price_output_per_mtok; overrides [budget] usd).
    #[arg(long, value_name = "USD")]
    pub(crate) budget_usd: Option<f64>,
    /// The run's own process behind a terminal UI (`expanse run` starts it; not for typing):
    /// headless, served on the plan's socket, its stdout unused, the cost already confirmed.
    #[arg(long, hide = true)]
    pub(crate) serve: bool,
}

impl Args {
    /// The headless run that rewrites PART `part` after `review --regenerate`.
    pub fn regenerate(plan: PathBuf, part: u32) -> Args {
        Args {
            plan,
            headless: true,
            json: false,
            jobs: None,
            only: Some([part].into()),
            offline: false,
            redo: false,
            approve_all: false,
            corpus: None,
            stall_after: 60,
            budget_tokens: None,
            budget_usd: None,
            dry_run: false,
            serve: false,
        }
    }
}

fn parse_only_arg(s: &str) -> Result<std::collections::BTreeSet<u32>, String> {
    parse_only(s).map_err(|e| e.to_string())
}

/// Run the command.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    run_holding(root, args, None)
}

/// [`run`] with the plan's run lock already taken (`review --regenerate` takes it before it
/// records anything, so a regeneration that cannot run changes nothing).
pub fn run_holding(
    root: &Path,
    args: &Args,
    held: Option<expanse::knowledge::lock::Held>,
) -> anyhow::Result<ExitCode> {
    let ws = Workspace::new(root);
    let plan_path = ws.resolve(&args.plan);
    let shown = args.plan.display().to_string();
    if args.json && !args.headless && !args.dry_run {
        eprintln!("expanse: --json goes with --headless (events) or --dry-run (the estimate)");
        return Ok(ExitCode::FAILURE);
    }
    let Some(plan) = super::load_checked(&plan_path, &shown)? else {
        return Ok(ExitCode::FAILURE);
    };
    if let Some(only) = &args.only {
        let missing: Vec<String> = only
            .iter()
            .filter(|n| plan.part(**n).is_none())
            .map(u32::to_string)
            .collect();
        if !missing.is_empty() {
            eprintln!(
                "{shown}: error: --only names PARTs the plan does not have: {}",
                missing.join(", ")
            );
            return Ok(ExitCode::FAILURE);
        }
    }
    let config = expanse::config::Config::load(&ws.root)?;
    // The estimate replays the journal and reads every draft: made once, and only where it is
    // used (the dry run, the cost question, the run's own journal and header).
    let estimate_now = || dry_estimate(&plan, &config, args, &ws.journal_dir(&plan_path));
    if args.dry_run {
        print_estimate(&estimate_now(), args.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    // The terminal that starts a served run asks; the run it starts does not ask again.
    let mut estimated = None;
    if let Some(limit) = config.budget.confirm_over_usd
        && !args.serve
    {
        let estimate = estimate_now();
        if let Some(usd) = estimate.totals.usd
            && usd.high > limit
            && !confirm_cost(usd, limit)
        {
            return Ok(ExitCode::FAILURE);
        }
        estimated = Some(estimate);
    }
    std::fs::create_dir_all(ws.state())
        .with_context(|| format!("cannot create {}", ws.state().display()))?;
    super::init_logging(&ws.state());
    if !args.headless && !args.serve {
        if !std::io::stdout().is_terminal() {
            eprintln!(
                "expanse: the terminal UI needs a terminal; pass --headless to print events instead"
            );
            return Ok(ExitCode::FAILURE);
        }
        // The run is a process of its own and this terminal its first client: closing the
        // terminal (or detaching) leaves it going.
        // Options that shape a run do not reach one already live: say so if any was given.
        let shaped = !shaping(args).is_empty();
        let server = server_command(&ws, args)?;
        return super::launch::launch(&ws, server, &plan_path, &shown, &config, shaped);
    }
    let estimate = estimated.unwrap_or_else(estimate_now);
    // One run of a plan at a time: a second would do all the work (and pay the model) twice.
    let _run_lock = match held {
        Some(h) => h,
        None => match expanse::knowledge::lock::run(
            &ws.journal_dir(&plan_path).join("run.lock"),
            &format!("`expanse run {shown}`"),
        ) {
            Ok(held) => held,
            Err(e) => {
                eprintln!("expanse: {e}");
                return Ok(ExitCode::FAILURE);
            }
        },
    };
    let corpus = args
        .corpus
        .clone()
        .or_else(|| config.corpus.clone())
        .map(|c| ws.resolve(&c))
        .unwrap_or_else(|| ws.default_corpus());
    eprintln!(
        "expanse: opening the corpus {} (indexing it if it changed) …",
        corpus.display()
    );
    let selection = expanse::research::select(
        &config,
        &expanse::config::process_env,
        args.offline,
        &corpus,
        &ws.state().join("index"),
    )
    .with_context(|| format!("cannot set up the providers (corpus {})", corpus.display()))?;
    // Said on stderr now, and in the terminal UI's message log (the screen hides stderr).
    let mut startup: Vec<String> = Vec::new();
    if let Some(info) = &selection.index {
        let line = format!(
            "corpus {}: {}",
            corpus.display(),
            expanse::research::local::summary(info.documents, &info.skipped)
        );
        eprintln!("expanse: {line}");
        startup.push(line);
    }
    for line in selection.description.lines() {
        eprintln!("expanse: {line}");
        startup.push(line.to_string());
    }
    let providers = selection.providers;
    let second_opinion = super::second_opinion(&config, selection.model);

    let journal = Arc::new(Journal::open(&ws.journal_dir(&plan_path))?);
    // The estimate is kept, so `status` can set what was spent against it.
    for p in estimate.parts.iter().filter(|p| p.model_requests > 0) {
        let _ = journal.append(&expanse::journal::Record::Estimated {
            ts: expanse::state::now(),
            part: p.number,
            low: p.tokens.low,
            high: p.tokens.high,
        });
    }
    let review = Review::new(ws.clone(), plan_path.clone(), journal.clone());
    let resumed = review.resume_approvals();
    super::report_resumed(&resumed);
    // A finished approval ticked the plan: run on what is on disk now.
    let plan = if resumed.is_empty() {
        plan
    } else {
        match super::load_checked(&plan_path, &shown)? {
            Some(plan) => plan,
            None => return Ok(ExitCode::FAILURE),
        }
    };
    let ctx = RunContext {
        plan,
        plan_path,
        workspace: ws.clone(),
        providers,
        journal,
        cache: Arc::new(Cache::new(&ws.state().join("cache"))),
    };
    let options = RunOptions {
        jobs: args.jobs.map(|j| j as usize).or(config.jobs),
        only: args.only.clone(),
        redo: args.redo,
        stall_after: Duration::from_secs(args.stall_after.max(1)),
        // A served run waits for the terminal that started it; then it ends once every PART
        // has settled and no client is attached.
        exit_when_settled: !args.serve,
        approve_all: args.approve_all,
        budget: Limits {
            tokens: args.budget_tokens.or(config.budget.tokens),
            usd: args.budget_usd.or(config.budget.usd),
            per_part_tokens: config.budget.per_part_tokens,
        },
        prices: prices(&config),
        second_opinion,
        page_deadline: config
            .fetch
            .page_deadline_secs
            .map_or(expanse::runner::PAGE_DEADLINE, |s| {
                Duration::from_secs(s.max(1))
            }),
        sources: config.sources.merged(&ctx.plan.sources),
    };
    let mut notifier = expanse::notify::Notifier::new(config.notify.command.clone());
    let titles: std::collections::BTreeMap<u32, String> = ctx
        .plan
        .parts
        .iter()
        .map(|p| (p.number, p.target.clone()))
        .collect();
    if options.budget.usd.is_some() && options.prices.is_none() {
        eprintln!(
            "expanse: a dollar budget needs prices: set [model] price_input_per_mtok and price_output_per_mtok in expanse.toml"
        );
        return Ok(ExitCode::FAILURE);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let json = args.json;
    // "Finished" is said when every PART settles after work (the run's own event), also while a
    // terminal keeps the run open; a run stopped with work unsettled ends with its summary, one
    // that had nothing to do says nothing.
    let mut settled_last = true;
    let (notify, plan_shown, settled) = (&mut notifier, &shown, &mut settled_last);
    let (live_dir, live_plan) = (ctx.journal.dir().to_path_buf(), ctx.plan_path.clone());
    let facts = expanse::runner::live::Facts {
        budget: options.budget,
        prices: options.prices,
        estimate: (estimate.totals.model_requests > 0)
            .then_some((estimate.totals.tokens.low, estimate.totals.tokens.high)),
        providers: format!(
            "{} · {} · {}",
            ctx.providers.search.name(),
            ctx.providers.fetch.name(),
            ctx.providers.writer.name()
        ),
        only: options.only.clone(),
        startup,
    };
    let serve = args.serve;
    let summary = rt.block_on(async move {
        let (tx, mut rx) = mpsc::channel::<Event>(1024);
        // Commands from the socket, held until the supervisor runs.
        let (commands, queued) = mpsc::channel::<runner::Command>(runner::COMMANDS_WAITING);
        // `expanse attach` (and stop) reach this run through its socket.
        let live = match expanse::runner::live::Live::serve(
            &live_dir,
            &live_plan,
            commands.clone(),
            facts,
        ) {
            Ok(l) => Some(l),
            // Behind a terminal, a run nobody can reach must not go on: it would never end.
            Err(e) if serve => {
                eprintln!(
                    "expanse: cannot listen on {} ({e}); the run does not start",
                    expanse::runner::live::socket_path(&live_dir).display()
                );
                return Ok(None);
            }
            Err(e) => {
                eprintln!(
                    "expanse: this run cannot be attached to from another terminal ({e}); it goes on"
                );
                None
            }
        };
        if serve
            && let Some(l) = &live
            && !expanse::runner::live::first_client(l.clients()).await
        {
            // The terminal that started this run sees it from its first event; one that never
            // came (interrupted while the run started) leaves nothing running behind it.
            eprintln!(
                "expanse: no terminal attached within {} s: the run ends without starting",
                expanse::runner::live::FIRST_CLIENT_WITHIN.as_secs()
            );
            return Ok(None);
        }
        // One queue: the socket's, the plan watcher's and the lifetime's words in their order.
        let handle = runner::spawn_on(ctx, options, tx, queued);
        // Plan edits reach the run whether or not a terminal is attached.
        let _plan_watch = runner::watch_plan(&live_plan, commands.clone());
        // Through the socket's own queue: a client's last command reaches the run before the
        // word that it left.
        let _lifetime = live
            .as_ref()
            .map(|l| expanse::runner::live::follow_clients(l.clients(), commands.clone()));
        let mut stdout = std::io::stdout().lock();
        // A served run's stdout goes nowhere: its clients and the journal have the events.
        let mut printing = !serve;
        while let Some(event) = rx.recv().await {
            if let Some(l) = &live {
                l.publish(&event);
            }
            if let Some(notice) = expanse::notify::Notice::of(&event, plan_shown, &titles) {
                notify.send(&notice);
            }
            if event.what == What::Settled {
                *settled = true;
            } else if event.state_now().is_some_and(|s| !s.is_settled()) {
                *settled = false;
            }
            // Progress is sampled for cards and scripts; a person reading lines wants each step
            // once ("written: 38 lines"), not a count every quarter second.
            if !printing || (!json && matches!(event.what, What::Progress { .. })) {
                continue;
            }
            let line = if json {
                serde_json::to_string(&event).unwrap_or_default()
            } else {
                human(&event)
            };
            // A closed stdout (`| head`) ends the output, not the run; any other failure to
            // write (a full disk) is said once on stderr, and the run goes on.
            if let Err(e) = writeln!(stdout, "{line}") {
                printing = false;
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!(
                        "expanse: cannot write the events to stdout ({e}); the run goes on, its journal and drafts are kept"
                    );
                }
            }
        }
        let _ = stdout.flush();
        let summary = handle.await;
        if let Ok(summary) = &summary {
            expanse::runner::live::save_summary(&live_dir, summary);
        }
        drop(live);
        summary.map(Some)
    })?;
    // Not started (its terminal never came, or it could not listen): said above, nothing ran.
    let Some(summary) = summary else {
        return Ok(ExitCode::FAILURE);
    };
    if !settled_last {
        notifier.send(&expanse::notify::Notice {
            kind: expanse::notify::Kind::Finished,
            plan: shown.clone(),
            part: None,
            title: None,
            message: summary_line(&summary),
        });
    }
    // The last notices reach their commands before the process ends.
    notifier.finish(Duration::from_secs(3));
    Ok(report(&summary, &review_command(root, &shown)))
}

/// The options given that shape a run, as the run's own process is given them (none: the
/// defaults).
fn shaping(args: &Args) -> Vec<std::ffi::OsString> {
    let mut out: Vec<std::ffi::OsString> = Vec::new();
    let mut pass = |flag: &str, value: Option<std::ffi::OsString>| {
        out.push(flag.into());
        out.extend(value);
    };
    if let Some(j) = args.jobs {
        pass("--jobs", Some(j.to_string().into()));
    }
    if let Some(only) = &args.only {
        let list: Vec<String> = only.iter().map(u32::to_string).collect();
        pass("--only", Some(list.join(",").into()));
    }
    for (on, flag) in [
        (args.offline, "--offline"),
        (args.redo, "--redo"),
        (args.approve_all, "--approve-all"),
    ] {
        if on {
            pass(flag, None);
        }
    }
    if let Some(corpus) = &args.corpus {
        pass("--corpus", Some(corpus.into()));
    }
    if let Some(t) = args.budget_tokens {
        pass("--budget-tokens", Some(t.to_string().into()));
    }
    if let Some(u) = args.budget_usd {
        pass("--budget-usd", Some(u.to_string().into()));
    }
    out
}

/// `expanse run PLAN --serve` with this run's options, detached from the terminal.
fn server_command(ws: &Workspace, args: &Args) -> anyhow::Result<std::process::Command> {
    let exe = std::env::current_exe().context("cannot find the expanse program to start")?;
    let mut c = std::process::Command::new(exe);
    c.arg("--root")
        .arg(&ws.root)
        .arg("run")
        .arg(&args.plan)
        .arg("--serve")
        .arg("--stall-after")
        .arg(args.stall_after.to_string())
        .args(shaping(args));
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

/// Model prices from `[model]`, when both are set.
pub fn prices(config: &expanse::config::Config) -> Option<Prices> {
    match (
        config.model.price_input_per_mtok,
        config.model.price_output_per_mtok,
    ) {
        (Some(input_per_mtok), Some(output_per_mtok)) => Some(Prices {
            input_per_mtok,
            output_per_mtok,
        }),
        _ => None,
    }
}

/// What running `plan` with `args` would ask, from the settings alone (nothing is opened or
/// sent): the PARTs the run would start, the model if one is configured.
fn dry_estimate(
    plan: &expanse::plan::Plan,
    config: &expanse::config::Config,
    args: &Args,
    journal_dir: &Path,
) -> expanse::runner::estimate::Estimate {
    use expanse::runner::estimate::{Model, estimate};
    // Only the PARTs a run would start: not those done, approved or with a draft awaiting
    // review (read without creating anything).
    let statuses = expanse::journal::read_records(&journal_dir.join("journal.jsonl"))
        .map(|r| expanse::journal::replay(&r))
        .unwrap_or_default();
    let parts: Vec<&expanse::plan::Part> = plan
        .parts
        .iter()
        .filter(|p| args.only.as_ref().is_none_or(|o| o.contains(&p.number)))
        .filter(|p| {
            let draft = expanse::journal::read_draft(journal_dir, p.number)
                .ok()
                .flatten()
                .is_some();
            expanse::state::initial_state(p.done, statuses.get(&p.number), draft, args.redo)
                == RunnerState::Queued
        })
        .collect();
    let model_set = expanse::config::var(
        &expanse::config::process_env,
        expanse::config::env::OPENAI_MODEL,
    )
    .or_else(|| config.model.model.clone())
    .is_some();
    let model = (model_set && !args.offline).then(|| Model {
        context_chars: config
            .model
            .context_chars
            .unwrap_or(expanse::research::http::prompt::DEFAULT_CONTEXT_CHARS),
        max_tokens: config.model.max_tokens,
        prices: prices(config),
    });
    estimate(&parts, plan.title.as_deref(), model.as_ref())
}

/// The estimate as a table (or JSON), with totals.
fn print_estimate(e: &expanse::runner::estimate::Estimate, json: bool) -> anyhow::Result<()> {
    use expanse::words::{compact, dollars};
    if json {
        outln!("{}", serde_json::to_string_pretty(e)?);
        return Ok(());
    }
    let usd = |u: Option<expanse::runner::estimate::Range<f64>>| {
        u.map_or("-".to_string(), |u| {
            format!("{}–{}", dollars(u.low), dollars(u.high))
        })
    };
    outln!(
        "{:>4}  {:>8}  {:>6}  {:>8}  {:>8}  {:>15}  USD",
        "PART",
        "SEARCHES",
        "PAGES≤",
        "SECTIONS",
        "REQUESTS",
        "TOKENS"
    );
    for p in &e.parts {
        outln!(
            "{:>4}  {:>8}  {:>6}  {:>8}  {:>8}  {:>15}  {}",
            p.number,
            p.searches,
            p.fetches_max,
            p.sections,
            p.model_requests,
            format!("{}–{}", compact(p.tokens.low), compact(p.tokens.high)),
            usd(p.usd)
        );
    }
    let t = &e.totals;
    outln!(
        "{:>4}  {:>8}  {:>6}  {:>8}  {:>8}  {:>15}  {}",
        "all",
        t.searches,
        t.fetches_max,
        "",
        t.model_requests,
        format!("{}–{}", compact(t.tokens.low), compact(t.tokens.high)),
        usd(t.usd)
    );
    outln!(
        "\nNothing was sent: this is what `expanse run` would ask{}.",
        if t.model_requests == 0 {
            " (the extractive writer spends no model tokens)"
        } else if t.usd.is_none() {
            " (set [model] price_input_per_mtok and price_output_per_mtok to see dollars)"
        } else {
            ""
        }
    );
    Ok(())
}

/// Ask on the terminal whether to start a run estimated to cost up to `usd.high`, over
/// `[budget] confirm_over_usd`; without a terminal, refuse and say how to go on.
fn confirm_cost(usd: expanse::runner::estimate::Range<f64>, limit: f64) -> bool {
    use expanse::words::dollars;
    let what = format!(
        "this run may cost {}–{}, more than [budget] confirm_over_usd ({})",
        dollars(usd.low),
        dollars(usd.high),
        dollars(limit)
    );
    if !std::io::stdin().is_terminal() {
        eprintln!(
            "expanse: {what}; nothing was started (`run --dry-run` shows the estimate; raise the setting, set a --budget-usd, or run it from a terminal to confirm)"
        );
        return false;
    }
    eprint!("expanse: {what}. Start it? [y/N] ");
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    let yes = matches!(answer.trim(), "y" | "Y" | "yes");
    if !yes {
        eprintln!("expanse: nothing was started");
    }
    yes
}

/// One event as a readable line.
fn human(e: &Event) -> String {
    let time = expanse::state::time_of_day(&e.ts);
    let part = e
        .part
        .map_or("       ".to_string(), |n| format!("PART {n:>2}"));
    let body = match &e.what {
        What::State { state, .. } if e.message.is_empty() => state.to_string(),
        What::State { state, .. } => format!("{state} — {}", e.message),
        What::Log {
            level: Level::Warn, ..
        } => format!("warning: {}", e.message),
        What::Log {
            level: Level::Error,
            ..
        }
        | What::Error { .. } => format!("error: {}", e.message),
        What::Log { .. } | What::Progress { .. } | What::Settled => format!("· {}", e.message),
        What::Draft { .. } | What::Written { .. } => e.message.clone(),
    };
    format!("{time}  {part}  {body}")
}
