//! `expanse check`: parse and validate a plan, print a table of PARTs or the JSON model.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use expanse::plan::Plan;

/// Arguments of `expanse check`.
#[derive(clap::Args)]
pub struct Args {
    /// The plan to check (markdown), relative to --root. `expanse help plan` prints the format.
    plan: PathBuf,
    /// Print the parsed model as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

impl Args {
    /// The plan's path as given.
    pub fn plan_mut(&mut self) -> &mut PathBuf {
        &mut self.plan
    }
}

/// Run the command; exit status 1 when the plan has errors.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let path = expanse::workspace::Workspace::new(root).resolve(&args.plan);
    let shown = args.plan.display().to_string();
    // check prints the table even when the plan has errors.
    let Some(plan) = super::load_reported(&path, &shown) else {
        return Ok(ExitCode::FAILURE);
    };
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        out!("{}", table(&plan));
    }
    Ok(if plan.has_errors() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The readable table: one row per PART, then a summary line.
pub fn table(plan: &Plan) -> String {
    let header = [
        "PART",
        "EXPANSION",
        "TARGET",
        "LINES",
        "DONE",
        "QUERIES",
        "SECTIONS",
    ];
    let rows: Vec<[String; 7]> = plan
        .parts
        .iter()
        .map(|p| {
            [
                p.number.to_string(),
                p.expansion
                    .as_ref()
                    .map_or("-".to_string(), |e| e.number.to_string()),
                expanse::plan::visible(&p.target),
                p.expected_lines
                    .map_or("-".to_string(), |n| format!("~{n}")),
                if p.done { "done" } else { "open" }.to_string(),
                p.queries.len().to_string(),
                p.sections.len().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    if let Some(title) = &plan.title {
        out.push_str(title);
        if let Some(date) = &plan.date {
            out.push_str(&format!(" ({date})"));
        }
        out.push_str("\n\n");
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w - cell.chars().count();
            // Numbers right-aligned, text left-aligned.
            if matches!(i, 0 | 1 | 5 | 6) {
                s.push_str(&" ".repeat(pad));
                s.push_str(cell);
            } else {
                s.push_str(cell);
                s.push_str(&" ".repeat(pad));
            }
            s.push_str("  ");
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    out.push_str(&line(&header.map(String::from)));
    for row in &rows {
        out.push_str(&line(row));
    }
    let done = plan.parts.iter().filter(|p| p.done).count();
    let lines: u32 = plan.parts.iter().filter_map(|p| p.expected_lines).sum();
    let queries: usize = plan.parts.iter().map(|p| p.queries.len()).sum();
    let sections: usize = plan.parts.iter().map(|p| p.sections.len()).sum();
    out.push_str(&format!(
        "\n{} PARTs ({} done, {} open), {} queries, {} sections, ~{} lines expected\n",
        plan.parts.len(),
        done,
        plan.parts.len() - done,
        queries,
        sections,
        lines
    ));
    out
}
