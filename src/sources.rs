//! Which web sites a runner may fetch: `[sources] deny | prefer | only` in expanse.toml and a
//! plan's own `**Sources**:` line, as site globs (`pinterest.*`, `*.medium.com`, `arxiv.org`).
//! Denied results are never fetched and the log names the rule; preferred ones are fetched
//! first; the same page under two addresses is fetched once. Pure.

use serde::{Deserialize, Serialize};

/// One rule list's name, as the log says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Never fetched.
    Deny,
    /// Fetched first.
    Prefer,
    /// Nothing else fetched.
    Only,
}

/// The sites a run may fetch from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourcePolicy {
    /// Never fetched.
    #[serde(default)]
    pub deny: Vec<String>,
    /// Fetched before the others.
    #[serde(default)]
    pub prefer: Vec<String>,
    /// When not empty, nothing else is fetched.
    #[serde(default)]
    pub only: Vec<String>,
}

/// What the policy says of one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Fetch it; `preferred` ones first.
    Fetch {
        /// A `prefer` rule matched.
        preferred: bool,
    },
    /// Leave it out: which rule, and the glob that decided.
    Skip {
        /// The rule list.
        rule: Rule,
        /// The glob (for `only`: every glob, none of which matched).
        glob: String,
    },
}

/// The host of `url`, lower-cased, without a leading `www.` (None: not a web address).
pub fn host(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    let host = parsed.host_str()?;
    Some(host.strip_prefix("www.").unwrap_or(host).to_string())
}

/// Whether `glob` names `host`: `arxiv.org` the site and its subdomains, `*.medium.com` any
/// subdomain, `pinterest.*` any top-level domain.
pub fn matches(glob: &str, host: &str) -> bool {
    let g = glob.trim().to_ascii_lowercase();
    let g = g.strip_prefix("www.").unwrap_or(&g);
    if let Some(tail) = g.strip_prefix("*.") {
        return host.ends_with(&format!(".{tail}")) || host == tail;
    }
    if let Some(head) = g.strip_suffix(".*") {
        // Any ending (`pinterest.com`, `pinterest.co.uk`), and its subdomains.
        return host.starts_with(&format!("{head}.")) || host.contains(&format!(".{head}."));
    }
    host == g || host.ends_with(&format!(".{g}"))
}

impl SourcePolicy {
    /// Whether any rule is set.
    pub fn is_empty(&self) -> bool {
        self.deny.is_empty() && self.prefer.is_empty() && self.only.is_empty()
    }

    /// This policy with `other`'s rules added (a plan's line on top of the settings).
    pub fn merged(&self, other: &SourcePolicy) -> SourcePolicy {
        let join = |a: &[String], b: &[String]| {
            let mut v = a.to_vec();
            v.extend(b.iter().filter(|g| !a.contains(g)).cloned());
            v
        };
        SourcePolicy {
            deny: join(&self.deny, &other.deny),
            prefer: join(&self.prefer, &other.prefer),
            only: join(&self.only, &other.only),
        }
    }

    /// What the policy says of `url`. Addresses that are not web pages (`corpus://`) are the
    /// user's own documents and always fetched.
    pub fn decide(&self, url: &str) -> Decision {
        let Some(h) = host(url) else {
            return Decision::Fetch { preferred: false };
        };
        if let Some(g) = self.deny.iter().find(|g| matches(g, &h)) {
            return Decision::Skip {
                rule: Rule::Deny,
                glob: g.clone(),
            };
        }
        if !self.only.is_empty() && !self.only.iter().any(|g| matches(g, &h)) {
            return Decision::Skip {
                rule: Rule::Only,
                glob: self.only.join(", "),
            };
        }
        Decision::Fetch {
            preferred: self.prefer.iter().any(|g| matches(g, &h)),
        }
    }

    /// A plan's `**Sources**:` line (`prefer arxiv.org, github.com; deny pinterest.*`), or why
    /// it cannot be read.
    pub fn parse_line(line: &str) -> Result<SourcePolicy, LineError> {
        let mut p = SourcePolicy::default();
        for clause in line.split(';').map(str::trim).filter(|c| !c.is_empty()) {
            let (word, rest) = clause
                .split_once(char::is_whitespace)
                .unwrap_or((clause, ""));
            let list: Vec<String> = rest
                .split([',', ' '])
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(str::to_string)
                .collect();
            if list.is_empty() {
                return Err(LineError::NoSite(clause.to_string()));
            }
            match word.to_ascii_lowercase().as_str() {
                "deny" => p.deny.extend(list),
                "prefer" => p.prefer.extend(list),
                "only" => p.only.extend(list),
                other => return Err(LineError::NotARule(other.to_string())),
            }
        }
        Ok(p)
    }
}

/// Why a plan's Sources line cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    /// A clause with a rule and no site.
    #[error("\"{0}\" names no site")]
    NoSite(String),
    /// A word that is not deny, prefer or only.
    #[error(
        "\"{0}\" is not a source rule; write prefer, deny or only, then sites (prefer arxiv.org, github.com; deny pinterest.*)"
    )]
    NotARule(String),
}

