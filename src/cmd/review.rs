//! `expanse review`: list drafts awaiting review, show a diff, approve, reject or edit one.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use expanse::journal::Journal;
use expanse::review::{FileDiff, LineTag, Review, ReviewError};
use expanse::workspace::Workspace;

/// Arguments of `expanse review`.
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("action").args(["diff", "check", "approve", "undo", "reject", "regenerate", "edit"]))]
pub struct Args {
    /// The plan (markdown), relative to --root.
    plan: PathBuf,
    /// Print the diff of PART N's draft (and its drop) against the file on disk.
    #[arg(long, value_name = "N")]
    diff: Option<u32>,
    /// Check PART N's draft: the checklist, and every claim against the source it cites.
    #[arg(long, value_name = "N")]
    check: Option<u32>,
    /// With --check, print JSON: {"part","clean","reasons","sections","claims"}.
    #[arg(long, requires = "check")]
    json: bool,
    /// Approve PART N: write the file and its drop, tick the plan, update INDEX.md.
    #[arg(long, value_name = "N")]
    approve: Option<u32>,
    /// With --approve, write only these hunks of the knowledge file's diff (1-based, as
    /// `--diff N` shows them: `1,3-4`); the file keeps its own lines elsewhere.
    #[arg(long, value_name = "LIST", requires = "approve", value_parser = parse_hunks)]
    hunks: Option<std::collections::BTreeSet<u32>>,
    /// Undo PART N's approval: the file as it was, the drop removed, the plan unticked, the INDEX
    /// entry put back; the PART returns to review. Refused if any of them changed since.
    #[arg(long, value_name = "N")]
    undo: Option<u32>,
    /// Write PART N's draft again now with --reason: one section (--section K) or every section;
    /// the other sections keep their bytes.
    #[arg(long, value_name = "N", requires = "reason")]
    regenerate: Option<u32>,
    /// With --regenerate, the section to write again (1-based, as in `## Section K:`).
    #[arg(long, value_name = "K", requires = "regenerate", value_parser = clap::value_parser!(u32).range(1..))]
    section: Option<u32>,
    /// Reject PART N's draft (skipped, or written again with --requeue).
    #[arg(long, value_name = "N")]
    reject: Option<u32>,
    /// Why the draft is rejected or regenerated (given to the writer).
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// Send the rejected PART back to the writer on the next run, with the reason.
    #[arg(long, requires = "reject")]
    requeue: bool,
    /// Open PART N's draft in $EDITOR; the edited text is what gets checked and written.
    #[arg(long, value_name = "N")]
    edit: Option<u32>,
}

