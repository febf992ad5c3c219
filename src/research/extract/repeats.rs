//! Text a page shows twice, dropped the second time: responsive layouts, tab panels and
//! "read more" widgets often carry the same paragraphs in two places, and an extractor that keeps
//! both gives the writer (and the citation check) every sentence twice.

use std::collections::HashMap;

/// A repeat shorter than this many words is kept: short lines ("Shop now", a price, a table
/// cell) legitimately occur many times on one page.
pub const MIN_REPEAT_WORDS: usize = 20;

/// Earlier places a line is looked for (its first ones): enough for a page that shows a block
/// two or three times, and what keeps a page of one line repeated 100,000 times linear.
const MAX_PLACES: usize = 4;

/// A run that has not reached [`MIN_REPEAT_WORDS`] within this many lines (separators, table
/// rules, one-word lines) is not followed further.
const PROBE_LINES: usize = 32;

/// `md` with every run of lines that repeats an earlier run of at least [`MIN_REPEAT_WORDS`]
/// words removed. Lines are compared by their words (case and punctuation ignored); fenced code
/// is never touched, since repeated code is usually meant.
pub fn drop_repeats(md: &str) -> String {
    let collapsed;
    let md = if md.lines().any(|l| periodic(l).is_some()) {
        collapsed = md
            .lines()
            .map(|l| periodic(l).unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
            + if md.ends_with('\n') { "\n" } else { "" };
        collapsed.as_str()
    } else {
        md
    };
    let lines: Vec<&str> = md.lines().collect();
    let keys = line_keys(md, &lines);
    let mut seen: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut keep = vec![true; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        let Some(key) = keys[i].as_deref().filter(|k| !k.is_empty()) else {
            i += 1;
            continue;
        };
        let (len, words) = seen
            .get(key)
            .into_iter()
            .flatten()
            .map(|&j| repeat_run(&keys, j, i))
            .max_by_key(|&(_, words)| words)
            .unwrap_or((0, 0));
        if words >= MIN_REPEAT_WORDS {
            keep[i..i + len].iter_mut().for_each(|k| *k = false);
            i += len;
            continue;
        }
        let places = seen.entry(key).or_default();
        if places.len() < MAX_PLACES {
            places.push(i);
        }
        i += 1;
    }
    if keep.iter().all(|&k| k) {
        return md.to_string();
    }
    let mut out = String::with_capacity(md.len());
    let mut blank = false;
    for (line, _) in lines.iter().zip(&keep).filter(|(_, k)| **k) {
        // A dropped run leaves its blank lines on both sides; keep one.
        let is_blank = line.trim().is_empty();
        if is_blank && (blank || out.is_empty()) {
            continue;
        }
        blank = is_blank;
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Shortest text a line repeats end to end, when it is one sentence or more said twice or more
/// in a row: an extractor that reads each of 300 nested blocks writes their one text 300 times
/// on one line. Found with the prefix function (linear); texts under [`MIN_PERIOD`] characters
/// or without a space ("hahaha", a rule of dashes) are left alone.
fn periodic(line: &str) -> Option<&str> {
    // Copies written back to back, or with a space between them.
    period_of(line).or_else(|| {
        let spaced = format!("{line} ");
        period_of(&spaced)
            .filter(|p| p.ends_with(' '))
            .map(|p| &line[..p.len() - 1])
    })
}

/// `line`'s shortest repeating unit when the line is that unit two or more times over.
fn period_of(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    let n = b.len();
    if n < 2 * MIN_PERIOD {
        return None;
    }
    let mut pi = vec![0usize; n];
    for i in 1..n {
        let mut k = pi[i - 1];
        while k > 0 && b[i] != b[k] {
            k = pi[k - 1];
        }
        if b[i] == b[k] {
            k += 1;
        }
        pi[i] = k;
    }
    let period = n - pi[n - 1];
    (period < n
        && n.is_multiple_of(period)
        && period >= MIN_PERIOD
        && line.is_char_boundary(period)
        && line[..period].contains(' '))
    .then(|| &line[..period])
}

/// Shortest text [`periodic`] collapses.
const MIN_PERIOD: usize = 20;

/// Each line's words, lower-cased and joined by single spaces; `None` inside fenced code (and
/// for the fences), so code never matches.
fn line_keys(md: &str, lines: &[&str]) -> Vec<Option<String>> {
    let code = crate::markdown::code_lines(md);
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            (!code.get(i).copied().unwrap_or(false)).then(|| crate::terms::words(line).join(" "))
        })
        .collect()
}

/// How many lines from `later` repeat the lines from `earlier` (the copy must end before
/// `later` starts), and how many words they hold.
fn repeat_run(keys: &[Option<String>], earlier: usize, later: usize) -> (usize, usize) {
    let mut len = 0;
    let mut words = 0;
    while earlier + len < later && later + len < keys.len() {
        match (&keys[earlier + len], &keys[later + len]) {
            (Some(a), Some(b)) if a == b => {
                words += a.split(' ').filter(|w| !w.is_empty()).count();
                len += 1;
            }
            _ => break,
        }
        if len >= PROBE_LINES && words < MIN_REPEAT_WORDS {
            return (0, 0);
        }
    }
    // A run ends on its last line of text, not on the blank lines after it.
    while len > 0 && keys[later + len - 1].as_deref() == Some("") {
        len -= 1;
    }
    (len, words)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARA: &str = "Join me each week for a live, virtual Monday night meditation class. \
Membership fee auto-renews each month. Cancel any time.";

    #[test]
    fn a_paragraph_shown_twice_is_kept_once() {
        let md = format!("# Offer\n\n{PARA}\n\n- Q&A\n\n{PARA}\n\nThe end.\n");
        let out = drop_repeats(&md);
        assert_eq!(out.matches("Join me each week").count(), 1, "{out}");
        assert!(out.contains("- Q&A") && out.contains("The end."), "{out}");
    }

    #[test]
    fn a_repeated_run_of_short_lines_goes_as_a_whole() {
        let items = "- Access to all live, virtual classes\n- Q&A time included in each class\n\
- Exclusive monthly Community Discussion sessions\n- Connection to a supportive community";
        let md = format!("Intro line.\n\n{items}\n\nMiddle.\n\n{items}\n");
        let out = drop_repeats(&md);
        assert_eq!(out.matches("Access to all").count(), 1, "{out}");
        assert_eq!(out.matches("supportive community").count(), 1, "{out}");
        assert!(out.contains("Middle."), "{out}");
    }

    #[test]
    fn short_repeats_and_code_stay() {
        let md = "Plum wine\n$19.00\nShop Now\n\nSaké cup\n$27.50\nShop Now\n\n\
```\nfor x in items: print(x) and then some more words to pass the limit of twenty words ok\n```\n\n\
```\nfor x in items: print(x) and then some more words to pass the limit of twenty words ok\n```\n";
        assert_eq!(drop_repeats(md), md);
    }

    #[test]
    fn pathological_pages_stay_linear_and_correct() {
        // One short line 100,000 times, and 100,000 pairs of a text line and a rule: what is
        // kept is the text up to the first run of MIN_REPEAT_WORDS words, the rest repeats it.
        let same = "Shop now\n".repeat(100_000);
        let out = drop_repeats(&same);
        assert!(
            out.lines().count() <= MIN_REPEAT_WORDS,
            "{} lines",
            out.lines().count()
        );
        let pairs = "one two three\n---\n".repeat(100_000);
        let out = drop_repeats(&pairs);
        assert!(
            out.lines().count() <= 2 * MIN_REPEAT_WORDS,
            "{}",
            out.lines().count()
        );
        assert!(out.starts_with("one two three\n---\n"), "{out}");
        // One line recurring between 100,000 different ones is looked up in a few places, not
        // in every earlier one (which would take minutes), and nothing is dropped.
        let recurring: String = (0..100_000)
            .map(|i| format!("Shop now\nitem {i}\n"))
            .collect();
        assert_eq!(drop_repeats(&recurring), recurring);
        // Rules alone are never a repeat (they hold no words).
        let rules = "---\n".repeat(100_000);
        assert_eq!(drop_repeats(&rules), rules);
    }

    #[test]
    fn one_text_said_many_times_on_one_line_is_said_once() {
        let text = "The deeply nested text still carries words a reader keeps.";
        let md = format!("# T\n\n{}\n\nAfter.\n", text.repeat(256));
        assert_eq!(drop_repeats(&md), format!("# T\n\n{text}\n\nAfter.\n"));
        let spaced = vec![text; 300].join(" ");
        assert_eq!(drop_repeats(&spaced), text);
        // Short or spaceless repeats are text: "ha ha", a rule.
        for keep in [
            "hahahahahahahahahahahahahahahahahahahahahahaha",
            &"-".repeat(80),
            "ok ok ok ok",
        ] {
            assert_eq!(drop_repeats(keep), keep);
        }
    }

    #[test]
    fn case_and_punctuation_do_not_hide_a_repeat() {
        let md = format!("{PARA}\n\n{}\n", PARA.to_uppercase().replace('.', "!"));
        assert_eq!(drop_repeats(&md).trim(), PARA);
    }
}
