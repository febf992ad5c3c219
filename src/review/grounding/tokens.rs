//! Tokens of a normalised text and what each one is (spec §2): its key (a Porter2 stem or a
//! canonical number), its kind (word, number, year, ordinal, month) and its flags (stopword,
//! negation, weak negation, hedge, named).

use std::collections::HashMap;

use super::normalise::normalise;
use super::numbers::{self, fmt_num, is_plain_number, round6};
use super::raw::Raw;

/// Negation cues (after contractions are expanded: `n't` → `not`). Judged by rule NEGATION,
/// never counted as content.
const NEGATIONS: &[&str] = &[
    "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without", "nowhere",
];

/// A cue followed by one of these does not negate its clause (`not only`, `no doubt`).
const NEG_EXCEPT_NEXT: &[&str] = &["only", "just", "doubt", "matter", "least", "less"];

/// Weak negation cues: they keep a claim from `supported` when one side has them and the
/// other does not (rule POLARITY).
const WEAK_NEGATIONS: &[&str] = &[
    "hardly", "barely", "scarcely", "rarely", "seldom", "little", "few", "fail", "fails", "failed",
    "lack", "lacks", "lacked", "unable", "refuse", "refused", "refuses", "deny", "denied",
    "denies",
];

/// Hedge cues, matched case-sensitively so the month `May` is not one: the evidence only says
/// it might be so.
const HEDGES: &[&str] = &[
    "may",
    "might",
    "could",
    "possibly",
    "perhaps",
    "reportedly",
    "allegedly",
    "alleged",
    "suspected",
    "rumored",
    "rumoured",
    "rumors",
    "rumours",
    "proposed",
    "planned",
    "plans",
    "planning",
    "expected",
    "likely",
    "probably",
    "potentially",
    "potential",
    "supposedly",
    "purportedly",
    "apparently",
    "speculated",
    "unconfirmed",
];

/// Month names and abbreviations, with the full name their key is stemmed from.
const MONTHS: &[(&str, &str)] = &[
    ("january", "january"),
    ("february", "february"),
    ("march", "march"),
    ("april", "april"),
    ("may", "may"),
    ("june", "june"),
    ("july", "july"),
    ("august", "august"),
    ("september", "september"),
    ("october", "october"),
    ("november", "november"),
    ("december", "december"),
    ("jan", "january"),
    ("feb", "february"),
    ("mar", "march"),
    ("apr", "april"),
    ("jun", "june"),
    ("jul", "july"),
    ("aug", "august"),
    ("sep", "september"),
    ("sept", "september"),
    ("oct", "october"),
    ("nov", "november"),
    ("dec", "december"),
];

const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Rule SPELLING: British spellings as American, whole lowercase words, before stemming.
const SPELLING: &[(&str, &str)] = &[
    ("metre", "meter"),
    ("metres", "meters"),
    ("kilometre", "kilometer"),
    ("kilometres", "kilometers"),
    ("centimetre", "centimeter"),
    ("centimetres", "centimeters"),
    ("millimetre", "millimeter"),
    ("millimetres", "millimeters"),
    ("litre", "liter"),
    ("litres", "liters"),
    ("centre", "center"),
    ("centres", "centers"),
    ("theatre", "theater"),
    ("theatres", "theaters"),
    ("colour", "color"),
    ("colours", "colors"),
    ("favour", "favor"),
    ("favourite", "favorite"),
    ("honour", "honor"),
    ("honours", "honors"),
    ("labour", "labor"),
    ("neighbour", "neighbor"),
    ("neighbours", "neighbors"),
    ("behaviour", "behavior"),
    ("programme", "program"),
    ("programmes", "programs"),
    ("defence", "defense"),
    ("offence", "offense"),
    ("licence", "license"),
    ("catalogue", "catalog"),
    ("grey", "gray"),
    ("tonnes", "tons"),
    ("tonne", "ton"),
];

/// Currency signs before `2m`, `3bn`: then the letters are a scale, not a unit.
const CURRENCY: &[char] = &['$', '£', '€', '¥'];

const MONEY_SCALE: &[(&str, f64)] = &[
    ("k", 1e3),
    ("m", 1e6),
    ("mn", 1e6),
    ("bn", 1e9),
    ("b", 1e9),
    ("tn", 1e12),
];

