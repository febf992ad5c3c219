//! The one tokenizer: how expanse splits text into words wherever it compares texts (retrieval,
//! grounding, overlap with the base, repeated lines). tantivy's analyzer does the work — words
//! split at every character that is not a letter or digit, lower-cased, accents folded, English
//! (Porter2) stems — so "Presidents'" and "President's", "optimizers" and "optimizer" are one term.

use std::cell::RefCell;

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
    TokenStream,
};

/// Words longer than this (in bytes) are not words (hashes, base64, minified code).
const LONGEST: usize = 40;

thread_local! {
    static WORDS: RefCell<TextAnalyzer> = RefCell::new(
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(LONGEST))
            .filter(LowerCaser)
            .filter(AsciiFoldingFilter)
            .build(),
    );
    static STEMS: RefCell<TextAnalyzer> = RefCell::new(stemming());
}

/// The analyzer behind [`stems`], for an index that must split text as every other comparison
/// does (the local corpus's search index registers it).
pub fn stemming() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(Stemmer::default())
        .build()
}

fn run(analyzer: &'static std::thread::LocalKey<RefCell<TextAnalyzer>>, text: &str) -> Vec<String> {
    analyzer.with(|a| {
        let mut a = a.borrow_mut();
        let mut stream = a.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    })
}

/// The words of `text`, lower-cased and accent-folded, not stemmed (phrases, shingles, bags).
pub fn words(text: &str) -> Vec<String> {
    run(&WORDS, text)
}

/// The stems of every word of `text`, stopwords kept.
pub fn stems(text: &str) -> Vec<String> {
    run(&STEMS, text)
}

/// The stem of one lower-cased word.
pub fn stem(word: &str) -> String {
    stems(word).into_iter().next().unwrap_or_default()
}

/// The content terms of `text`: stems of its words, stopwords left out.
pub fn terms(text: &str) -> Vec<String> {
    words(text)
        .into_iter()
        .filter(|w| !is_stopword(w))
        .map(|w| stem(&w))
        .collect()
}

/// The word 5-grams of a text: two texts share many only when one repeats the other's wording.
pub fn shingles(text: &str) -> std::collections::HashSet<String> {
    words(text).windows(5).map(|w| w.join(" ")).collect()
}

/// Share of `text`'s 5-grams already in `known` (0 when it has none).
pub fn repeated_share(text: &str, known: &std::collections::HashSet<String>) -> f64 {
    let own = shingles(text);
    if own.is_empty() {
        return 0.0;
    }
    own.iter().filter(|s| known.contains(*s)).count() as f64 / own.len() as f64
}

/// Words too common to say what a text is about, for retrieval and overlap: articles,
/// pronouns, auxiliaries, the commonest prepositions. Negations (`not`, `no`, `never`) are not
/// among them: "is not" and "is" say opposite things.
#[rustfmt::skip]
pub fn is_stopword(word: &str) -> bool {
    matches!(word,
        "a" | "an" | "the" | "and" | "or" | "but" | "if" | "so" | "as" | "at" | "by" | "for" |
        "from" | "in" | "into" | "of" | "on" | "to" | "with" | "via" | "per" | "than" | "then" |
        "is" | "are" | "was" | "were" | "be" | "been" | "being" | "am" | "it" | "its" | "this" |
        "that" | "these" | "those" | "there" | "their" | "they" | "them" | "we" | "our" | "you" |
        "your" | "he" | "she" | "his" | "her" | "which" | "who" | "whom" | "what" | "when" |
        "where" | "while" | "why" | "how" | "also" | "has" | "have" | "had" | "do" | "does" |
        "did" | "can" | "will" | "would" | "should" | "could" | "shall" | "s" | "t" | "about" |
        "all" | "any" | "each" | "such" | "other" | "both" | "vs" | "etc" | "use" | "used" | "using"
    )
}

/// Words a source need not repeat for it to state a claim: the [`is_stopword`] list, the rest
/// of NLTK's English list without its negations (`nor` and the `n't` forms stay content), and
/// vague adverbs, modals and prepositions. Grounding's list only: retrieval keeps "between",
/// "more", "against" and "less", which rank a passage for a section on "latency against
/// throughput" (with them left out the demo's trade-off sections lost a third of their text).
#[rustfmt::skip]
pub fn is_filler(word: &str) -> bool {
    is_stopword(word) || matches!(word,
        // The rest of NLTK English, negations left out.
        "i" | "me" | "my" | "myself" | "ours" | "ourselves" | "yours" | "yourself" |
        "yourselves" | "him" | "himself" | "hers" | "herself" | "itself" | "theirs" |
        "themselves" | "having" | "doing" | "because" | "until" | "against" | "between" |
        "through" | "during" | "before" | "after" | "above" | "below" | "up" | "down" | "out" |
        "off" | "over" | "under" | "again" | "further" | "once" | "here" | "few" | "more" |
        "most" | "some" | "only" | "own" | "same" | "too" | "very" | "just" | "now" | "d" |
        "ll" | "m" | "o" | "re" | "ve" | "y" | "ain" |
        // Vague adverbs, modals, prepositions.
        "currently" | "approximately" | "nearly" | "almost" | "roughly" | "still" | "several" |
        "many" | "much" | "every" | "either" | "another" | "however" | "later" | "instead" |
        "prior" | "actual" | "actually" | "ultimately" | "already" | "eventually" | "including" |
        "thus" | "therefore" | "although" | "though" | "yet" | "whereas" | "whether" | "since" |
        "upon" | "within" | "across" | "along" | "among" | "around" | "toward" | "towards" |
        "onto" | "may" | "might" | "must" | "one" | "ones" | "less"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_of_one_word_are_one_term() {
        assert_eq!(terms("Presidents'"), terms("President's"));
        assert_eq!(terms("optimizers"), terms("optimizer"));
        assert_eq!(terms("African-Americans"), terms("African Americans"));
        assert_eq!(terms("Café"), terms("cafe"));
    }

    #[test]
    fn stopwords_go_but_negations_stay() {
        assert_eq!(terms("The stage is not sharded"), ["stage", "not", "shard"]);
        assert_eq!(words("The Stage"), ["the", "stage"]);
        assert_eq!(stems("The stages"), ["the", "stage"]);
        assert!(words(&"x".repeat(50)).is_empty(), "no word is that long");
        for w in [
            "ourselves",
            "however",
            "approximately",
            "one",
            "use",
            "vs",
            "etc",
        ] {
            assert!(is_filler(w), "{w}");
        }
        for w in ["not", "no", "nor", "never", "without", "us"] {
            assert!(!is_filler(w) && !is_stopword(w), "{w}");
        }
        // Retrieval keeps the words that say how two things compare.
        for w in ["between", "against", "more", "less"] {
            assert!(is_filler(w) && !is_stopword(w), "{w}");
        }
    }
}
