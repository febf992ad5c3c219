//! `expanse verify`: each cited claim of a knowledge file against its numbered sources (the
//! workspace's cache, else fetched under the runners' rules), or one claim a line for
//! benchmarks. Exit 1 when any claim is ✗.

use std::collections::BTreeMap;
use std::io::{BufRead as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use expanse::journal::Cache;
use expanse::research::Fetch as _;
use expanse::research::http::{DirectFetch, HttpClient, Redactor, RoutedFetch, http_options};
use expanse::research::local::LocalFetch;
use expanse::review::grounding::{self, Claim, Verdict};
use expanse::review::verify::{ListedSource, answer, check_line, listed_sources};
use expanse::workspace::Workspace;

/// Arguments of `expanse verify`.
#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("input").required(true).args(["file", "jsonl"]))]
pub struct Args {
    /// A knowledge file (markdown with `[n]` citations and a `## Sources` list).
    file: Option<PathBuf>,
    /// One claim a line instead: `{"id","claim","sources":{"1":"text"}}` from FILE (or - for
    /// stdin); prints `{"id","verdict","reason","evidence"}` a line, in order.
    #[arg(long, value_name = "FILE|-", conflicts_with = "file")]
    jsonl: Option<String>,
    /// With FILE, print JSON: {"file","sources","claims","counts"}.
    #[arg(long)]
    json: bool,
    /// Ask the configured model about the claims the check doubts (one request per section).
    #[arg(long)]
    model: bool,
    /// Where `corpus://` sources live (default: the corpus setting, else the demo corpus).
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
}

impl Args {
    /// The file's path as given.
    pub fn file_mut(&mut self) -> Option<&mut PathBuf> {
        self.file.as_mut()
    }
}

/// Run the command.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let ws = Workspace::new(root);
    let config = expanse::config::Config::load(&ws.root)?;
    let judge = if args.model {
        let selection = model_only(&config)?;
        match selection {
            Some(j) => Some(j),
            None => {
                eprintln!(
                    "expanse: --model needs a model (OPENAI_MODEL or [model] model, with OPENAI_BASE_URL)"
                );
                return Ok(ExitCode::FAILURE);
            }
        }
    } else {
        None
    };
    match (&args.file, &args.jsonl) {
        (_, Some(input)) => jsonl(input, judge.as_ref()),
        (Some(file), None) => verify_file(&ws, &config, file, args, judge.as_ref()),
        (None, None) => Ok(ExitCode::FAILURE),
    }
}

/// The model judge when one is configured (`--model`), without the run's providers.
fn model_only(
    config: &expanse::config::Config,
) -> anyhow::Result<Option<expanse::review::opinion::Judge>> {
    let secrets = expanse::config::env::SECRETS
        .iter()
        .filter_map(|k| std::env::var(k).ok());
    let client = Arc::new(
        HttpClient::new(http_options(config), Redactor::new(secrets))
            .map_err(|e| anyhow::anyhow!("cannot set up HTTP: {e}"))?,
    );
    let writer =
        expanse::research::http::model_writer_for(config, &expanse::config::process_env, &client)?;
    let mut forced = config.clone();
    forced.review.verify = Some(expanse::config::Verify::Model);
    Ok(super::second_opinion(&forced, writer.map(|(w, _)| w)))
}

