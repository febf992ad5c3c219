//! `expanse verify`: the pieces that need no IO. A knowledge file's numbered Sources list, and
//! the one-claim-a-line contract benchmarks use (`{"id","claim","sources"}` in,
//! `{"id","verdict","reason","evidence"}` out).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::grounding::{self, Claim, RawClaim};
use crate::markdown;

/// One entry of a file's Sources list: `[3] Title — https://…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSource {
    /// Its number.
    pub n: usize,
    /// Its title, as listed.
    pub title: String,
    /// Its address (`https://…`, `http://…` or `corpus://…`).
    pub url: String,
}

/// The entries of `text`'s `## Sources` (or References) list, in order: `[n] Title — url` or
/// `- [n] …`, the address being the entry's last `http(s)://` or `corpus://` word.
pub fn listed_sources(text: &str) -> Vec<ListedSource> {
    let Some(section) = markdown::sections(text, 2).into_iter().find(|s| {
        matches!(
            s.heading.title.to_ascii_lowercase().as_str(),
            "sources" | "references"
        )
    }) else {
        return Vec::new();
    };
    text[section.body]
        .lines()
        .filter_map(|l| {
            let l = l.trim().trim_start_matches(['-', '*']).trim_start();
            let inner = l.strip_prefix('[')?;
            let close = inner.find(']')?;
            let n: usize = inner[..close].parse().ok()?;
            let rest = inner[close + 1..].trim();
            let url = rest
                .split_whitespace()
                .rev()
                .map(|w| w.trim_matches(['<', '>', '(', ')']))
                .find(|w| {
                    w.starts_with("https://")
                        || w.starts_with("http://")
                        || w.starts_with("corpus://")
                })?
                .to_string();
            let title = rest.split(" — ").next().unwrap_or(rest).trim().to_string();
            Some(ListedSource { n, title, url })
        })
        .collect()
}

/// One line of the benchmark contract.
#[derive(Debug, Deserialize)]
struct LineIn {
    id: serde_json::Value,
    claim: String,
    #[serde(default)]
    sources: BTreeMap<String, String>,
}

/// Why a line of `--jsonl` input could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    /// Not the expected JSON object.
    #[error(
        "not a claim line ({0}); expected {{\"id\", \"claim\", \"sources\": {{\"1\": \"text\"}}}}"
    )]
    Json(#[from] serde_json::Error),
    /// A source number that is not a number.
    #[error("source key \"{0}\" is not a number")]
    Key(String),
}

/// The claim of one `--jsonl` line with its verdict, and the line's id. The claim carries its
/// `[n]` markers as a draft does; each number is looked up in the line's own sources.
pub fn check_line(line: &str) -> Result<(serde_json::Value, Claim), LineError> {
    let input: LineIn = serde_json::from_str(line)?;
    let mut sources = BTreeMap::new();
    for (k, v) in input.sources {
        let n: usize = k.trim().parse().map_err(|_| LineError::Key(k.clone()))?;
        sources.insert(n, v);
    }
    let mut cites = crate::draft::citations(&input.claim);
    cites.dedup();
    let raw = RawClaim {
        section: None,
        line: 1,
        text: grounding::plain(&input.claim),
        cites,
    };
    let claim = grounding::check(vec![raw], &sources)
        .into_iter()
        .next()
        .ok_or_else(|| LineError::Key("no claim".into()))?;
    Ok((input.id, claim))
}

/// The answer line for `claim`: `{"id","verdict","reason","evidence"}`, in that order.
pub fn answer(id: &serde_json::Value, claim: &Claim) -> String {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        id: &'a serde_json::Value,
        verdict: &'a str,
        reason: &'a str,
        evidence: Option<&'a str>,
    }
    serde_json::to_string(&Line {
        id,
        verdict: claim.verdict.name(),
        reason: claim.note.as_deref().unwrap_or(""),
        evidence: claim.evidence.as_ref().map(|e| e.text.as_str()),
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sources_list_gives_numbers_titles_and_addresses() {
        let text = "# T\n\nx [1]\n\n## Sources\n\n[1] ZeRO — DeepSpeed — https://deepspeed.ai/zero\n- [2] Notes — corpus://dist/zero.md\n[3] no address here\n\n## After\n\n[4] Not a source — https://x\n";
        let got = listed_sources(text);
        assert_eq!(
            got,
            vec![
                ListedSource {
                    n: 1,
                    title: "ZeRO".into(),
                    url: "https://deepspeed.ai/zero".into()
                },
                ListedSource {
                    n: 2,
                    title: "Notes".into(),
                    url: "corpus://dist/zero.md".into()
                },
            ]
        );
    }

    #[test]
    fn a_jsonl_line_is_checked_against_its_own_sources() {
        let (id, c) = check_line(
            r#"{"id": "x1", "claim": "FSDP arrived in PyTorch 1.11 in 2022. [1]", "sources": {"1": "FSDP became part of core PyTorch in version 1.11 (2022)."}}"#,
        )
        .unwrap();
        assert_eq!(id, "x1");
        assert_eq!(c.cites, [1]);
        let line = answer(&id, &c);
        assert!(line.starts_with("{\"id\":\"x1\",\"verdict\":"), "{line}");
        let a: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert!(a["verdict"].is_string() && a["evidence"].is_string(), "{a}");
        let (_, never) =
            check_line(r#"{"id": 2, "claim": "A fact about 1999. [4]", "sources": {"1": "text"}}"#)
                .unwrap();
        let a: serde_json::Value =
            serde_json::from_str(&answer(&serde_json::json!(2), &never)).unwrap();
        assert_eq!(a["verdict"], "unsupported");
        assert_eq!(a["reason"], "[4] was never gathered");
        assert!(
            check_line("not json")
                .unwrap_err()
                .to_string()
                .contains("not a claim line")
        );
    }
}