/// Integer ids of keys shared by every source and claim of one check, so key sets compare
/// integers; stems are memoised (a source repeats its words).
#[derive(Default)]
pub(super) struct Vocab {
    ids: HashMap<String, u32>,
    words: Vec<String>,
    stems: HashMap<String, u32>,
}

impl Vocab {
    /// The id of `key`, a new one if it is new.
    pub(super) fn id(&mut self, key: &str) -> u32 {
        if let Some(&id) = self.ids.get(key) {
            return id;
        }
        let id = self.words.len() as u32;
        self.ids.insert(key.to_string(), id);
        self.words.push(key.to_string());
        id
    }

    /// The id of the Porter2 stem of a lowercase word (rule STEM).
    pub(super) fn stem(&mut self, lower: &str) -> u32 {
        if let Some(&id) = self.stems.get(lower) {
            return id;
        }
        let stem = crate::terms::stem(lower);
        // The project's analyzer drops words over 40 bytes; such a word is its own key.
        let id = self.id(if stem.is_empty() { lower } else { &stem });
        self.stems.insert(lower.to_string(), id);
        id
    }

    /// The key an id stands for.
    pub(super) fn word(&self, id: u32) -> &str {
        self.words.get(id as usize).map_or("", String::as_str)
    }
}

/// What a token is, for the rules that treat numbers and dates apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Anything else.
    Word,
    /// A number, written in digits or words.
    Number,
    /// A year in digits (`2018`) or a decade (`1990s`).
    Year,
    /// An ordinal written in words (`first`).
    Ordinal,
    /// A month name.
    Month,
}

/// A token with its key, kind and flags.
#[derive(Debug, Clone)]
pub(super) struct Tok {
    /// As written (after normalisation).
    pub surface: String,
    /// Lowercase, British spellings made American, thousands separators dropped.
    pub lower: String,
    /// What is compared: a stem or a canonical number.
    pub key: u32,
    /// Number, year, month… or word.
    pub kind: Kind,
    /// Says nothing a source must repeat (a stopword, a lone letter, a negation cue).
    pub stop: bool,
    /// A negation cue (`not`, `never`, …).
    pub neg: bool,
    /// A weak negation cue (`few`, `failed`, …).
    pub wneg: bool,
    /// A hedge cue (`may`, `alleged`, …).
    pub hedge: bool,
    /// A name (capitalised inside the sentence, capitals, letters with digits).
    pub named: bool,
    /// A `-` right before it.
    pub hyph_prev: bool,
    /// A `-` and a token right after it.
    pub hyph_next: bool,
    /// Punctuation that ends a clause follows it.
    pub clause_end: bool,
    /// The double-quoted span it sits in, if any.
    pub quote: Option<usize>,
}

/// Python's `str.isdigit`, near enough: NFKD has already turned superscripts and circled
/// digits into plain ones.
fn digit(c: char) -> bool {
    c.is_numeric()
}

/// Letters only (Python's `str.isalpha`).
pub(super) fn alpha(s: &str) -> bool {
    !s.is_empty() && s.chars().all(char::is_alphabetic)
}

