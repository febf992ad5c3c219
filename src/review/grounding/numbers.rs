//! Numbers written in words or with scale words merged into one token of canonical value (spec
//! §2.2, rule NUMBER-WORDS): `twenty-five` is 25, `1.5 million` is 1500000, `first` is 1st.

use super::raw::Raw;

/// Units and teens.
const UNITS: &[(&str, u128)] = &[
    ("zero", 0),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
];

const TENS: &[(&str, u128)] = &[
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

/// Words that multiply what precedes them.
const SCALES: &[(&str, u128)] = &[
    ("hundred", 100),
    ("thousand", 1_000),
    ("million", 1_000_000),
    ("billion", 1_000_000_000),
    ("trillion", 1_000_000_000_000),
    ("dozen", 12),
];

const ORDINALS: &[(&str, u128)] = &[
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("fifth", 5),
    ("sixth", 6),
    ("seventh", 7),
    ("eighth", 8),
    ("ninth", 9),
    ("tenth", 10),
    ("eleventh", 11),
    ("twelfth", 12),
    ("thirteenth", 13),
    ("fourteenth", 14),
    ("fifteenth", 15),
    ("sixteenth", 16),
    ("seventeenth", 17),
    ("eighteenth", 18),
    ("nineteenth", 19),
    ("twentieth", 20),
    ("thirtieth", 30),
    ("fortieth", 40),
    ("fiftieth", 50),
    ("sixtieth", 60),
    ("seventieth", 70),
    ("eightieth", 80),
    ("ninetieth", 90),
    ("hundredth", 100),
    ("thousandth", 1_000),
];

fn value(table: &[(&str, u128)], word: &str) -> Option<u128> {
    table.iter().find(|(w, _)| *w == word).map(|(_, v)| *v)
}

/// A float as the prototype prints it: whole numbers without `.0`.
pub(super) fn fmt_num(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// `v` rounded to 6 decimals (what `round(v, 6)` does for the values met here: products of
/// written numbers and scales).
pub(super) fn round6(v: f64) -> f64 {
    if v.abs() >= 1e15 {
        v
    } else {
        (v * 1e6).round() / 1e6
    }
}

fn ord_suffix(n: u128) -> &'static str {
    if (10..=13).contains(&(n % 100)) {
        return "th";
    }
    match n % 10 {
        1 => "st",
        2 => "nd",
        3 => "rd",
        _ => "th",
    }
}

/// Whether `s` is a plain decimal number `\d+(\.\d+)?` (ASCII digits: the only ones a value is
/// read from).
pub(super) fn is_plain_number(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// A written number's value: exact while it is whole, as the prototype's Python ints are.
#[derive(Clone, Copy)]
enum Num {
    Int(u128),
    Float(f64),
}

impl Num {
    fn times(self, k: u128) -> Num {
        match self {
            Num::Int(v) => v
                .checked_mul(k)
                .map_or(Num::Float(v as f64 * k as f64), Num::Int),
            Num::Float(v) => Num::Float(v * k as f64),
        }
    }

    fn text(self) -> String {
        match self {
            Num::Int(v) => v.to_string(),
            Num::Float(v) => fmt_num(round6(v)),
        }
    }
}

/// One token standing for the tokens `toks[i..j]`, with `lower` as its text.
fn merged(toks: &[Raw], chars: &[char], i: usize, j: usize, lower: String) -> Raw {
    let (first, last) = (&toks[i], &toks[j - 1]);
    Raw {
        surface: chars[first.start..last.end].iter().collect(),
        lower,
        start: first.start,
        end: last.end,
        hyph_prev: first.hyph_prev,
        hyph_next: false,
        clause_end: last.clause_end,
        quote: first.quote,
    }
}

/// Rule NUMBER-WORDS over the raw tokens of `chars` (the normalised text they were cut from):
/// a digit number followed by scale words is multiplied; a run of number words following
/// English number grammar becomes its value; an ordinal word ends a run and makes it `21st`.
/// A lone `one` stays a word: "one of the…" is a pronoun far more often than a count.
pub(super) fn merge(toks: Vec<Raw>, chars: &[char]) -> Vec<Raw> {
    let n = toks.len();
    let mut out: Vec<Raw> = Vec::with_capacity(n);
    let mut i = 0;
    while i < n {
        let w = toks[i].lower.replace(',', "");
        if is_plain_number(&w) {
            let mut val = if w.contains('.') {
                w.parse().map(Num::Float).ok()
            } else {
                w.parse().map(Num::Int).ok()
            };
            let mut j = i + 1;
            while let Some(v) = val
                && j < n
                && toks[j].lower != "dozen"
                && let Some(k) = value(SCALES, &toks[j].lower)
            {
                val = Some(v.times(k));
                j += 1;
            }
            match val {
                Some(v) if j > i + 1 => {
                    out.push(merged(&toks, chars, i, j, v.text()));
                    i = j;
                }
                _ => {
                    out.push(toks[i].clone());
                    i += 1;
                }
            }
            continue;
        }
        let w = toks[i].lower.as_str();
        let starts = [UNITS, TENS, SCALES, ORDINALS]
            .iter()
            .any(|t| value(t, w).is_some());
        if !starts {
            out.push(toks[i].clone());
            i += 1;
            continue;
        }
        #[derive(PartialEq)]
        enum Last {
            None,
            Unit,
            Tens,
            Scale,
        }
        let (mut total, mut current, mut j, mut ordinal, mut last) =
            (0u128, 0u128, i, false, Last::None);
        let mut words = 0;
        while j < n {
            let x = toks[j].lower.as_str();
            if j > i && toks[j - 1].clause_end {
                break; // punctuation ends the number
            }
            let after_scale = matches!(last, Last::None | Last::Scale);
            if let Some(v) = value(UNITS, x)
                && (after_scale || (last == Last::Tens && v < 10))
            {
                current = current.saturating_add(v);
                last = Last::Unit;
            } else if let Some(v) = value(TENS, x)
                && after_scale
            {
                current = current.saturating_add(v);
                last = Last::Tens;
            } else if let Some(v) = value(SCALES, x)
                && (x != "dozen" || matches!(last, Last::None | Last::Unit))
            {
                current = current.max(1).saturating_mul(v);
                if v >= 1000 {
                    total = total.saturating_add(current);
                    current = 0;
                }
                last = Last::Scale;
            } else if let Some(v) = value(ORDINALS, x)
                && (after_scale || (last == Last::Tens && v < 10))
            {
                current = current.saturating_add(v);
                ordinal = true;
                words += 1;
                j += 1;
                break;
            } else if x == "and"
                && last == Last::Scale
                && toks.get(j + 1).is_some_and(|t| {
                    value(UNITS, &t.lower).is_some() || value(TENS, &t.lower).is_some()
                })
            {
                j += 1;
                continue;
            } else {
                break;
            }
            words += 1;
            j += 1;
        }
        if words == 1 && w == "one" {
            out.push(toks[i].clone());
            i += 1;
            continue;
        }
        let value = total.saturating_add(current);
        let lower = if ordinal {
            format!("{value}{}", ord_suffix(value))
        } else {
            value.to_string()
        };
        let mut m = merged(&toks, chars, i, j, lower);
        m.hyph_next = toks[j - 1].hyph_next;
        out.push(m);
        i = j;
    }
    out
}
