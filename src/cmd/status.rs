//! `expanse status`: each PART's state from the journal, as a table or JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use expanse::journal;
use expanse::runner::budget::Prices;
use expanse::state::{RunnerState, Usage, resting_state};
use expanse::words::{compact, plural};
use expanse::workspace::Workspace;
use serde::Serialize;

/// Arguments of `expanse status`.
#[derive(clap::Args)]
pub struct Args {
    /// The plan (markdown), relative to --root.
    plan: PathBuf,
    /// Print JSON: {"usage": {…}, "parts": [{"number","state","reason","target","draft_lines",
    /// "sources","usage"}]}.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct UsageJson {
    prompt_tokens: u64,
    completion_tokens: u64,
    estimated: bool,
    cost_usd: Option<f64>,
}

impl UsageJson {
    fn of(u: Usage, prices: Option<&Prices>) -> UsageJson {
        UsageJson {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            estimated: u.estimated,
            // Cents: a cost is shown to the cent, never a made-up precision.
            cost_usd: prices.map(|p| (p.cost(u) * 100.0).round() / 100.0),
        }
    }
}

#[derive(Serialize)]
struct Row {
    number: u32,
    state: RunnerState,
    /// Why it is in that state (a failure, a pause by the budget, a rejection).
    reason: Option<String>,
    target: String,
    draft_lines: Option<usize>,
    sources: Option<usize>,
    usage: UsageJson,
    /// What the latest run estimated its tokens would reach: {"low","high"}, or null.
    estimate: Option<serde_json::Value>,
    #[serde(skip)]
    tokens: Usage,
    #[serde(skip)]
    range: Option<(u64, u64)>,
}

impl Args {
    /// The plan's path as given.
    pub fn plan_mut(&mut self) -> &mut PathBuf {
        &mut self.plan
    }
}

/// Run the command.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let ws = Workspace::new(root);
    let plan_path = ws.resolve(&args.plan);
    let Some(plan) = super::load_checked(&plan_path, &args.plan.display().to_string())? else {
        return Ok(ExitCode::FAILURE);
    };
    let dir = ws.journal_dir(&plan_path);
    let mut statuses = journal::replay(&journal::read_records(&dir.join("journal.jsonl"))?);
    // An approval or undo a crash interrupted is finished first, as every command does.
    if statuses
        .values()
        .any(|s| s.undoing || s.approval_interrupted())
    {
        let journal = std::sync::Arc::new(journal::Journal::open(&dir)?);
        let review = expanse::review::Review::new(ws.clone(), plan_path.clone(), journal);
        super::report_resumed(&review.resume_approvals());
        statuses = journal::replay(&journal::read_records(&dir.join("journal.jsonl"))?);
    }
    let config = expanse::config::Config::load(&ws.root)?;
    let prices = super::run::prices(&config);
    // A run live in another process: its pid (read once; the rows and the live line agree).
    let live_pid = super::attach::is_live(&dir);
    let live = live_pid.is_some();

    let rows: Vec<Row> = plan
        .parts
        .iter()
        .map(|p| {
            let status = statuses.get(&p.number);
            let draft = match journal::read_draft(&dir, p.number) {
                Ok(d) => d,
                Err(e) => {
                    // A damaged draft affects only its own PART's row.
                    note!("expanse: PART {}: {e}", p.number);
                    None
                }
            };
            let state = resting_state(p.done, status, draft.is_some(), live);
            let tokens = status.and_then(|s| s.usage).unwrap_or_default();
            let recorded = status.and_then(|s| s.state);
            let stopped = recorded.filter(|r| *r != state && r.is_active() && !live);
            Row {
                number: p.number,
                state,
                reason: match stopped {
                    Some(r) => Some(format!(
                        "stopped while {r} (no run is live); the next run resumes it"
                    )),
                    None => status
                        .and_then(|s| s.message.clone())
                        .filter(|m| !m.is_empty()),
                },
                target: p.target.clone(),
                draft_lines: draft.as_ref().map(|d| d.lines()),
                sources: draft.as_ref().map(|d| d.sources.len()),
                usage: UsageJson::of(tokens, prices.as_ref()),
                estimate: status
                    .and_then(|s| s.estimate)
                    .map(|(low, high)| serde_json::json!({"low": low, "high": high})),
                tokens,
                range: status.and_then(|s| s.estimate),
            }
        })
        .collect();
    let mut total = Usage::default();
    for r in &rows {
        total.add(r.tokens);
    }
    // A run live in another process: its pid, since when, clients attached.
    let live = live_pid.map(|pid| {
        let info = expanse::runner::live::info(&dir);
        serde_json::json!({
            "pid": pid,
            "since": info.as_ref().map(|h| h.since.clone()),
            "clients": info.as_ref().map(|h| h.clients),
        })
    });
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "usage": UsageJson::of(total, prices.as_ref()),
                "live": live,
                "parts": rows,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(l) = &live {
        outln!(
            "a run is live: process {}{}{} (`expanse attach {}`, `expanse stop {}`)\n",
            l["pid"].as_str().unwrap_or("?"),
            l["since"]
                .as_str()
                .map(|s| format!(", since {s}"))
                .unwrap_or_default(),
            l["clients"]
                .as_u64()
                .map(|n| format!(", {} attached", plural(n as usize, "client")))
                .unwrap_or_default(),
            args.plan.display(),
            args.plan.display()
        );
    }
    let width = rows
        .iter()
        .map(|r| r.target.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let tokens = |u: Usage| {
        if u.total() == 0 {
            "-".to_string()
        } else {
            format!(
                "{}{}",
                if u.estimated { "~" } else { "" },
                compact(u.total())
            )
        }
    };
    let cost = |u: Usage| {
        prices
            .as_ref()
            .map(|p| format!("  {:>8}", expanse::words::dollars(p.cost(u))))
            .unwrap_or_default()
    };
    outln!(
        "PART  {:<9} {:<width$}  LINES  SOURCES  TOKENS{}",
        "STATE",
        "TARGET",
        if prices.is_some() { "      COST" } else { "" }
    );
    for r in &rows {
        outln!(
            "{:>4}  {:<9} {:<width$}  {:>5}  {:>7}  {:>6}{}{}",
            r.number,
            r.state.name(),
            r.target,
            r.draft_lines.map_or("-".into(), |l| l.to_string()),
            r.sources.map_or("-".into(), |s| s.to_string()),
            tokens(r.tokens),
            cost(r.tokens),
            r.reason
                .as_ref()
                .map(|m| format!("  ({m})"))
                .unwrap_or_default()
        );
    }
    if total.total() > 0 {
        outln!(
            "\nmodel usage: {total}{}",
            prices
                .as_ref()
                .map(|p| format!(", {}", expanse::words::dollars(p.cost(total))))
                .unwrap_or_default()
        );
    }
    // What was spent against what the runs estimated, for the PARTs that have an estimate.
    let estimated: Vec<&Row> = rows.iter().filter(|r| r.range.is_some()).collect();
    if !estimated.is_empty() {
        let (low, high) = estimated
            .iter()
            .filter_map(|r| r.range)
            .fold((0, 0), |(l, h), (a, b)| (l + a, h + b));
        let used: u64 = estimated.iter().map(|r| r.tokens.total()).sum();
        outln!(
            "estimated {}–{} tokens for {}; used {} ({})",
            compact(low),
            compact(high),
            plural(estimated.len(), "PART"),
            compact(used),
            if used < low {
                "under the estimate: not everything is written yet, or sections were short"
            } else if used > high {
                "over the estimate"
            } else {
                "within the estimate"
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}