fn upper_first(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

fn digit_first(s: &str) -> bool {
    s.chars().next().is_some_and(digit)
}

/// Whether the char at `i` belongs to a token: a letter or digit, a decimal point between
/// digits, or a thousands separator (rule THOUSANDS: `1,200` is one token).
fn tok_char(t: &[char], i: usize) -> bool {
    let ch = t[i];
    if ch.is_alphanumeric() {
        return true;
    }
    let n = t.len();
    if ch == '.' && i > 0 && i + 1 < n && digit(t[i - 1]) && digit(t[i + 1]) {
        return true;
    }
    ch == ','
        && i > 0
        && digit(t[i - 1])
        && i + 3 < n
        && t[i + 1..i + 4].iter().all(|&c| digit(c))
        && !t.get(i + 4).is_some_and(|&c| digit(c))
}

/// `10km` as number and unit (rule NUMBER-UNIT): the digits and the letters, unless the
/// letters are an ordinal or plural ending (`9th`, `1990s`).
fn number_unit(word: &str) -> Option<(&str, &str)> {
    if !word.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let cut = word
        .find(|c: char| !(c.is_ascii_digit() || c == ',' || c == '.'))
        .unwrap_or(word.len());
    let (num, rest) = word.split_at(cut);
    let ok = rest.starts_with(|c: char| c.is_ascii_alphabetic())
        && rest.chars().all(|c| c.is_ascii_alphanumeric());
    let ending = matches!(
        rest.to_lowercase().as_str(),
        "st" | "nd" | "rd" | "th" | "s"
    );
    (ok && !ending).then_some((num, rest))
}

/// Split a normalised text into raw tokens (spec §2.1).
pub(super) fn raw_tokens(t: &[char]) -> Vec<Raw> {
    let n = t.len();
    let mut toks = Vec::new();
    let mut quotes = 0usize; // '"' seen so far; odd: inside a quotation
    let mut i = 0;
    while i < n {
        if !tok_char(t, i) {
            if t[i] == '"' {
                quotes += 1;
            }
            i += 1;
            continue;
        }
        let mut j = i;
        while j < n && tok_char(t, j) {
            j += 1;
        }
        let mut k = j;
        while k < n && t[k] == ' ' {
            k += 1;
        }
        let clause_end = k < n && ",;:()[].!?\"".contains(t[k]);
        let word: String = t[i..j].iter().collect();
        let quote = (quotes % 2 == 1).then_some(quotes / 2);
        let hyph_prev = i > 0 && t[i - 1] == '-';
        let hyph_next = j + 1 < n && t[j] == '-' && tok_char(t, j + 1);
        let raw = |surface: &str, lower: String, start: usize, end: usize| Raw {
            surface: surface.to_string(),
            lower,
            start,
            end,
            hyph_prev: false,
            hyph_next: false,
            clause_end: false,
            quote,
        };
        let mut parts: Vec<Raw> = Vec::with_capacity(2);
        match number_unit(&word) {
            Some((num, unit)) => {
                let money = MONEY_SCALE
                    .iter()
                    .find(|(s, _)| *s == unit.to_lowercase())
                    .map(|(_, k)| *k)
                    .filter(|_| i > 0 && CURRENCY.contains(&t[i - 1]));
                let value = money.and_then(|k| {
                    num.replace(',', "")
                        .parse::<f64>()
                        .ok()
                        .map(|v| fmt_num(round6(v * k)))
                });
                if let Some(value) = value {
                    // `$2m` is the one number 2000000.
                    parts.push(raw(&word, value, i, j));
                } else {
                    let cut = i + num.chars().count();
                    parts.push(raw(num, num.to_lowercase(), i, cut));
                    parts.push(raw(unit, unit.to_lowercase(), cut, j));
                }
            }
            None => parts.push(raw(&word, word.to_lowercase(), i, j)),
        }
        let last = parts.len() - 1;
        parts[0].hyph_prev = hyph_prev;
        parts[last].hyph_next = hyph_next;
        parts[last].clause_end = clause_end;
        toks.extend(parts);
        i = j;
    }
    toks
}

/// Decades: `1990s`, `2010s`.
fn decade(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[4] == b's'
        && b[3] == b'0'
        && b[..3].iter().all(u8::is_ascii_digit)
        && (b[0] == b'1' || (b[0] == b'2' && b[1] == b'0'))
}

/// The tokens of a text with keys, kinds and flags (spec §2); the first token is a sentence
/// start (its capital says nothing).
pub(super) fn tokenize(text: &str, vocab: &mut Vocab) -> Vec<Tok> {
    let norm: Vec<char> = normalise(text).chars().collect();
    let raws = numbers::merge(raw_tokens(&norm), &norm);
    let mut out: Vec<Tok> = Vec::with_capacity(raws.len());
    for (k, t) in raws.iter().enumerate() {
        let spelled = SPELLING
            .iter()
            .find(|(b, _)| *b == t.lower)
            .map_or(t.lower.as_str(), |(_, a)| a);
        // Written with a thousands separator: a count, not a year.
        let grouped = spelled.contains(',');
        let lower = spelled.replace(',', "");
        let surface = t.surface.as_str();
        let (key, mut kind) = if is_plain_number(&lower) {
            let key = if lower.contains('.') {
                lower.trim_end_matches('0').trim_end_matches('.')
            } else {
                lower.as_str()
            };
            // The decimal point is judged after trailing zeros go, as the prototype does.
            let year = !key.contains('.')
                && key.len() == 4
                && !grouped
                && surface.starts_with(|c: char| c.is_ascii_digit())
                && key.parse::<u32>().is_ok_and(|v| (1000..=2100).contains(&v));
            (vocab.id(key), if year { Kind::Year } else { Kind::Number })
        } else if let Some(digits) = ["st", "nd", "rd", "th"]
            .iter()
            .find_map(|s| lower.strip_suffix(s))
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
        {
            // Rule ORDINAL: `9th` and `ninth` are keyed 9, so "April 9th" gives 9; an ordinal
            // in digits (`400th`) is a number, one in words (`first`) an ordinary term.
            let kind = if digit_first(surface) {
                Kind::Number
            } else {
                Kind::Ordinal
            };
            (vocab.id(digits), kind)
        } else if lower.chars().any(digit) {
            // `1990s`, `G4`, `km2`: kept whole, unstemmed.
            let kind = if decade(&lower) {
                Kind::Year
            } else if digit_first(&lower) {
                Kind::Number
            } else {
                Kind::Word
            };
            (vocab.id(&lower), kind)
        } else {
            (vocab.stem(&lower), Kind::Word)
        };
        let l = lower.as_str();
        let is_neg = NEGATIONS.contains(&l);
        // A word in capitals (`US`, `IT`, `WHO`) names something: never a stopword.
        let shouted = surface.chars().count() >= 2
            && !surface.chars().any(char::is_lowercase)
            && surface.chars().any(char::is_uppercase);
        let mut stop = (crate::terms::is_filler(l) && !shouted)
            || (l.chars().count() == 1 && alpha(l))
            // Cues are judged by rule NEGATION, not counted as content.
            || is_neg;
        let next = raws.get(k + 1);
        // `not-for-profit`, `no-fly`, `not only`, `no doubt` and `No. 12` negate nothing.
        let neg = is_neg
            && !t.hyph_next
            && !next.is_some_and(|n| {
                NEG_EXCEPT_NEXT.contains(&n.lower.as_str()) || (l == "no" && digit_first(&n.lower))
            });
        // `a few`, `quite little` are not cues.
        let wneg = WEAK_NEGATIONS.contains(&l)
            && !t.hyph_next
            && !(k > 0 && matches!(out[k - 1].lower.as_str(), "a" | "quite" | "very"));
        let hedge = HEDGES.contains(&surface);
        let caps = surface.chars().filter(|c| c.is_uppercase()).count();
        let mut named = false;
        if surface.chars().any(char::is_alphabetic) && !stop && kind == Kind::Word {
            named = (caps >= 2 && surface.chars().count() >= 2)
                || (caps == 1 && upper_first(surface) && k > 0)
                || surface.chars().any(digit);
        }
        let mut key = key;
        if let Some((_, full)) = MONTHS.iter().find(|(m, _)| *m == l)
            && upper_first(surface)
            && (k > 0 || next.is_some_and(|n| digit_first(&n.lower)))
        {
            kind = Kind::Month;
            key = vocab.stem(full);
            named = false;
            stop = false;
        }
        if WEEKDAYS.contains(&l) {
            named = false;
        }
        out.push(Tok {
            surface: t.surface.clone(),
            lower,
            key,
            kind,
            stop,
            neg,
            wneg,
            hedge,
            named,
            hyph_prev: t.hyph_prev,
            hyph_next: t.hyph_next,
            clause_end: t.clause_end,
            quote: t.quote,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys of a text's content tokens, as strings.
    fn keys(text: &str) -> Vec<String> {
        let mut v = Vocab::default();
        let toks = tokenize(text, &mut v);
        toks.iter()
            .filter(|t| !t.stop)
            .map(|t| v.word(t.key).to_string())
            .collect()
    }

    fn kinds(text: &str) -> Vec<(String, Kind)> {
        let mut v = Vocab::default();
        tokenize(text, &mut v)
            .iter()
            .filter(|t| !t.stop)
            .map(|t| (v.word(t.key).to_string(), t.kind))
            .collect()
    }

    #[test]
    fn dashes_join_year_ranges() {
        assert_eq!(keys("the 2018–19 season"), keys("the 2018-2019 season"));
        assert_eq!(kinds("2018–19")[0], ("2018".into(), Kind::Year));
    }

    #[test]
    fn number_words_are_numbers() {
        assert_eq!(keys("three players"), keys("3 players"));
        assert_eq!(keys("twenty-five years"), keys("25 years"));
        assert_eq!(keys("one hundred and five"), ["105"]);
        assert_eq!(keys("two dozen eggs"), ["24", "egg"]);
        assert_eq!(keys("a dozen eggs"), ["12", "egg"]);
        assert_eq!(keys("the twenty-first century"), ["21", "centuri"]);
        assert_eq!(keys("two and three"), ["2", "3"]);
        // A lone "one" is a pronoun: a stopword, no number.
        assert_eq!(keys("one of the players"), ["player"]);
        // The surface is kept for reasons.
        let mut v = Vocab::default();
        assert_eq!(tokenize("twenty-five", &mut v)[0].surface, "twenty-five");
    }

    #[test]
    fn thousands_separators_and_scales_are_one_number() {
        assert_eq!(keys("1,200 people"), keys("1200 people"));
        assert_eq!(
            kinds("1,200")[0].1,
            Kind::Number,
            "grouped: a count, not a year"
        );
        assert_eq!(keys("1.5 million"), ["1500000"]);
        assert_eq!(keys("1.5 million"), keys("1,500,000"));
        assert_eq!(keys("$2m"), ["2000000"]);
        assert_eq!(keys("3.50 and 3.0"), ["3.5", "3"]);
        assert_eq!(
            keys("1,2"),
            ["1", "2"],
            "a comma before two digits separates"
        );
    }

    #[test]
    fn units_split_from_numbers_and_ordinals_stay() {
        assert_eq!(keys("10km"), keys("10 km"));
        assert_eq!(keys("April 9th"), ["april", "9"]);
        assert_eq!(kinds("the 1990s")[0], ("1990s".into(), Kind::Year));
        assert_eq!(kinds("a G4 jet")[0], ("g4".into(), Kind::Word));
    }

    #[test]
    fn possessives_and_plurals_are_one_term() {
        assert_eq!(keys("Presidents'"), keys("President's"));
        assert_eq!(keys("the Presidents' day"), keys("the President day"));
    }

    #[test]
    fn hyphenated_words_split_like_spaced_ones() {
        assert_eq!(keys("African-Americans"), keys("African Americans"));
    }

    #[test]
    fn contractions_become_negation_cues() {
        let mut v = Vocab::default();
        let t = tokenize("It isn't true", &mut v);
        let not = t.iter().find(|t| t.lower == "not").unwrap();
        assert!(not.neg && not.stop);
        // Fixed phrases negate nothing.
        for s in ["not only this", "a not-for-profit", "No. 12", "no doubt"] {
            assert!(!tokenize(s, &mut v).iter().any(|t| t.neg), "{s}");
        }
        assert!(tokenize("not the only one", &mut v).iter().any(|t| t.neg));
        assert!(!tokenize("a few", &mut v).iter().any(|t| t.wneg));
        assert!(tokenize("few people", &mut v).iter().any(|t| t.wneg));
    }

    #[test]
    fn iso_dates_read_as_dates() {
        assert_eq!(keys("2016-08-25"), keys("25 August 2016"));
        assert_eq!(kinds("on 2016-08-25")[1].1, Kind::Month);
    }

    #[test]
    fn dotted_acronyms_are_the_acronym() {
        assert_eq!(keys("the U.S. army"), keys("the US army"));
        assert_eq!(keys("the U.S army"), keys("the US army"));
        // Capitals make a stopword a name.
        assert_eq!(keys("IT"), ["it"]);
        assert!(keys("it").is_empty());
    }

    #[test]
    fn months_names_and_hedges() {
        let mut v = Vocab::default();
        let t = tokenize("In May 2019 Obama may visit Nov. 3", &mut v);
        let may: Vec<(Kind, bool, bool)> = t
            .iter()
            .filter(|t| t.lower == "may")
            .map(|t| (t.kind, t.hedge, t.stop))
            .collect();
        assert_eq!(may, [(Kind::Month, false, false), (Kind::Word, true, true)]);
        assert!(t.iter().any(|t| t.surface == "Obama" && t.named));
        let nov = t.iter().find(|t| t.surface == "Nov").unwrap();
        assert_eq!((nov.kind, v.word(nov.key)), (Kind::Month, "novemb"));
        // The sentence's first word is not a name for its capital.
        let t = tokenize("Officials met Smith", &mut v);
        assert!(!t[0].named && t[2].named);
        let t = tokenize("He came on Monday", &mut v);
        assert!(!t[3].named);
    }

    #[test]
    fn british_spellings_are_american() {
        assert_eq!(keys("the theatre centre"), keys("the theater center"));
    }
}
