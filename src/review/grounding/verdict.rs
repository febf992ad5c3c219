//! The findings on a claim and its verdict against one source (spec §6): negation and polarity
//! conflicts, numbers, dates and names the evidence lacks, hedges, misquotes, and the reason a
//! reviewer reads.

use std::collections::HashSet;

use super::Verdict;
use super::evidence::{Look, Probe, governed, join, look, negated_anywhere, negated_keys};
use super::source::Source;
use super::tokens::{Kind, Tok, Vocab};

/// Below this share of the claim's weight found, the source holds nothing of it.
const T_NOCONTENT: f64 = 0.20;
/// Longest quotation of the evidence in a reason, in chars.
const QUOTE_LEN: usize = 80;

/// How one source bears on one claim.
#[derive(Debug, Clone)]
pub(super) struct Judgement {
    pub verdict: Verdict,
    /// Why it is not supported (empty when it is).
    pub reason: String,
    /// The chosen sentences, in source order, joined by one space (empty when none).
    pub evidence: String,
}

/// Whitespace collapsed, cut to `QUOTE_LEN` chars with an ellipsis.
fn quote(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= QUOTE_LEN {
        s
    } else {
        s.chars().take(QUOTE_LEN - 1).chain(['…']).collect()
    }
}

/// Terms as the claim writes them, quoted: `"a", "b"`.
fn listing<'a>(surfaces: impl Iterator<Item = &'a str>) -> String {
    surfaces
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A negation cue with the word it governs, as the claim writes them (`not want`).
fn cue_phrase(toks: &[Tok], cue: usize, head: Option<usize>) -> String {
    let mut s = toks[cue].surface.to_lowercase();
    if let Some(h) = head {
        s.push(' ');
        s.push_str(&toks[h].surface);
    }
    s
}

/// The content word right after a claim's number, if it is a word (its unit: 230 *meters*).
fn unit_after(toks: &[Tok], at: usize) -> Option<&Tok> {
    toks.get(at + 1).filter(|n| !n.stop && n.kind == Kind::Word)
}

/// A number in the evidence standing where the claim's stands: followed by the same unit
/// ("250 meters" for the claim's "230 meters") and another value.
fn number_alternative(toks: &[Tok], at: usize, ev: &[&Tok]) -> Option<String> {
    let unit = unit_after(toks, at)?;
    ev.windows(2)
        .find(|w| w[0].kind == Kind::Number && w[1].key == unit.key && w[0].key != toks[at].key)
        .map(|w| format!("{} {}", w[0].surface, w[1].surface))
}

/// Judge a claim against one source.
pub(super) fn judge(probe: &Probe, source: &Source, vocab: &Vocab) -> Judgement {
    let verdict = |verdict, reason: String, evidence: String| Judgement {
        verdict,
        reason,
        evidence,
    };
    if probe.terms.is_empty() {
        return verdict(
            Verdict::Weak,
            "the claim has no content words to check".into(),
            String::new(),
        );
    }
    if source.sents.is_empty() {
        return verdict(
            Verdict::Unsupported,
            "the source has no text".into(),
            String::new(),
        );
    }
    let l = look(probe, source, vocab);
    let ev_text = l.text(source);
    let f = findings(probe, source, &l, &ev_text);
    let toks = &probe.toks;
    let surface = |j: usize| toks[l.terms[j].tok].surface.as_str();

    // Rule NEGATION: a polarity conflict is unsupported when the evidence is about the same
    // statement (the claim's terms are found, as for supported).
    if let Some(c) = &f.conflict
        && l.enough
    {
        return verdict(Verdict::Unsupported, c.clone(), ev_text);
    }
    // (2) The evidence states the rest of the claim and never the negation.
    if f.conflict.is_none()
        && let Some((cue, head)) = f.unshared
        && l.enough
        && f.missing.is_empty()
        && !l.ev_toks.iter().any(|u| u.neg || u.wneg)
        && !negated_anywhere(&f.neg_heads, source)
    {
        let reason = format!(
            "the claim says \"{}\"; the evidence does not (\"{}\")",
            cue_phrase(toks, cue, head),
            quote(&ev_text)
        );
        return verdict(Verdict::Unsupported, reason, ev_text);
    }
    // Rule NUMBER-ABSENT (DATES-ABSENT for years and months): after §1–§2 a number has one
    // form, so one the whole page never gives is a real absence.
    for &j in &f.never {
        let at = l.terms[j].tok;
        if matches!(toks[at].kind, Kind::Number | Kind::Year | Kind::Month) {
            let reason = match number_alternative(toks, at, &l.ev_toks) {
                Some(other) => {
                    let unit =
                        unit_after(toks, at).map_or(String::new(), |u| format!(" {}", u.surface));
                    format!(
                        "the source says {other}; the claim says {}{unit}",
                        surface(j)
                    )
                }
                None => format!("the source never gives {}", surface(j)),
            };
            return verdict(Verdict::Unsupported, reason, ev_text);
        }
    }
    // Heaviest first; a stable sort keeps the claim's order on a tie.
    let mut uncovered: Vec<usize> = (0..l.terms.len()).filter(|&j| !l.found[j]).collect();
    uncovered.sort_by(|a, b| l.weights[*b].total_cmp(&l.weights[*a]));
    // Rule NO-CONTENT.
    if l.cov < T_NOCONTENT {
        let reason = format!(
            "found nothing of the claim in the source (not found: {})",
            listing(uncovered.iter().take(5).map(|&j| surface(j)))
        );
        return verdict(Verdict::Unsupported, reason, ev_text);
    }
    let mut reasons = Vec::new();
    if let Some(c) = &f.conflict {
        reasons.push(c.clone());
    } else if let Some((cue, head)) = f.unshared {
        reasons.push(format!(
            "the claim says \"{}\"; the evidence neither states nor denies it",
            cue_phrase(toks, cue, head)
        ));
    }
    if let Some(p) = &f.polarity
        && f.conflict.is_none()
    {
        reasons.push(p.clone());
    }
    let (names, numbers): (Vec<usize>, Vec<usize>) = f
        .never
        .iter()
        .partition(|&&j| toks[l.terms[j].tok].kind == Kind::Word);
    let list = |js: &[usize]| {
        js.iter()
            .map(|&j| surface(j))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !numbers.is_empty() {
        reasons.push(format!("the source never gives {}", list(&numbers)));
    }
    if !names.is_empty() {
        reasons.push(format!("the source never mentions {}", list(&names)));
    }
    if !f.elsewhere.is_empty() {
        reasons.push(format!(
            "the passage found does not mention {} (the source does, elsewhere)",
            list(&f.elsewhere)
        ));
    }
    if let Some(h) = f.hedge {
        reasons.push(format!("the evidence only says \"{h}\""));
    }
    if let Some(span) = &l.misquoted {
        let words: Vec<&str> = span.iter().map(|&i| toks[i].surface.as_str()).collect();
        reasons.push(format!(
            "the source never says \"{}\" as quoted",
            words.join(" ")
        ));
    }
    if reasons.is_empty() && l.enough {
        return verdict(Verdict::Supported, String::new(), ev_text);
    }
    if !l.enough {
        let rest: Vec<usize> = uncovered
            .iter()
            .copied()
            .filter(|j| !f.missing.contains(j))
            .take(5)
            .collect();
        if !rest.is_empty() {
            reasons.push(format!(
                "found no passage stating: {}",
                listing(rest.iter().map(|&j| surface(j)))
            ));
        }
    }
    verdict(Verdict::Weak, reasons.join("; "), ev_text)
}

/// Everything that keeps a claim from supported, computed whichever rule decides (§6.1).
struct Findings<'a> {
    /// A negation conflict's reason (the first one).
    conflict: Option<String>,
    /// A claim negation the evidence neither states nor denies: (cue, head) in claim tokens.
    unshared: Option<(usize, Option<usize>)>,
    /// Its heads' keys.
    neg_heads: HashSet<u32>,
    polarity: Option<String>,
    /// Required terms (numbers, dates, names) not found, as term indices: all of them, those
    /// the page never gives, and those it gives elsewhere.
    missing: Vec<usize>,
    never: Vec<usize>,
    elsewhere: Vec<usize>,
    /// The hedge cue of the evidence governing a claim term.
    hedge: Option<&'a str>,
}

fn findings<'a>(probe: &Probe, source: &Source, l: &Look<'a>, ev_text: &str) -> Findings<'a> {
    let toks = &probe.toks;
    let ctoks: Vec<&Tok> = toks.iter().collect();
    let a_toks: Vec<&Tok> = l
        .anchors
        .iter()
        .flat_map(|&i| source.sents[i].toks.iter())
        .collect();
    let claim_keys: HashSet<u32> = l.terms.iter().map(|t| t.key).collect();

    // Rule NEGATION, claim side: the word a claim cue governs, negated, stated or neither.
    let anchor_neg = negated_keys(&a_toks);
    let (mut conflict, mut unshared, mut neg_heads) = (None, None, HashSet::new());
    for (cue, head) in governed(&ctoks, |t| t.neg) {
        let heads: Vec<usize> = head.into_iter().collect();
        if heads.iter().any(|&h| anchor_neg.contains(&toks[h].key)) {
            continue; // the main evidence negates it too
        }
        if let Some(&s) = heads.iter().find(|&&h| l.plain.contains(&toks[h].key))
            && conflict.is_none()
        {
            conflict = Some(format!(
                "the claim says \"{} {}\"; the evidence does not (\"{}\")",
                toks[cue].surface.to_lowercase(),
                toks[s].surface,
                quote(ev_text)
            ));
            continue;
        }
        unshared = Some((cue, head));
        neg_heads = heads.iter().map(|&h| toks[h].key).collect();
    }
    // Evidence side: the anchors negate a claim term the claim states plainly.
    if !l.anchors.is_empty() {
        for (cue, head) in governed(&a_toks, |t| t.neg) {
            let clash = head.filter(|&j| {
                let k = a_toks[j].key;
                claim_keys.contains(&k) && !l.claim_neg.contains(&k) && !l.plain.contains(&k)
            });
            if let Some(j) = clash
                && conflict.is_none()
            {
                conflict = Some(format!(
                    "the evidence says \"{} {}\"; the claim does not (\"{}\")",
                    a_toks[cue].surface.to_lowercase(),
                    a_toks[j].surface,
                    quote(&join(&l.anchors, source))
                ));
            }
        }
    }

    // Rule POLARITY: a negation on one side only must never pass.
    let c_cue = toks.iter().find(|t| t.neg || t.wneg);
    let e_cue = a_toks.iter().position(|t| t.neg || t.wneg);
    let polarity = match (c_cue, e_cue) {
        (None, Some(k)) => {
            let next = a_toks[k + 1..]
                .iter()
                .find(|u| !u.stop)
                .map_or("", |u| u.surface.as_str());
            let phrase = format!("{} {next}", a_toks[k].surface.to_lowercase());
            Some(format!(
                "the evidence says \"{}\"; the claim has no negation",
                phrase.trim()
            ))
        }
        (Some(c), None) if unshared.is_none() => Some(format!(
            "the claim says \"{}\"; the evidence has no negation",
            c.surface.to_lowercase()
        )),
        _ => None,
    };

    // Rule REQUIRED: numbers, dates and names must be in the evidence.
    let missing: Vec<usize> = (0..l.terms.len())
        .filter(|&j| {
            let t = &toks[l.terms[j].tok];
            (matches!(t.kind, Kind::Number | Kind::Year | Kind::Month) || t.named) && !l.found[j]
        })
        .collect();
    let (elsewhere, never): (Vec<usize>, Vec<usize>) = missing
        .iter()
        .partition(|&&j| l.terms[j].found(|k| source.has(k)));

    // Rule HEDGE: "may", "planned", "alleged" in the evidence do not state it.
    let hedge = if toks.iter().any(|t| t.hedge) {
        None
    } else {
        governed(&l.ev_toks, |t| t.hedge)
            .into_iter()
            .find(|(_, h)| h.is_some_and(|j| claim_keys.contains(&l.ev_toks[j].key)))
            .map(|(c, _)| l.ev_toks[c].surface.as_str())
    };
    Findings {
        conflict,
        unshared,
        neg_heads,
        polarity,
        missing,
        never,
        elsewhere,
        hedge,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::one;
    use super::*;

    #[test]
    fn a_number_the_source_never_gives_is_unsupported() {
        // The same unit: the source's number is named.
        assert_eq!(
            one(
                "The tower is 230 meters tall and stands in Paris.",
                "The tower is 250 meters tall and stands in Paris."
            ),
            (
                Verdict::Unsupported,
                "the source says 250 meters; the claim says 230 meters".into()
            )
        );
        assert_eq!(
            one(
                "The festival drew 1,200 people in Paris.",
                "The festival drew a large crowd in Paris."
            ),
            (Verdict::Unsupported, "the source never gives 1,200".into())
        );
    }

    #[test]
    fn a_year_or_month_never_given_is_unsupported() {
        assert_eq!(
            one(
                "The bridge opened in 1933 in Sydney.",
                "The bridge opened in 1932 in Sydney."
            ),
            (Verdict::Unsupported, "the source never gives 1933".into())
        );
        assert_eq!(
            one(
                "The bridge opened in April 1932.",
                "The bridge opened in March 1932."
            ),
            (Verdict::Unsupported, "the source never gives April".into())
        );
    }

    #[test]
    fn a_negation_on_one_side_is_unsupported() {
        let (v, note) = one(
            "The museum does not allow photography in its galleries.",
            "The museum allows photography in its galleries.",
        );
        assert_eq!(v, Verdict::Unsupported);
        assert!(
            note.starts_with("the claim says \"not allow\"; the evidence does not"),
            "{note}"
        );
        // The evidence's negation: its head counts as not found (rule NEGATED-MENTION), so the
        // claim must be long enough for the rest to be found (a four-term claim stays weak).
        let (v, note) = one(
            "The city museum allows flash photography in its main galleries on weekends.",
            "The city museum does not allow flash photography in its main galleries on weekends.",
        );
        assert_eq!(v, Verdict::Unsupported);
        assert!(
            note.starts_with("the evidence says \"not allow\"; the claim does not"),
            "{note}"
        );
    }

    #[test]
    fn nothing_of_the_claim_is_unsupported() {
        let (v, note) = one(
            "The stock market crashed badly.",
            "Penguins live in Antarctica.",
        );
        assert_eq!(v, Verdict::Unsupported);
        assert!(
            note.starts_with("found nothing of the claim in the source (not found: \"stock\""),
            "{note}"
        );
    }

    #[test]
    fn a_hedged_source_never_supports_a_plain_claim() {
        let source = "The striker is suspected of a knee injury, the club said.";
        for claim in [
            "The striker has a confirmed knee injury, the club said.",
            "The striker has a knee injury, the club said.",
        ] {
            let (v, note) = one(claim, source);
            assert_eq!(v, Verdict::Weak, "{claim}");
            assert!(
                note.contains("the evidence only says \"suspected\""),
                "{note}"
            );
        }
        // Hedged alike, it is what the source says.
        assert_eq!(
            one("The striker is suspected of a knee injury.", source).0,
            Verdict::Supported
        );
    }

    #[test]
    fn support_spread_over_distant_sentences_is_found() {
        let source = "Marie Curie was born in Warsaw. She studied at the Flying University. \
            Her family was poor. She moved to Paris in 1891. She studied physics at the Sorbonne. \
            She met Pierre there. She won the Nobel Prize in Physics in 1903. She died in 1934.";
        let c = super::super::check(
            vec![super::super::RawClaim {
                section: None,
                line: 1,
                text: "Marie Curie, born in Warsaw, moved to Paris in 1891 and won the Nobel Prize in 1903.".into(),
                cites: vec![1],
            }],
            &std::collections::BTreeMap::from([(1, source.to_string())]),
        )
        .remove(0);
        assert_eq!(c.verdict, Verdict::Supported, "{:?}", c.note);
        assert_eq!(
            c.evidence.map(|e| e.text).as_deref(),
            Some(
                "Marie Curie was born in Warsaw. She moved to Paris in 1891. \
                 She won the Nobel Prize in Physics in 1903."
            )
        );
    }

    #[test]
    fn a_name_the_page_never_gives_is_weak() {
        let (v, note) = one(
            "The bridge, designed by Bradfield, opened in 1932 in Sydney.",
            "The bridge opened in 1932 in Sydney after eight years of work.",
        );
        assert_eq!(v, Verdict::Weak);
        assert!(
            note.contains("the source never mentions Bradfield"),
            "{note}"
        );
    }

    #[test]
    fn no_reason_opposes_two_forms_of_one_thing() {
        let source =
            "The US team won 25 medals in the 2018-2019 season with 1200 athletes and 35 coaches.";
        assert_eq!(
            one(
                "The U.S. team won twenty-five medals in the 2018–19 season, with 1,200 athletes and 35 coaches.",
                source
            )
            .0,
            Verdict::Supported
        );
        let (v, note) = one(
            "The U.S. team won twenty-five medals in the 2018–19 season, with 1,200 athletes and 45 coaches.",
            source,
        );
        assert_eq!(v, Verdict::Unsupported);
        assert_eq!(
            note,
            "the source says 35 coaches; the claim says 45 coaches"
        );
        assert_eq!(quote(&"word ".repeat(30)).chars().count(), QUOTE_LEN);
    }
}