fn parse_hunks(s: &str) -> Result<std::collections::BTreeSet<u32>, String> {
    expanse::workspace::parse_numbers(s, "hunk").map_err(|e| e.to_string())
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
    let shown = args.plan.display().to_string();
    if super::load_checked(&plan_path, &shown)?.is_none() {
        return Ok(ExitCode::FAILURE);
    }
    let journal = Arc::new(Journal::open(&ws.journal_dir(&plan_path))?);
    let config = expanse::config::Config::load(&ws.root)?;
    // With `[review] verify = "model"`, doubtful claims are put to the configured model.
    let opinion = if args.check.is_some() || args.approve.is_some() {
        model_opinion(&ws, &config)
    } else {
        None
    };
    let run_lock = ws.journal_dir(&plan_path).join("run.lock");
    let review = Review::new(ws, plan_path, journal);
    let review = match opinion {
        Some(o) => review.with_second_opinion(o.0),
        None => review,
    };
    super::report_resumed(&review.resume_approvals());
    let result = if let Some(n) = args.diff {
        review.diffs(n).map(|(file, drop)| {
            let colour = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            out!("{}", render(&file, colour));
            out!("{}", render(&drop, colour));
        })
    } else if let Some(n) = args.check {
        return check(&review, n, args.json);
    } else if let Some(n) = args.approve {
        let hunks: Option<std::collections::BTreeSet<usize>> = args
            .hunks
            .as_ref()
            .map(|h| h.iter().map(|&k| k as usize).collect());
        review
            .approve_hunks(
                n,
                chrono::Local::now(),
                expanse::review::Seen::Unknown,
                hunks.as_ref(),
            )
            .map(|a| {
                match (&a.drop, a.unchanged) {
                    (_, true) => outln!(
                        "PART {n} approved: {} already holds this text, so nothing new was written",
                        a.file
                    ),
                    (Some(drop), false) => {
                        outln!("PART {n} approved: wrote {} and {drop}", a.file)
                    }
                    (None, false) => outln!("PART {n} approved: wrote {}", a.file),
                }
                if a.ticked {
                    outln!("ticked PART {n} in {shown}");
                }
            })
    } else if let Some(n) = args.undo {
        review.undo(n).map(|u| {
            outln!(
                "PART {n}'s approval undone: {}; the draft awaits review again",
                u.describe(&shown)
            );
        })
    } else if let Some(n) = args.regenerate {
        let reason = args.reason.clone().unwrap_or_default();
        let section = args.section.map(|k| k as usize - 1);
        // The run lock first: a live run of the plan would refuse the rewrite after it was
        // recorded, leaving the PART neither in review nor being written.
        let held = match expanse::knowledge::lock::run(&run_lock, &format!("`expanse run {shown}`"))
        {
            Ok(h) => h,
            Err(e) => {
                eprintln!(
                    "expanse: {e}; nothing was changed (press s on PART {n}'s review in that run, or wait for it to end)"
                );
                return Ok(ExitCode::FAILURE);
            }
        };
        if let Err(e) = review.regenerate(n, section, &reason) {
            eprintln!("expanse: {e}");
            return Ok(ExitCode::FAILURE);
        }
        eprintln!(
            "expanse: {} of PART {n} asked for again; writing it now (the rest of the draft keeps its bytes)",
            match section {
                Some(k) => format!("section {}", k + 1),
                None => "every section".to_string(),
            }
        );
        drop(review);
        return super::run::run_holding(
            root,
            &super::run::Args::regenerate(args.plan.clone(), n),
            Some(held),
        );
    } else if let Some(n) = args.reject {
        review.reject(n, args.reason.as_deref(), args.requeue).map(|()| {
            if args.requeue {
                outln!("PART {n} rejected; the next `expanse run {shown}` writes it again with your reason");
            } else {
                outln!("PART {n} rejected and skipped; nothing was written");
            }
        })
    } else if let Some(n) = args.edit {
        return edit(&review, n);
    } else {
        return list(&review);
    };
    match result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(ReviewError::Conflict { target, diff }) => {
            eprintln!(
                "expanse: knowledge/{target} changed on disk since its diff was computed; nothing was written."
            );
            eprintln!(
                "expanse: the draft is kept. This is the diff against the file as it is now; approve again to write it:"
            );
            out!("{}", render(&diff, false));
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            eprintln!("expanse: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn list(review: &Review) -> anyhow::Result<ExitCode> {
    let (pending, problems) = review.pending()?;
    for p in &problems {
        note!("expanse: {p}");
    }
    if pending.is_empty() {
        outln!("No drafts await review.");
        return Ok(ExitCode::SUCCESS);
    }
    let width = pending
        .iter()
        .map(|p| p.draft.target.len())
        .max()
        .unwrap_or(6);
    outln!(
        "PART  {:<width$}  {:>6} {:>6}  CHECKLIST",
        "TARGET",
        "+",
        "-"
    );
    for p in &pending {
        outln!(
            "{:>4}  {:<width$}  {:>6} {:>6}  {}{}",
            p.draft.part,
            p.draft.target,
            format!("+{}", p.diff.added),
            format!("-{}", p.diff.removed),
            p.checklist.summary(),
            if p.checklist.is_clean() {
                ""
            } else {
                "  (not clean)"
            }
        );
    }
    outln!(
        "\n{} awaiting review. `--diff N` shows one, `--approve N` writes it, `--reject N` drops it.",
        expanse::words::plural(pending.len(), "draft")
    );
    Ok(ExitCode::SUCCESS)
}

/// The model's second opinion, when `[review] verify = "model"` and a model is configured.
fn model_opinion(
    ws: &Workspace,
    config: &expanse::config::Config,
) -> Option<expanse::review::opinion::Judge> {
    if config.review.verify != Some(expanse::config::Verify::Model) {
        return None;
    }
    let corpus = config
        .corpus
        .clone()
        .map(|c| ws.resolve(&c))
        .unwrap_or_else(|| ws.default_corpus());
    let selection = expanse::research::select(
        config,
        &expanse::config::process_env,
        false,
        &corpus,
        &ws.state().join("index"),
    )
    .ok()?;
    super::second_opinion(config, selection.model)
}

/// `review --check N`: the checklist and every claim's verdict, as text or JSON.
fn check(review: &Review, n: u32, json: bool) -> anyhow::Result<ExitCode> {
    let (checklist, claims) = match review.check(n) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("expanse: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    if json {
        let sections: Vec<serde_json::Value> = checklist
            .sections
            .iter()
            .map(|s| {
                serde_json::json!({
                    "title": s.title, "lines": s.lines, "budget": s.budget, "filled": s.filled,
                    "claims": s.claims, "supported": s.supported, "weak": s.weak,
                    "unsupported": s.unsupported,
                })
            })
            .collect();
        let claims: Vec<serde_json::Value> = claims
            .iter()
            .map(|c| {
                serde_json::json!({
                    "section": c.section, "line": c.line, "text": c.text, "cites": c.cites,
                    "verdict": c.verdict.name(), "reason": c.note,
                    "evidence": c.evidence.as_ref().map(|e| serde_json::json!({"source": e.source, "text": e.text})),
                })
            })
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "part": n,
                "clean": checklist.is_clean(),
                "reasons": checklist.reasons(),
                "sections": sections,
                "claims": claims,
                "counts": {"supported": checklist.supported, "weak": checklist.weak, "unsupported": checklist.unsupported},
                "existing_lines": checklist.existing_lines,
                "removed": checklist.removed,
            }))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    outln!("PART {n}: {}", checklist.summary());
    if checklist.existing_lines > 0 && checklist.removed.is_empty() {
        outln!(
            "grows the existing file: all {} of it kept",
            expanse::words::plural(checklist.existing_lines, "line")
        );
    }
    for l in &checklist.removed {
        outln!("  removes or changes line {}: {}", l.line, l.text);
    }
    let reasons = checklist.reasons();
    if reasons.is_empty() {
        outln!("clean: it may be approved unattended (run --approve-all)");
    } else {
        outln!("not clean:");
        for r in &reasons {
            outln!("  - {r}");
        }
    }
    outln!();
    for s in &checklist.sections {
        let mark = match s.mark {
            expanse::review::Mark::Ok => "✓",
            expanse::review::Mark::Warn => "!",
            expanse::review::Mark::Fail => "✗",
        };
        let budget = s.budget.map_or(String::new(), |b| format!("/{b}"));
        outln!(
            "{mark} {}: {}{budget} lines, {} ✓ {} ~ {} ✗ of {} claims{}",
            s.title,
            s.lines,
            s.supported,
            s.weak,
            s.unsupported,
            s.claims,
            s.why
                .as_ref()
                .map(|w| format!(" — {w}"))
                .unwrap_or_default()
        );
    }
    let doubtful: Vec<&expanse::review::Claim> = claims
        .iter()
        .filter(|c| c.verdict != expanse::review::Verdict::Supported)
        .collect();
    if !doubtful.is_empty() {
        outln!(
            "
claims not supported by their sources:"
        );
        for c in doubtful {
            let cites: Vec<String> = c.cites.iter().map(|n| format!("[{n}]")).collect();
            outln!(
                "  line {} {} {}: {}",
                c.line,
                c.verdict.name(),
                cites.join(""),
                expanse::words::shorten(&c.text, 100)
            );
            if let Some(note) = &c.note {
                outln!("      {note}");
            }
            if let Some(e) = &c.evidence {
                outln!(
                    "      nearest in [{}]: {}",
                    e.source,
                    expanse::words::shorten(&e.text, 100)
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn edit(review: &Review, n: u32) -> anyhow::Result<ExitCode> {
    let draft = match review.draft(n) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("expanse: {e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    match expanse::editor::edit(&draft.text) {
        Ok(Some(text)) => {
            if let Err(e) = review.save_edit(n, &text, false) {
                eprintln!("expanse: {e}");
                return Ok(ExitCode::FAILURE);
            }
            outln!("PART {n}: draft updated ({} lines)", text.lines().count());
        }
        Ok(None) => outln!("PART {n}: no change"),
        Err(e) => {
            eprintln!("expanse: {e}");
            return Ok(ExitCode::FAILURE);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A unified diff with line numbers, coloured (red/green, changed words reversed) when `colour`.
pub fn render(diff: &FileDiff, colour: bool) -> String {
    let (red, green, cyan, bold, rev, reset) = if colour {
        (
            "\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[1m", "\x1b[7m", "\x1b[0m",
        )
    } else {
        ("", "", "", "", "", "")
    };
    let mut out = format!(
        "{bold}--- {}\n+++ {}{reset}\n",
        diff.old_name, diff.new_name
    );
    if diff.is_empty() {
        out.push_str("(no changes)\n");
    }
    for (i, h) in diff.hunks.iter().enumerate() {
        // Numbered as `--approve N --hunks` takes them.
        out.push_str(&format!(
            "{cyan}@@ -{},{} +{},{} @@ hunk {}{reset}\n",
            h.old_start,
            h.old_len,
            h.new_start,
            h.new_len,
            i + 1
        ));
        for l in &h.lines {
            let (sign, col) = match l.tag {
                LineTag::Equal => (' ', ""),
                LineTag::Insert => ('+', green),
                LineTag::Delete => ('-', red),
            };
            let num = |n: Option<usize>| n.map_or("    ".to_string(), |n| format!("{n:>4}"));
            out.push_str(&format!("{} {} {col}{sign}", num(l.old), num(l.new)));
            for s in &l.segments {
                if s.emphasized && colour {
                    out.push_str(&format!("{rev}{}{reset}{col}", s.text));
                } else {
                    out.push_str(&s.text);
                }
            }
            out.push_str(reset);
            out.push('\n');
        }
    }
    out
}
