//! How numbers and long strings are written for people: plurals, sizes, shortened text.

/// `1 draft`, `2 drafts` (words whose plural is not `+s` give it: `plural_of(2, "match", "matches")`).
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// `1 match`, `2 matches`.
pub fn plural_of(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `12.3 KB`, `512 B`, `1.4 MB`.
pub fn human_bytes(n: usize) -> String {
    if n < 1024 {
        format!("{n} B")
    } else if n < 1024 * 1024 {
        format!("{:.1} KB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    }
}

/// `s` cut to `max` characters with an ellipsis when longer.
pub fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// `12,345` tokens as `12.3k`, `1.2M`; small counts as they are.
pub fn compact(n: u64) -> String {
    if n < 1_000 {
        n.to_string()
    } else if n < 1_000_000 {
        format!("{:.1}k", n as f64 / 1_000.0)
    } else {
        format!("{:.1}M", n as f64 / 1_000_000.0)
    }
}

/// Dollars with enough digits to tell small amounts apart: `$12.34`, `$0.25`, `$0.0010`,
/// `$0.00068` (two significant digits under ten cents), `$0.00` only for nothing.
pub fn dollars(x: f64) -> String {
    if !x.is_finite() || x <= 0.0 {
        return "$0.00".to_string();
    }
    if x >= 0.1 {
        return format!("${x:.2}");
    }
    let decimals = ((-x.log10()).ceil() as usize + 1).clamp(2, 8);
    format!("${x:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_for_people() {
        assert_eq!(plural(1, "draft"), "1 draft");
        assert_eq!(plural(0, "draft"), "0 drafts");
        assert_eq!(plural_of(2, "match", "matches"), "2 matches");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(2048), "2.0 KB");
        assert_eq!(shorten("abcdef", 3), "abc…");
        assert_eq!(shorten("ab", 3), "ab");
        assert_eq!(shorten("ééé", 2), "éé…");
        assert_eq!(compact(999), "999");
        assert_eq!(compact(12_345), "12.3k");
        assert_eq!(dollars(12.345), "$12.35");
        assert_eq!(dollars(0.25), "$0.25");
        assert_eq!(dollars(0.001), "$0.0010");
        assert_eq!(dollars(0.000678), "$0.00068");
        assert_eq!(dollars(0.05), "$0.050");
        assert_eq!(dollars(0.0), "$0.00");
    }
}
