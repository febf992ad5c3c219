//! `expanse status`: each PART's state from the journal, as a table or JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use expanse::journal;
use expanse::state::{RunnerState, resting_state};
use expanse::workspace::Workspace;
use serde::Serialize;

/// Arguments of `expanse status`.
#[derive(clap::Args)]
pub struct Args {
    /// The plan (markdown), relative to --root.
    plan: PathBuf,
    /// Print JSON: {"parts": [{"number","state","target","draft_lines","sources"}]}.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Row {
    number: u32,
    state: RunnerState,
    target: String,
    draft_lines: Option<usize>,
    sources: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
}

/// Run the command.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let ws = Workspace::new(root);
    let plan_path = ws.resolve(&args.plan);
    let Some(plan) = super::load_checked(&plan_path, &args.plan.display().to_string())? else {
        return Ok(ExitCode::FAILURE);
    };
    let dir = ws.journal_dir(&plan_path);
    let statuses = journal::replay(&journal::read_records(&dir.join("journal.jsonl"))?);

    let rows: Vec<Row> = plan
        .parts
        .iter()
        .map(|p| {
            let status = statuses.get(&p.number);
            let draft = journal::read_draft(&dir, p.number).ok().flatten();
            let state = resting_state(p.done, status, draft.is_some());
            Row {
                number: p.number,
                state,
                target: p.target.clone(),
                draft_lines: draft.as_ref().map(|d| d.lines()),
                sources: draft.as_ref().map(|d| d.sources.len()),
                message: status.and_then(|s| s.message.clone()),
            }
        })
        .collect();
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "parts": rows }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    let width = rows
        .iter()
        .map(|r| r.target.len())
        .max()
        .unwrap_or(6)
        .max(6);
    outln!("PART  {:<9} {:<width$}  LINES  SOURCES", "STATE", "TARGET");
    for r in &rows {
        outln!(
            "{:>4}  {:<9} {:<width$}  {:>5}  {:>7}{}",
            r.number,
            r.state.name(),
            r.target,
            r.draft_lines.map_or("-".into(), |l| l.to_string()),
            r.sources.map_or("-".into(), |s| s.to_string()),
            r.message
                .as_ref()
                .map(|m| format!("  ({m})"))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
