//! One written form for what keyboards, CMSs and style guides write differently (spec §1):
//! accents, dashes, quotes, contractions, possessives, year ranges, dotted acronyms and ISO
//! dates, applied alike to a claim and to every source sentence.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::canonical_combining_class;

/// A regex from a pattern written in this file; the tests compile every one of them, so a
/// failure here is a typo caught before release, never input-dependent.
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a literal pattern of this file, compiled by its tests")
}

static CANT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\b(ca)n'?t\b|\b(can)not\b"));
static WONT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bwon't\b"));
static SHANT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bshan't\b"));
static AINT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bain't\b"));
static NT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)([A-Za-z])n't\b"));
static DECADE: LazyLock<Regex> = LazyLock::new(|| re(r"\b(\d{2,4})'s\b"));
static POSS_S: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)([A-Za-z])'s\b"));
static POSS_PL: LazyLock<Regex> = LazyLock::new(|| re(r"([A-Za-z])s'(\W|$)"));
static CLITIC: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)([A-Za-z])'(re|ve|ll|d|m)\b"));
static YEAR_RANGE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(1[0-9]|20)([0-9]{2})[-/]([0-9]{2})\b"));
static PER_CENT: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bper cent\b"));
static DOTTED: LazyLock<Regex> = LazyLock::new(|| re(r"\b[A-Za-z](?:\.[A-Za-z])+\b\.?"));
static ISO_DATE: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(1[0-9]{3}|20[0-9]{2})-(0[1-9]|1[0-2])-([0-3][0-9])\b"));