/// `--jsonl`: each line checked against its own sources; the answers in order.
fn jsonl(input: &str, judge: Option<&expanse::review::opinion::Judge>) -> anyhow::Result<ExitCode> {
    let reader: Box<dyn std::io::BufRead> = if input == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(input).with_context(|| format!("cannot open {input}"))?,
        ))
    };
    let cache_dir = tempfile::tempdir().context("cannot make a folder for answers")?;
    let cache = Cache::new(cache_dir.path());
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = false;
    for (k, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("cannot read line {}", k + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match check_line(&line) {
            Ok((id, claim)) => {
                let mut claims = vec![claim];
                if let Some(j) = judge {
                    let _ = expanse::review::opinion::second_opinion(
                        &mut claims,
                        j.0.as_ref(),
                        &cache,
                        |_| {},
                    );
                }
                let _ = writeln!(out, "{}", answer(&id, &claims[0]));
            }
            Err(e) => {
                eprintln!("expanse: line {}: {e}", k + 1);
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// How each listed source was read.
enum Read {
    Cached,
    Fetched,
    Unreadable(String),
}

fn verify_file(
    ws: &Workspace,
    config: &expanse::config::Config,
    file: &Path,
    args: &Args,
    judge: Option<&expanse::review::opinion::Judge>,
) -> anyhow::Result<ExitCode> {
    let path = ws.resolve(file);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("expanse: {}: {e}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    let listed = listed_sources(&text);
    // The workspace's cache when there is a workspace; fetched pages are kept there too.
    let cache = ws
        .knowledge()
        .is_dir()
        .then(|| Cache::new(&ws.state().join("cache")));
    let corpus = args
        .corpus
        .clone()
        .or_else(|| config.corpus.clone())
        .map(|c| ws.resolve(&c))
        .unwrap_or_else(|| ws.default_corpus());
    let mut options = http_options(config);
    options.attempts = 2;
    let secrets = expanse::config::env::SECRETS
        .iter()
        .filter_map(|k| std::env::var(k).ok());
    let client = HttpClient::new(options, Redactor::new(secrets))
        .map_err(|e| anyhow::anyhow!("cannot set up HTTP: {e}"))?;
    let fetch = RoutedFetch::new(
        Some(LocalFetch::new(corpus)),
        Arc::new(DirectFetch::new(Arc::new(client), None)),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut texts: BTreeMap<usize, String> = BTreeMap::new();
    let mut how: Vec<(ListedSource, Read)> = Vec::new();
    for s in listed {
        // A run may have fetched it through any provider: each key it could be cached under.
        let cached = cache.as_ref().and_then(|c| {
            [fetch.cache_key(&s.url), "brightdata unlocker".into()]
                .iter()
                .find_map(|k| c.page(k, &s.url))
        });
        let read = match cached {
            Some(page) => {
                texts.insert(s.n, page.content);
                Read::Cached
            }
            None => match rt.block_on(fetch.fetch(&s.url, &|_: &str| {})) {
                Ok(page) => {
                    if let Some(c) = &cache {
                        let _ = c.put_page(&fetch.cache_key(&s.url), &page);
                    }
                    texts.insert(s.n, page.content);
                    Read::Fetched
                }
                Err(e) => Read::Unreadable(e.to_string()),
            },
        };
        how.push((s, read));
    }
    let mut claims = grounding::check(grounding::claims(&text, false), &texts);
    // A source listed but not readable was not "never gathered": say what happened to it.
    for c in claims.iter_mut() {
        for (s, r) in &how {
            if let Read::Unreadable(why) = r
                && c.cites.contains(&s.n)
                && c.note
                    .as_deref()
                    .is_some_and(|n| n.contains("never gathered"))
            {
                c.note = Some(format!("[{}] could not be read ({why})", s.n));
            }
        }
    }
    if let Some(j) = judge {
        let answers = tempfile::tempdir().context("cannot make a folder for answers")?;
        let c = cache.unwrap_or_else(|| Cache::new(answers.path()));
        if let Err(e) =
            expanse::review::opinion::second_opinion(&mut claims, j.0.as_ref(), &c, |_| {})
        {
            eprintln!("expanse: the model's second opinion failed: {e}");
        }
    }
    let count = |v: Verdict| claims.iter().filter(|c| c.verdict == v).count();
    let counts = [
        ("supported", count(Verdict::Supported)),
        ("weak", count(Verdict::Weak)),
        ("unsupported", count(Verdict::Unsupported)),
        ("uncited", count(Verdict::Uncited)),
    ];
    if args.json {
        let sources: Vec<serde_json::Value> = how
            .iter()
            .map(|(s, r)| {
                let (status, why) = match r {
                    Read::Cached => ("cached", None),
                    Read::Fetched => ("fetched", None),
                    Read::Unreadable(w) => ("unreadable", Some(w.clone())),
                };
                serde_json::json!({"n": s.n, "url": s.url, "title": s.title, "status": status, "reason": why})
            })
            .collect();
        let list: Vec<serde_json::Value> = claims.iter().map(claim_json).collect();
        let counts: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|(k, n)| (k.to_string(), serde_json::json!(n)))
            .collect();
        outln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "file": file.display().to_string(),
                "sources": sources,
                "claims": list,
                "counts": counts,
            }))?
        );
    } else {
        for (s, r) in &how {
            match r {
                Read::Cached => outln!("[{}] {} (from the cache)", s.n, s.url),
                Read::Fetched => outln!("[{}] {} (fetched)", s.n, s.url),
                Read::Unreadable(w) => outln!("[{}] {} could not be read: {w}", s.n, s.url),
            }
        }
        if how.is_empty() {
            outln!(
                "{} has no ## Sources list: every cited number is a source never gathered",
                file.display()
            );
        }
        outln!();
        for c in &claims {
            outln!(
                "{} line {}: {}{}",
                c.verdict.glyph(),
                c.line,
                expanse::words::shorten(&c.text, 100),
                c.note
                    .as_ref()
                    .map(|n| format!("\n    {n}"))
                    .unwrap_or_default()
            );
        }
        outln!(
            "\n{}: {} ✓ supported, {} ~ weak, {} ✗ unsupported, {} ? uncited",
            expanse::words::plural(claims.len(), "claim"),
            counts[0].1,
            counts[1].1,
            counts[2].1,
            counts[3].1
        );
    }
    Ok(if counts[2].1 > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn claim_json(c: &Claim) -> serde_json::Value {
    serde_json::json!({
        "line": c.line, "text": c.text, "cites": c.cites, "verdict": c.verdict.name(),
        "reason": c.note, "evidence": c.evidence.as_ref().map(|e| serde_json::json!({"source": e.source, "text": e.text})),
    })
}
