//! Writing a PART's draft: the material its sections are written from, the sections
//! scheduled and written (with a reviewer's reason and a person's notes), and the draft saved
//! with its checklist.

use super::*;

/// What the writing step works from: the sources numbered PART-wide, their passages, and each
/// planned section's share of them.
pub(super) struct Material {
    /// The target as it is on disk when writing starts (None: a new file): the text the draft
    /// grows, and what its diff and base hash are taken against.
    base: Option<String>,
    sources: Vec<Source>,
    passages: Vec<SourcePassage>,
    titles: HashMap<usize, String>,
    planned: Vec<Section>,
    assigned: Vec<Assigned>,
}

pub(super) fn material(part: &Part, progress: &Progress, knowledge: &std::path::Path) -> Material {
    let base = crate::knowledge::read_text(knowledge, &part.target);
    // A file that already cites [1]–[3] gets its new sources numbered from [4].
    let first = base.as_deref().map_or(1, draft::first_free_number);
    let sources: Vec<Source> = machine::fetched_pages(progress)
        .into_iter()
        .enumerate()
        .map(|(i, page)| Source { n: first + i, page })
        .collect();
    let passages = sections::source_passages(&sources);
    let titles: HashMap<usize, String> = sources
        .iter()
        .map(|s| (s.n, s.page.title.clone()))
        .collect();
    let planned = planned_sections(part);
    let queries: Vec<SectionQuery> = planned.iter().map(|s| SectionQuery::new(s, None)).collect();
    let assigned = sections::assign(&passages, &queries, &titles);
    Material {
        base,
        sources,
        passages,
        titles,
        planned,
        assigned,
    }
}

