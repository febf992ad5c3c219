//! The placeholder a planned section gets when no gathered passage fits it, and how to tell it
//! from content (the checklist never counts it). Here, below the writers that make it.

/// The placeholder a section gets when no gathered passage fits it: what was searched, and what
/// to do. The checklist never counts it as content.
pub fn missing_note(section: &crate::plan::Section, searched: &[String]) -> String {
    let mut s = format!(
        "> **Missing:** none of the gathered sources covers \"{}\"",
        section.title
    );
    if let Some(h) = &section.hint {
        s.push_str(&format!(" ({h})"));
    }
    s.push('.');
    if !searched.is_empty() {
        let q: Vec<String> = searched.iter().map(|q| format!("\"{q}\"")).collect();
        s.push_str(&format!(" Searched: {}.", q.join(", ")));
    }
    s.push_str(
        " Add a source on it (a corpus document, a web search) and regenerate this section.",
    );
    s
}

/// Whether a line is the Missing placeholder.
pub fn is_placeholder(line: &str) -> bool {
    line.trim_start()
        .trim_start_matches('>')
        .trim_start()
        .starts_with("**Missing:**")
}
