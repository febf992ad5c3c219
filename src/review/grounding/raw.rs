//! A token as cut from the normalised text, before its key: what numbers are merged from
//! (`numbers`) and tokens are keyed from (`tokens`).

/// A token as cut from the text, before its key and flags (spec §2.1).
#[derive(Debug, Clone)]
pub(super) struct Raw {
    /// As written (after normalisation).
    pub surface: String,
    /// Lowercase; a money amount's value (`$2m` → `2000000`).
    pub lower: String,
    /// Char offsets in the normalised text: where it starts…
    pub start: usize,
    /// …and ends.
    pub end: usize,
    /// A `-` right before it.
    pub hyph_prev: bool,
    /// A `-` and a token char right after it.
    pub hyph_next: bool,
    /// Punctuation that ends a clause follows it.
    pub clause_end: bool,
    /// The double-quoted span it sits in, if any.
    pub quote: Option<usize>,
}