/// A reviewer's reason and a person's notes as one instruction to the writer (None: neither).
pub(super) fn with_notes(feedback: Option<&str>, notes: &[String]) -> Option<String> {
    let mut parts: Vec<String> = feedback
        .filter(|f| !f.trim().is_empty())
        .map(str::to_string)
        .into_iter()
        .collect();
    if !notes.is_empty() {
        parts.push(format!(
            "Notes from the person supervising: {}",
            notes.join(" ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("\n"))
}

/// The passages section `k` is written from: its share, or, when a reviewer gave a reason, a
/// fresh ranking with the reason's words in which the rejected text's passages rank lower.
pub(super) fn passages_for(
    m: &Material,
    k: usize,
    feedback: Option<&str>,
    rejected: &str,
) -> Assigned {
    let Some(reason) = feedback.filter(|r| !r.trim().is_empty()) else {
        return m.assigned[k].clone();
    };
    let others: HashSet<(usize, usize)> = m
        .assigned
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != k)
        .flat_map(|(_, a)| a.passages.iter().map(|(_, p)| (p.source, p.at)))
        .collect();
    let query = SectionQuery::new(&m.planned[k], Some(reason));
    sections::reassign_one(&m.passages, &query, reason, &m.titles, &others, rejected)
}

/// Which sections a writer writes, in order: the one a reviewer asked again (when a draft exists
/// to put it in), else every planned one; less those already finished. Gives how many are wanted
/// in all and the ones still to write.
fn schedule(
    planned: usize,
    only: Option<usize>,
    has_draft: bool,
    finished: impl Fn(usize) -> bool,
) -> (usize, VecDeque<usize>) {
    let wanted: Vec<usize> = match only {
        Some(k) if k < planned && has_draft => vec![k],
        _ => (0..planned).collect(),
    };
    let pending = wanted.iter().copied().filter(|&k| !finished(k)).collect();
    (wanted.len(), pending)
}

pub(super) async fn write(ctx: &mut RunnerCtx, progress: &Progress) -> Result<Outcome, Stop> {
    let n = ctx.part.number;
    let m = material(&ctx.part, progress, &ctx.knowledge);
    let existing = progress.existing.clone().unwrap_or_default();
    // A file that exists keeps its own title; a new one is named from the plan and the sources.
    let title = m
        .base
        .as_deref()
        .and_then(crate::markdown::title)
        .unwrap_or_else(|| {
            let texts: Vec<&str> = m.sources.iter().map(|s| s.page.content.as_str()).collect();
            draft::title_for(&ctx.part, &texts)
        });
    let mut part = ctx.part.clone();
    part.sections = m.planned.clone();
    let previous = ctx.journal.load_draft(n).ok().flatten();
    // Sections finished before this run, and by this runner before a pause.
    let mut finished: BTreeMap<usize, FinishedSection> = ctx.resume.clone();
    let (total, mut pending) =
        schedule(m.planned.len(), ctx.only_section, previous.is_some(), |k| {
            finished.contains_key(&k)
        });
    if pending.len() < total {
        ctx.log(
            Level::Info,
            format!(
                "resuming: {} of {} already written",
                plural(total - pending.len(), "section"),
                total
            ),
        )
        .await;
    }
    let searched: Vec<String> = machine::planned_searches(&ctx.part)
        .into_iter()
        .map(|s| s.query)
        .collect();
    let writer = ctx.providers.writer.clone();
    let writer_name = writer.name().to_string();
    let request = |k: usize| -> SectionRequest {
        let rejected = previous
            .as_ref()
            .and_then(|d| d.sections.get(k).map(|s| s.text.clone()))
            .unwrap_or_default();
        // A note reaches the sections that start after it, as a reviewer's reason does.
        let notes = ctx.notes.lock().map(|n| n.clone()).unwrap_or_default();
        let feedback = with_notes(ctx.feedback.as_deref(), &notes);
        let assigned = passages_for(&m, k, feedback.as_deref(), &rejected);
        let own = assigned.sources();
        SectionRequest {
            plan_title: ctx.plan_title.clone(),
            part: part.clone(),
            title: title.clone(),
            index: k,
            passages: assigned.passages.into_iter().map(|(_, p)| p).collect(),
            sources: m
                .sources
                .iter()
                .filter(|s| own.contains(&s.n))
                .cloned()
                .collect(),
            existing: existing.clone(),
            already: m
                .base
                .as_deref()
                .and_then(|b| draft::existing_section(b, &m.planned[k].title)),
            feedback,
            previous: (!rejected.is_empty()).then_some(rejected),
            searched: searched.clone(),
            max_tokens: None,
        }
    };
    if pending.is_empty() && finished.len() < total {
        // Nothing left to do yet sections are missing: cannot happen, but never loop on it.
        return Ok(Outcome::Failed("no section could be scheduled".into()));
    }
    ctx.log(
        Level::Info,
        format!(
            "writing {} with {} from {}",
            plural(pending.len(), "section"),
            writer_name,
            plural(m.sources.len(), "source")
        ),
    )
    .await;

    let mut running = FuturesUnordered::new();
    let mut in_flight: BTreeSet<usize> = BTreeSet::new();
    let mut budget_stop: Option<String> = None;
    loop {
        while budget_stop.is_none()
            && in_flight.len() < SECTIONS_AT_ONCE
            && let Some(&k) = pending.front()
        {
            let mut req = request(k);
            // With a budget, every request has a bound on what it may spend, reserved before it
            // starts: the budget is a cap, not a line that requests in flight run past.
            let ticket = if ctx.budget.limited() {
                req.max_tokens = Some(crate::runner::estimate::completion_cap(req.budget()));
                match writer.most(&req).map(|most| ctx.budget.admit(n, most)) {
                    Some(Ok(t)) => Some(t),
                    Some(Err(crate::runner::budget::Refused(why))) => {
                        if in_flight.is_empty() {
                            return Ok(Outcome::BudgetPaused(why));
                        }
                        budget_stop = Some(why);
                        break;
                    }
                    None => None,
                }
            } else {
                None
            };
            pending.pop_front();
            in_flight.insert(k);
            let writer = writer.clone();
            let sink = log_sink(&ctx.events, n);
            let stream = Arc::new(StreamProgress::new(
                ctx.events.clone(),
                n,
                k,
                m.planned.len(),
                m.planned[k].title.clone(),
            ));
            running.push(async move {
                let pusher = stream.clone();
                let delta = move |piece: &str| pusher.push(piece);
                let result = writer.write_section(&req, &sink, &delta).await;
                (
                    k,
                    req.sources.iter().map(|s| s.n).collect::<Vec<_>>(),
                    result,
                    ticket,
                )
            });
        }
        if in_flight.is_empty() {
            break;
        }
        let next = ctx.interruptible(running.next()).await;
        let (k, sources, result, ticket): (
            usize,
            Vec<usize>,
            Result<Written, ResearchError>,
            Option<Ticket>,
        ) = match next {
            Ok(Some(done)) => done,
            Ok(None) => break,
            Err(Stop::Paused) => {
                // Dropping the futures closes their streams; partial text is discarded.
                drop(running);
                ctx.log(
                    Level::Info,
                    format!(
                        "paused: {} closed ({}); {} kept",
                        plural(in_flight.len(), "section stream"),
                        in_flight
                            .iter()
                            .map(|k| format!("section {}", k + 1))
                            .collect::<Vec<_>>()
                            .join(", "),
                        plural(finished.len(), "finished section")
                    ),
                )
                .await;
                return Err(Stop::Paused);
            }
            Err(stop) => return Err(stop),
        };
        in_flight.remove(&k);
        // What the request spent is counted at once, whatever happens to its text.
        let part_total = match (result.as_ref().ok().and_then(|w| w.usage), ticket) {
            (Some(u), Some(t)) => Some(t.settle(u)),
            (Some(u), None) => Some(ctx.budget.add(n, u)),
            (None, _) => None,
        };
        let written = match result {
            Ok(w) => w,
            Err(e) => {
                return Ok(Outcome::Failed(format!(
                    "section {} \"{}\": {e}",
                    k + 1,
                    m.planned[k].title
                )));
            }
        };
        let body = written.body.trim().to_string() + "\n";
        let used: Vec<usize> = draft::cited(&body)
            .into_iter()
            .filter(|c| sources.contains(c) || m.sources.iter().any(|s| s.n == *c))
            .collect();
        if let Err(e) = ctx.journal.append(&Record::Section {
            ts: now(),
            part: n,
            index: k,
            title: m.planned[k].title.clone(),
            text: body.clone(),
            sources: used.clone(),
            writer: writer_name.clone(),
        }) {
            return Ok(Outcome::Failed(format!("could not journal a section: {e}")));
        }
        let mut message = format!(
            "section {}/{} \"{}\" written: {}",
            k + 1,
            m.planned.len(),
            m.planned[k].title,
            plural(body.lines().count(), "line")
        );
        let mut counts = Counts {
            step: Some([total - pending.len() - in_flight.len(), total]),
            ..Counts::default()
        };
        if let Some(u) = written.usage {
            let _ = ctx.journal.append(&Record::Usage {
                ts: now(),
                part: n,
                section: Some(k),
                prompt_tokens: u.prompt_tokens,
                completion_tokens: u.completion_tokens,
                estimated: u.estimated,
            });
            message.push_str(&format!(
                "; {}{} + {} tokens",
                if u.estimated { "~" } else { "" },
                u.prompt_tokens,
                u.completion_tokens
            ));
            counts.usage = part_total;
        }
        ctx.emit(Event::counted(Some(n), Level::Info, message, counts))
            .await;
        let section = FinishedSection {
            text: body,
            sources: used,
            writer: writer_name.clone(),
            ts: now(),
        };
        ctx.resume.insert(k, section.clone());
        finished.insert(k, section);
    }
    if !pending.is_empty() {
        // Stopped by the budget with requests in flight: they finished, the rest waits.
        let why = budget_stop
            .or_else(|| ctx.budget.check(n))
            .unwrap_or_else(|| "budget reached".to_string());
        return Ok(Outcome::BudgetPaused(why));
    }
    Ok(save_draft(ctx, &m, &title, &existing, previous, &finished).await)
}

/// Assemble the finished sections into the draft, save and journal it, and say so.
pub(super) async fn save_draft(
    ctx: &RunnerCtx,
    m: &Material,
    title: &str,
    existing: &crate::knowledge::Existing,
    previous: Option<Draft>,
    finished: &BTreeMap<usize, FinishedSection>,
) -> Outcome {
    let n = ctx.part.number;
    let sections: Vec<DraftSection> = m
        .planned
        .iter()
        .enumerate()
        .map(|(k, s)| match finished.get(&k) {
            Some(f) => DraftSection {
                title: s.title.clone(),
                text: f.text.clone(),
                sources: f.sources.clone(),
                writer: f.writer.clone(),
                written: f.ts.clone(),
            },
            None => previous
                .as_ref()
                .and_then(|d| d.sections.get(k).cloned())
                .unwrap_or_else(|| DraftSection {
                    title: s.title.clone(),
                    text: String::new(),
                    sources: Vec::new(),
                    writer: String::new(),
                    written: String::new(),
                }),
        })
        .collect();
    let fresh = || match m.base.as_deref() {
        Some(base) => draft::grow(base, &sections, &m.sources),
        None => draft::assemble(
            title,
            &draft::existing_note(existing),
            &sections,
            &m.sources,
        ),
    };
    // One section asked for again: put into the text as it is (a reviewer's edits of the
    // other sections stay); otherwise the file is assembled, or grown, from its sections.
    let text = match (ctx.only_section, previous.as_ref()) {
        (Some(k), Some(prev)) if k < sections.len() => {
            let old = prev.sections.get(k).map(|s| s.text.trim()).unwrap_or("");
            let respliced = if m.base.is_some() {
                // In a grown file the section's old text sits among the person's lines.
                (!old.is_empty() && prev.text.matches(old).count() == 1)
                    .then(|| prev.text.replacen(old, sections[k].text.trim(), 1))
            } else {
                draft::splice_section(&prev.text, k + 1, &sections[k].title, &sections[k].text)
                    .map(|t| draft::with_sources(&t, &m.sources))
            };
            respliced.unwrap_or_else(fresh)
        }
        _ => fresh(),
    };
    // The key the page was cached under, so review finds the text the writer read.
    let refs_of = |filter: &dyn Fn(usize) -> bool| -> Vec<SourceRef> {
        m.sources
            .iter()
            .filter(|s| filter(s.n))
            .map(|s| SourceRef {
                n: s.n,
                url: s.page.url.clone(),
                title: s.page.title.clone(),
                provider: ctx.providers.fetch.cache_key(&s.page.url),
            })
            .collect()
    };
    let used = draft::cited(&text);
    let refs = refs_of(&|k| used.contains(&k));
    let gathered = refs_of(&|_| true);
    // The diff is against the target the draft grew from; approval refuses if it changes.
    if let Err(e) = crate::knowledge::resolve_target(&ctx.knowledge, &ctx.part.target)
        && ctx.knowledge.exists()
    {
        return Outcome::Failed(e.to_string());
    }
    let base_hash = m.base.as_deref().map(crate::review::content_hash);
    let created = chrono::Local::now().format("%Y-%m-%d %H:%M").to_string();
    let not_clean = checklist_reasons(ctx, m, existing, &text);
    let written: Vec<String> = sections
        .iter()
        .filter(|s| !s.text.trim().is_empty() && !s.text.lines().any(draft::is_placeholder))
        .map(|s| s.title.clone())
        .collect();
    let drop_text = draft::render_drop(
        &ctx.part,
        text.lines().count(),
        &refs,
        existing,
        &created,
        &not_clean,
        &written,
        &ctx.notes.lock().map(|n| n.clone()).unwrap_or_default(),
    );
    let draft = Draft {
        part: n,
        target: ctx.part.target.clone(),
        title: title.to_string(),
        drop_name: ctx
            .part
            .drop
            .as_ref()
            .map(|d| d.name.clone())
            .unwrap_or_else(|| format!("KNOWLEDGE-DROP-{}-[TIME].md", ctx.part.drop_slug())),
        text,
        drop_text,
        sources: refs,
        gathered,
        sections,
        existing: existing.clone(),
        writer: ctx.providers.writer.name().to_string(),
        created,
        base_hash,
        edited: false,
    };
    if let Err(e) = ctx.journal.save_draft(&draft) {
        return Outcome::Failed(format!("could not save the draft: {e}"));
    }
    let lines = draft.lines();
    if let Err(e) = ctx.journal.append(&Record::Drafted {
        ts: now(),
        part: n,
        lines,
        sources: draft.sources.len(),
    }) {
        return Outcome::Failed(format!("could not journal the draft: {e}"));
    }
    ctx.emit(Event::draft(
        n,
        lines,
        draft.sources.len(),
        format!(
            "draft ready: {}, {}",
            plural(lines, "line"),
            plural(draft.sources.len(), "source")
        ),
    ))
    .await;
    Outcome::Review
}

/// Why the draft is not clean (empty: clean), for the drop's Status: the same checklist the
/// reviewer sees, with claims checked against the sources as fetched.
pub(super) fn checklist_reasons(
    ctx: &RunnerCtx,
    m: &Material,
    existing: &crate::knowledge::Existing,
    text: &str,
) -> Vec<String> {
    use crate::review::{checklist, draft_claims, grounding, must_cite};
    let texts: BTreeMap<usize, String> = m
        .sources
        .iter()
        .map(|s| (s.n, s.page.content.clone()))
        .collect();
    let claims = grounding::check(
        draft_claims(text, m.base.as_deref(), must_cite(&ctx.part)),
        &texts,
    );
    let base: Vec<String> = existing
        .related()
        .filter_map(|f| std::fs::read_to_string(ctx.knowledge.join(&f.path)).ok())
        .collect();
    let gathered: BTreeSet<usize> = texts.keys().copied().collect();
    let mut part = ctx.part.clone();
    part.sections = m.planned.clone();
    checklist(
        &part,
        text,
        m.base.as_deref(),
        &base,
        Some(&gathered),
        &claims,
    )
    .reasons()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_section_asked_again_needs_a_draft_and_finished_ones_are_not_written_twice() {
        let none = |_| false;
        assert_eq!(
            schedule(4, None, false, none),
            (4, VecDeque::from([0, 1, 2, 3]))
        );
        assert_eq!(schedule(4, Some(2), true, none), (1, VecDeque::from([2])));
        // No draft to put it in, or a section the plan no longer has: the whole draft.
        assert_eq!(schedule(4, Some(2), false, none).0, 4);
        assert_eq!(schedule(4, Some(9), true, none).0, 4);
        // Resumed after a pause: only what is left, the count still of all wanted.
        assert_eq!(
            schedule(4, None, true, |k| k == 0 || k == 2),
            (4, VecDeque::from([1, 3]))
        );
        assert_eq!(schedule(4, Some(1), true, |k| k == 1), (1, VecDeque::new()));
    }
}
