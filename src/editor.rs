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
    /// The shell could not find or run the editor command (exit 126 or 127).
    #[error(
        "the editor \"{0}\" was not found (set $VISUAL or $EDITOR to an editor you have, e.g. nano or vi); the draft is unchanged"
    )]
    NotFound(String),
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
        // The shell's own codes: 127 the command was not found, 126 it could not be run.
        return Err(match status.code() {
            Some(126 | 127) => EditorError::NotFound(editor),
            _ => EditorError::Failed(status),
        });
    }
    let edited = std::fs::read_to_string(tmp.path())?;
    Ok((edited != text).then_some(edited))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_missing_editor_is_named() {
        // SAFETY: this test alone reads and sets VISUAL in this process's tests.
        unsafe { std::env::set_var("VISUAL", "no-such-editor-xyz") };
        let e = super::edit("text").unwrap_err();
        unsafe { std::env::remove_var("VISUAL") };
        assert!(
            e.to_string()
                .starts_with("the editor \"no-such-editor-xyz\" was not found"),
            "{e}"
        );
    }
}
