//! `expanse extract`: the main content of one page or PDF (file or URL), exactly as a runner
//! sees it. Failures are one line on stderr and exit status 1.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use expanse::research::Fetch as _;
use expanse::research::extract::{Kind, extract_document, markdown_to_text};
use expanse::research::http::{DirectFetch, HttpClient, Redactor, http_options};
use expanse::research::local::MAX_PDF_DOC_BYTES;

/// What to print.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Markdown, as the writer receives it.
    Markdown,
    /// Plain text (markdown syntax removed).
    Text,
}

/// Arguments of `expanse extract`.
#[derive(clap::Args)]
pub struct Args {
    /// An HTML, markdown, text or PDF file, or an http(s) URL.
    input: String,
    /// Print markdown (what the writer gets) or plain text.
    #[arg(long, value_enum, default_value = "markdown")]
    format: Format,
}

/// Run the command.
pub fn run(root: &Path, args: &Args) -> anyhow::Result<ExitCode> {
    let is_url = args.input.starts_with("http://") || args.input.starts_with("https://");
    let page = if is_url {
        fetch(root, &args.input)?
    } else if let Some((scheme, _)) = args.input.split_once("://") {
        Err(format!(
            "{}: only http:// and https:// URLs are fetched, not {scheme}://",
            args.input
        ))
    } else {
        let path = PathBuf::from(&args.input);
        read_file(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let (title, content) = match page {
        Ok(p) => (p.title, p.content),
        Err(line) => {
            eprintln!("expanse: {line}");
            return Ok(ExitCode::FAILURE);
        }
    };
    eprintln!("expanse: title: {title}");
    match args.format {
        Format::Markdown => out!("{content}"),
        Format::Text => out!("{}", markdown_to_text(&content)),
    }
    Ok(ExitCode::SUCCESS)
}

/// A URL through the direct fetcher, as runners fetch it; the error is one line.
fn fetch(root: &Path, url: &str) -> anyhow::Result<Result<expanse::research::Page, String>> {
    let config = expanse::config::Config::load(root)?;
    // Secrets never reach the output: every key the environment holds is redacted.
    let secrets = expanse::config::env::SECRETS
        .iter()
        .filter_map(|k| std::env::var(k).ok());
    let mut options = http_options(&config);
    // One person waiting at a prompt: a failure is reported at once, not after retries (a
    // runner retries; here the user re-runs).
    options.attempts = 1;
    let client = HttpClient::new(options, Redactor::new(secrets))
        .map_err(|e| anyhow::anyhow!("cannot set up HTTP: {e}"))?;
    let fetch = DirectFetch::new(Arc::new(client), None);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // The request log is for runners' panes; this command prints only the outcome.
    let log = |_: &str| {};
    Ok(rt
        .block_on(fetch.fetch(url, &log))
        .map_err(|e| format!("cannot fetch {url}: {}", one_line(&e.to_string()))))
}

/// A file read by its type (extension, else its bytes), under the size caps.
fn read_file(path: &Path) -> Result<expanse::research::Page, String> {
    if path.is_dir() {
        return Err("a folder, not a file: give one page's file, or an http(s) URL".into());
    }
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        _ => e.to_string(),
    })?;
    // Read one byte past the cap to tell "at the cap" from "over it" without trusting metadata.
    let cap = MAX_PDF_DOC_BYTES;
    let mut bytes = Vec::new();
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > cap {
        return Err(format!("larger than the {cap}-byte limit"));
    }
    let kind = Kind::of_file(path, &bytes).map_err(|e| e.to_string())?;
    let name = path.display().to_string();
    // A local file has no URL: the page's own title, else the file name.
    extract_document(&bytes, kind, &name).map_err(|e| e.to_string())
}

/// An error as one short line: the first line, the causes a network stack chains after the
/// reason (`: error trying to connect: dns error: …`) cut to the first two.
fn one_line(message: &str) -> String {
    let first = message.lines().next().unwrap_or_default();
    let parts: Vec<&str> = first.split(": ").collect();
    if parts.len() <= 4 {
        return first.to_string();
    }
    // The provider and what failed, then the deepest cause (it says why: DNS, refused, TLS).
    format!("{}: {}: {}", parts[0], parts[1], parts[parts.len() - 1])
}