const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Rule FOLD: accents off (Unicode NFKD, combining marks dropped — those of non-zero combining
/// class, as the prototype's `unicodedata.combining`), the letters NFKD leaves whole spelled
/// out, every dash, apostrophe, double quote and narrow space made the ASCII one.
fn fold(text: &str) -> String {
    if text.is_ascii() {
        // NFKD changes no ASCII text; only the backtick is an apostrophe look-alike.
        return text.replace('`', "'");
    }
    let mut out = String::with_capacity(text.len());
    for ch in text.nfkd() {
        if canonical_combining_class(ch) != 0 {
            continue;
        }
        match ch {
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'Æ' => out.push_str("AE"),
            'œ' => out.push_str("oe"),
            'Œ' => out.push_str("OE"),
            'ø' => out.push('o'),
            'Ø' => out.push('O'),
            'đ' | 'ð' => out.push('d'),
            'Đ' | 'Ð' => out.push('D'),
            'ł' => out.push('l'),
            'Ł' => out.push('L'),
            'þ' => out.push_str("th"),
            'Þ' => out.push_str("Th"),
            'ı' => out.push('i'),
            // Rule DASHES: an en dash and a hyphen are one thing (`2018–19`, `10–7`).
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => {
                out.push('-')
            }
            '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{02BC}' | '\u{2032}' | '\u{00B4}' | '`' => {
                out.push('\'')
            }
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{00AB}' | '\u{00BB}'
            | '\u{2033}' => out.push('"'),
            '\u{00A0}' | '\u{2009}' | '\u{202F}' | '\u{2007}' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Rule CONTRACTIONS: a negation must survive as the word `not` (`isn't` → `is not`), never as
/// `isn` + `t`.
fn contractions(t: &str) -> String {
    let t = CANT.replace_all(t, |c: &Captures| {
        let stem = c.get(1).or_else(|| c.get(2)).map_or("ca", |m| m.as_str());
        format!("{}n not", &stem[..2])
    });
    let t = WONT.replace_all(&t, "will not");
    let t = SHANT.replace_all(&t, "shall not");
    let t = AINT.replace_all(&t, "is not");
    NT.replace_all(&t, "${1} not").into_owned()
}

/// Rule POSSESSIVE: `President's`, `Presidents'` and `Presidents` differ only in grammar (stems
/// then join them); clitics `'re 've 'll 'd 'm` go; a decade `1990's` is `1990s`.
fn possessives(t: &str) -> String {
    let t = DECADE.replace_all(t, "${1}s");
    let t = POSS_S.replace_all(&t, "${1}");
    let t = POSS_PL.replace_all(&t, "${1}s${2}");
    CLITIC.replace_all(&t, "${1}").into_owned()
}

/// Rule YEAR-RANGE: `2018-19` and `2018/19` name the years `2018-2019` (only when the second is
/// the later: `1998-95` is something else).
fn year_ranges(t: &str) -> String {
    YEAR_RANGE
        .replace_all(t, |c: &Captures| {
            let (a, b, e) = (&c[1], &c[2], &c[3]);
            if e > b {
                format!("{a}{b}-{a}{e}")
            } else {
                c[0].to_string()
            }
        })
        .into_owned()
}

/// The text in the one form claims and sources are compared in (spec §1, in its order).
pub(super) fn normalise(text: &str) -> String {
    let t = fold(text);
    let t = contractions(&t);
    let t = possessives(&t);
    let t = year_ranges(&t);
    let t = t.replace('%', " percent ");
    let t = PER_CENT.replace_all(&t, "percent");
    // Rule ACRONYM-DOTS: `U.S.` and `US` are one name.
    let t = DOTTED.replace_all(&t, |c: &Captures| format!("{} ", c[0].replace('.', "")));
    // Rule ISO-DATE: page metadata dates pages `2016-08-25`, claims write `25 August 2016`.
    ISO_DATE
        .replace_all(&t, |c: &Captures| {
            let month: usize = c[2].parse().unwrap_or(1);
            let day: u32 = c[3].parse().unwrap_or(0);
            format!("{day} {} {}", MONTH_NAMES[month.clamp(1, 12) - 1], &c[1])
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for r in [
            &CANT,
            &WONT,
            &SHANT,
            &AINT,
            &NT,
            &DECADE,
            &POSS_S,
            &POSS_PL,
            &CLITIC,
            &YEAR_RANGE,
            &PER_CENT,
            &DOTTED,
            &ISO_DATE,
        ] {
            LazyLock::force(r);
        }
    }

    #[test]
    fn accents_dashes_quotes_and_spaces_fold() {
        assert_eq!(
            normalise("Lancôme’s “Straße”\u{a0}2018–19"),
            "Lancome \"Strasse\" 2018-2019"
        );
        assert_eq!(normalise("Ærø Łódź"), "AEro Lodz");
    }

    #[test]
    fn contractions_keep_the_negation() {
        assert_eq!(normalise("It isn't here"), "It is not here");
        assert_eq!(
            normalise("Can't, cannot, won't"),
            "Can not, can not, will not"
        );
        assert_eq!(normalise("They don’t"), "They do not");
        assert_eq!(normalise("ain't shan't"), "is not shall not");
    }

    #[test]
    fn possessives_and_clitics_go() {
        assert_eq!(normalise("the President's pen"), "the President pen");
        assert_eq!(normalise("the Presidents' pens"), "the Presidents pens");
        assert_eq!(normalise("in the 1990's"), "in the 1990s");
        assert_eq!(normalise("they're we've I'd"), "they we I");
    }

    #[test]
    fn year_ranges_expand_only_forwards() {
        assert_eq!(normalise("the 2018-19 season"), "the 2018-2019 season");
        assert_eq!(normalise("2018/19"), "2018-2019");
        assert_eq!(normalise("1998-95"), "1998-95");
        assert_eq!(normalise("1999-00"), "1999-00");
    }

    #[test]
    fn percent_acronyms_and_iso_dates() {
        assert_eq!(normalise("5% or 5 per cent"), "5 percent  or 5 percent");
        assert_eq!(normalise("the U.S. and D.C"), "the US  and DC ");
        assert_eq!(normalise("on 2016-08-05."), "on 5 August 2016.");
        assert_eq!(normalise("2016-13-05"), "2016-13-05");
    }
}