/// The address as a page is identified: scheme and host lower-cased, `www.` and the fragment
/// dropped, tracking parameters (`utm_*`, `fbclid`, `gclid`) removed, no trailing slash.
pub fn canonical(url: &str) -> String {
    let Ok(mut u) = reqwest::Url::parse(url) else {
        return url.to_string();
    };
    u.set_fragment(None);
    if let Some(h) = u
        .host_str()
        .and_then(|h| h.strip_prefix("www."))
        .map(str::to_string)
    {
        let _ = u.set_host(Some(&h));
    }
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("utm_") && k != "fbclid" && k != "gclid"
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    let path = u.path().trim_end_matches('/').to_string();
    u.set_path(&path);
    u.to_string().trim_end_matches('/').to_string()
}

/// The site a named scrape target means (`Scrape DeepSpeed GitHub docs/tutorials` ->
/// `github.com`), for the sites whose names say it plainly.
pub fn named_site(target: &str) -> Option<&'static str> {
    const SITES: &[(&str, &str)] = &[
        ("github", "github.com"),
        ("arxiv", "arxiv.org"),
        ("nvidia", "nvidia.com"),
        ("pytorch", "pytorch.org"),
        ("hugging face", "huggingface.co"),
        ("huggingface", "huggingface.co"),
        ("kubernetes", "kubernetes.io"),
        ("kubeflow", "kubeflow.org"),
        ("deepspeed", "deepspeed.ai"),
        ("tensorflow", "tensorflow.org"),
        ("amd", "amd.com"),
        ("rocm", "rocm.docs.amd.com"),
        ("intel", "intel.com"),
        ("apple", "developer.apple.com"),
        ("google cloud", "cloud.google.com"),
        ("jax", "jax.readthedocs.io"),
        ("ray docs", "docs.ray.io"),
        ("anyscale", "anyscale.com"),
        ("wikipedia", "wikipedia.org"),
    ];
    let lower = target.to_ascii_lowercase();
    // The most specific name first: "DeepSpeed GitHub docs" is GitHub's.
    [
        "github",
        "arxiv",
        "hugging face",
        "huggingface",
        "wikipedia",
    ]
    .iter()
    .find(|n| lower.contains(*n))
    .and_then(|n| SITES.iter().find(|(k, _)| k == n))
    .or_else(|| SITES.iter().find(|(k, _)| lower.contains(k)))
    .map(|(_, site)| *site)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_name_sites_their_subdomains_and_any_ending() {
        assert!(matches("arxiv.org", "arxiv.org"));
        assert!(matches("arxiv.org", "export.arxiv.org"));
        assert!(!matches("arxiv.org", "notarxiv.org"));
        assert!(matches("*.medium.com", "towardsdatascience.medium.com"));
        assert!(matches("pinterest.*", "pinterest.com"));
        assert!(matches("pinterest.*", "pinterest.co.uk"));
        assert!(matches("pinterest.*", "pinterest.de"));
        assert!(matches("pinterest.*", "uk.pinterest.com"));
        // An address's host is read whatever its case, without www.
        assert_eq!(
            host("HTTPS://www.Pinterest.de/pin/1").as_deref(),
            Some("pinterest.de")
        );
        assert_eq!(host("corpus://zero.md"), None);
        assert!(!matches("pinterest.*", "notpinterest.com"));
    }

    #[test]
    fn deny_wins_only_limits_and_prefer_orders() {
        let p = SourcePolicy {
            deny: vec!["pinterest.*".into()],
            prefer: vec!["arxiv.org".into()],
            only: vec![],
        };
        assert_eq!(
            p.decide("https://www.pinterest.com/pin/1"),
            Decision::Skip {
                rule: Rule::Deny,
                glob: "pinterest.*".into()
            }
        );
        assert_eq!(
            p.decide("https://arxiv.org/abs/1"),
            Decision::Fetch { preferred: true }
        );
        assert_eq!(
            p.decide("corpus://a.md"),
            Decision::Fetch { preferred: false }
        );
        let only = SourcePolicy {
            only: vec!["github.com".into()],
            ..SourcePolicy::default()
        };
        assert!(matches!(
            only.decide("https://blog.example/x"),
            Decision::Skip {
                rule: Rule::Only,
                ..
            }
        ));
        assert_eq!(
            only.decide("https://github.com/a/b"),
            Decision::Fetch { preferred: false }
        );
    }

    #[test]
    fn a_plan_line_and_canonical_addresses() {
        let p = SourcePolicy::parse_line("prefer arxiv.org, github.com; deny pinterest.*").unwrap();
        assert_eq!(p.prefer, ["arxiv.org", "github.com"]);
        assert_eq!(p.deny, ["pinterest.*"]);
        assert!(
            SourcePolicy::parse_line("favour x.com")
                .unwrap_err()
                .to_string()
                .contains("not a source rule")
        );
        assert_eq!(
            canonical("HTTPS://www.Example.com/a/b/?utm_source=x&id=3#top"),
            "https://example.com/a/b?id=3"
        );
        assert_eq!(
            canonical("https://example.com/a/b"),
            canonical("https://example.com/a/b/")
        );
        assert_eq!(
            named_site("DeepSpeed GitHub docs/tutorials"),
            Some("github.com")
        );
        assert_eq!(named_site("NVIDIA docs"), Some("nvidia.com"));
        assert_eq!(named_site("examples"), None);
    }
}
