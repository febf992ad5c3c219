//! Opening a text in the user's `$VISUAL` or `$EDITOR` (default `vi`) and reading it back.

/// Why the editor could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EditorError {
    /// The temp file could not be written or read.
    #[error("cannot prepare the file for the editor: {0}")]
    Io(#[from] std::io::Error),
    /// The editor could not be started.
    #[error("cannot start the editor {editor}: {source}")]
    Start {
        /// The command.
        editor: String,
        /// Why.
        source: std::io::Error,
    },
    /// The editor exited with an error; the text is unchanged.
    #[error("the editor exited with {0}; the draft is unchanged")]
    Failed(std::process::ExitStatus),
}

/// Edit `text` in the user's editor; `Some(new)` when it changed, `None` when saved unchanged.
/// The editor command may carry arguments (`code --wait`), so it runs through `sh -c`.
pub fn edit(text: &str) -> Result<Option<String>, EditorError> {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".into());
    let tmp = tempfile::Builder::new().suffix(".md").tempfile()?;
    std::fs::write(tmp.path(), text)?;
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(tmp.path())
        .status()
        .map_err(|source| EditorError::Start {
            editor: editor.clone(),
            source,
        })?;
    if !status.success() {
        return Err(EditorError::Failed(status));
    }
    let edited = std::fs::read_to_string(tmp.path())?;
    Ok((edited != text).then_some(edited))
}
