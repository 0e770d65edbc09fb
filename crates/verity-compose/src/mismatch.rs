//! Exact mismatches, named: when a passage gives a different value for what a claim states
//! (a figure, year, date, place or name in the same slot), the brief can say so plainly
//! ("the claim says 1887; [3] says 1889") instead of leaving the reader to spot it.
//! Equivalent values (rounded, converted, less specific, shorter names) never count, because
//! a named mismatch is treated as strong evidence of contradiction.

use once_cell::sync::Lazy;
use regex::Regex;

use crate::text;

/// What sort of value a text states; decides how two values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    Number,
    Year,
    Date,
    Place,
    Name,
}

impl ValueKind {
    /// The plain noun for the kind, so a brief can say "the claim's year".
    pub fn noun(self) -> &'static str {
        match self {
            ValueKind::Number => "figure",
            ValueKind::Year => "year",
            ValueKind::Date => "date",
            ValueKind::Place => "place",
            ValueKind::Name => "name",
        }
    }
}

/// One value stated in a text, with what is needed to find its slot and compare it.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub kind: ValueKind,
    /// As written, modifiers and unit included ("about 400 billion", "5 km", "3 May 2021").
    pub text: String,
    /// Numeric value for numbers and years, scale words applied ("1.2 million" → 1.2e6).
    pub number: Option<f64>,
    /// Hedged ("about", "nearly", "~") or bounded ("more than", "under") values.
    pub approx: bool,
    /// Normalised unit or counted noun ("km", "%", "$", "people", "bridge").
    pub unit: Option<String>,
    /// The word(s) that give the slot: unit or noun for numbers, else the preposition or
    /// verb right before the value ("founded in", "by", "born").
    pub anchor: Option<String>,
}

/// A claim value that the evidence gives differently in the same slot.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub kind: ValueKind,
    pub claim: String,
    pub evidence: String,
    /// The evidence gives its value hedged or bounded ("about 4,800", "more than 40").
    pub evidence_approx: bool,
}

impl Mismatch {
    /// The claim's value `c` against the evidence's value `e`.
    fn between(c: &Value, e: &Value) -> Mismatch {
        Mismatch {
            kind: c.kind,
            claim: c.text.clone(),
            evidence: e.text.clone(),
            evidence_approx: e.approx,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Word lists
// ---------------------------------------------------------------------------------------

/// Function words: never a verb in an anchor, never a counted noun.
const STOP: &[&str] = &[
    "the", "a", "an", "and", "or", "but", "of", "to", "in", "on", "at", "by", "for", "with",
    "from", "as", "it", "its", "this", "that", "these", "those", "than", "then", "there", "their",
    "they", "he", "she", "his", "her", "we", "our", "which", "who", "whom", "what", "when",
    "where", "not", "no", "only", "about", "over", "under", "some", "all", "more", "most", "per",
    "each", "every", "both", "just", "into", "near", "since", "until", "while", "also", "than",
    "other", "such", "same", "any", "many", "much", "few",
];

/// Auxiliaries and copulas: they carry no slot of their own.
const AUX: &[&str] = &[
    "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do", "does", "did",
    "will", "would", "can", "could", "should", "may", "might", "must", "shall",
];

/// Adverbs that may sit between a verb and its preposition ("founded originally in").
const ADVERBS: &[&str] = &[
    "also",
    "later",
    "first",
    "then",
    "once",
    "still",
    "now",
    "eventually",
    "finally",
    "initially",
    "originally",
    "officially",
    "formally",
    "reportedly",
    "soon",
    "again",
];

/// Prepositions that open a slot.
const PREPS: &[&str] = &[
    "in", "on", "at", "near", "from", "to", "into", "by", "since", "until", "till", "during",
    "after", "before", "of", "for", "within", "between",
];

/// Prepositions before a capitalised name that make it a place.
const PLACE_PREPS: &[&str] = &["in", "at", "on", "near", "from", "to", "into"];

/// Verbs whose object is a person's name.
const NAME_VERBS: &[&str] = &["married", "succeeded", "replaced", "defeated"];

/// Words that may sit inside a multi-word name ("University of Kellbridge").
const CONNECTORS: &[&str] = &[
    "of", "de", "la", "le", "du", "des", "del", "da", "di", "von", "van", "der", "den",
];

/// Capitalised words that are never a place or a name on their own.
const NOT_NAMES: &[&str] = &[
    "I", "It", "He", "She", "They", "We", "You", "This", "That", "These", "Those", "His", "Her",
    "Their", "Its", "Our", "A", "An",
];

/// Two- and three-word hedges and bounds before a number, longest first.
const MARKERS: &[&str] = &[
    "no more than",
    "in excess of",
    "more than",
    "less than",
    "fewer than",
    "at least",
    "at most",
    "up to",
    "close to",
    "just over",
    "just under",
    "an estimated",
    "upwards of",
    "about",
    "around",
    "roughly",
    "nearly",
    "almost",
    "approximately",
    "approx",
    "some",
    "over",
    "under",
    "above",
    "below",
    "estimated",
    "circa",
    "exceeding",
];

/// Bounds that say the true value is at least the figure.
const LOWER_BOUNDS: &[&str] = &[
    "more than",
    "over",
    "at least",
    "above",
    "exceeding",
    "upwards of",
    "in excess of",
    "just over",
];

/// Bounds that say the true value is at most the figure.
const UPPER_BOUNDS: &[&str] = &[
    "no more than",
    "less than",
    "fewer than",
    "under",
    "up to",
    "at most",
    "below",
    "just under",
];

/// Words before a number that make it a label, not a quantity ("Route 66", "page 12").
const LABELS: &[&str] = &[
    "no", "number", "page", "pages", "chapter", "section", "route", "article", "version", "season",
    "episode", "platform", "gate", "phase", "level", "grade", "type", "class", "stage", "volume",
    "vol", "part", "table", "figure", "item", "step", "rank", "ranked",
];

/// Adjectives skipped on the way to a counted noun ("300 new homes").
const NOUN_ADJECTIVES: &[&str] = &[
    "new",
    "more",
    "other",
    "additional",
    "extra",
    "different",
    "separate",
    "major",
    "small",
    "large",
    "big",
    "main",
    "old",
    "young",
    "local",
    "permanent",
    "registered",
    "active",
    "private",
    "public",
    "foreign",
    "annual",
    "daily",
    "total",
    "full-time",
    "part-time",
];

/// Verbs counted as the same slot ("founded" and "established" fill one slot).
const VERB_GROUPS: &[&[&str]] = &[
    &[
        "found",
        "establish",
        "create",
        "form",
        "start",
        "incorporate",
        "set",
    ],
    &["build", "built", "construct", "erect", "complete"],
    &["open", "inaugurate", "launch"],
    &[
        "locate",
        "situate",
        "lie",
        "lies",
        "sit",
        "stand",
        "stood",
        "base",
        "headquarter",
    ],
    &["rule", "govern", "reign"],
    &["write", "written", "wrote", "author", "pen"],
    &["die", "died", "pass"],
];

/// Common verbs without a regular -ed/-s shape.
const KNOWN_VERBS: &[&str] = &[
    "built", "grew", "began", "became", "held", "won", "lost", "made", "took", "saw", "rose",
    "fell", "ran", "left", "came", "went", "born", "wrote", "written", "known", "sold",
];

// ---------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokKind {
    Word,
    Num,
    Sym,
}

/// A word, a number or a single symbol, with its byte span in the text.
#[derive(Debug, Clone, Copy)]
struct Tok<'a> {
    s: &'a str,
    start: usize,
    end: usize,
    kind: TokKind,
}

impl Tok<'_> {
    fn lower(&self) -> String {
        self.s.to_lowercase()
    }

    fn is_word(&self) -> bool {
        self.kind == TokKind::Word
    }

    fn is_capitalised(&self) -> bool {
        self.is_word() && self.s.chars().next().is_some_and(char::is_uppercase)
    }
}

static TOKEN_RE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"(?P<num>[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?|[0-9]{1,3}(?:[\u{a0}\u{202f}][0-9]{3})+(?:\.[0-9]+)?|[0-9]+(?:\.[0-9]+)?)|(?P<word>\p{L}[\p{L}\p{M}]*(?:['’\-]\p{L}[\p{L}\p{M}]*)*)|(?P<sym>\S)",
    )
    .expect("valid regex")
});

fn tokenize(text: &str) -> Vec<Tok<'_>> {
    TOKEN_RE
        .captures_iter(text)
        .filter_map(|c| {
            let (m, kind) = if let Some(m) = c.name("num") {
                (m, TokKind::Num)
            } else if let Some(m) = c.name("word") {
                (m, TokKind::Word)
            } else {
                (c.get(0)?, TokKind::Sym)
            };
            Some(Tok {
                s: m.as_str(),
                start: m.start(),
                end: m.end(),
                kind,
            })
        })
        .collect()
}

/// Whether token `k` starts a sentence (its capital says nothing about being a name).
fn sentence_start(toks: &[Tok], k: usize) -> bool {
    k == 0
        || matches!(
            toks[k - 1].s,
            "." | "!" | "?" | "\"" | "“" | "(" | ":" | ";"
        )
}

fn adjacent(toks: &[Tok], a: usize, b: usize) -> bool {
    match (toks.get(a), toks.get(b)) {
        (Some(x), Some(y)) => x.end == y.start,
        _ => false,
    }
}

fn lower_at(toks: &[Tok], k: usize) -> String {
    toks.get(k).map(Tok::lower).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------

/// Date shapes, most specific first so that "3 May 2021" is never read as "3 May".
static DATE_RES: Lazy<Vec<Regex>> = Lazy::new(|| {
    let m = text::MONTHS;
    let ord = r"(?:st|nd|rd|th)?";
    [
        r"\b(?P<y>[12][0-9]{3})-(?P<m>[01][0-9])-(?P<d>[0-3][0-9])\b".to_string(),
        format!(r"\b(?P<d>[0-3]?[0-9]){ord}\s+(?:of\s+)?(?P<m>{m})\.?,?\s+(?P<y>[12][0-9]{{3}})\b"),
        format!(r"\b(?P<m>{m})\.?\s+(?P<d>[0-3]?[0-9]){ord},?\s+(?P<y>[12][0-9]{{3}})\b"),
        format!(r"\b(?P<m>{m})\.?,?\s+(?P<y>[12][0-9]{{3}})\b"),
        format!(r"\b(?P<d>[0-3]?[0-9]){ord}\s+(?:of\s+)?(?P<m>{m})\b"),
        format!(r"\b(?P<m>{m})\.?\s+(?P<d>[0-3]?[0-9]){ord}\b"),
    ]
    .iter()
    .map(|p| Regex::new(p).expect("valid regex"))
    .collect()
});

/// The parts a date states; missing parts are simply not stated.
#[derive(Debug, Clone, Copy, PartialEq)]
struct When {
    day: Option<u32>,
    month: Option<u32>,
    years: Option<(i64, i64)>,
}

fn when_from(c: &regex::Captures) -> Option<When> {
    let month = c.name("m").and_then(|m| {
        let s = m.as_str();
        s.parse::<u32>().ok().or_else(|| text::month_number(s))
    })?;
    let day = c.name("d").and_then(|d| d.as_str().parse::<u32>().ok());
    let year = c.name("y").and_then(|y| y.as_str().parse::<i64>().ok());
    let day_ok = day.is_none_or(|d| (1..=31).contains(&d));
    (day_ok && (1..=12).contains(&month)).then_some(When {
        day,
        month: Some(month),
        years: year.map(|y| (y, y)),
    })
}

/// A date match that is really a figure ("May 3,000 people") is dropped.
fn runs_into_number(text: &str, end: usize) -> bool {
    let mut rest = text[end..].chars();
    match rest.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some(',' | '.') => rest.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    }
}

fn find_dates(text: &str) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for re in DATE_RES.iter() {
        for c in re.captures_iter(text) {
            let Some(m) = c.get(0) else { continue };
            let overlaps = spans.iter().any(|&(s, e)| m.start() < e && s < m.end());
            if overlaps || when_from(&c).is_none() || runs_into_number(text, m.end()) {
                continue;
            }
            spans.push((m.start(), m.end()));
        }
    }
    spans.sort_unstable();
    spans
}

fn parse_date(text: &str) -> Option<When> {
    DATE_RES
        .iter()
        .find_map(|re| re.captures(text).and_then(|c| when_from(&c)))
}

// ---------------------------------------------------------------------------------------
// Anchors
// ---------------------------------------------------------------------------------------

/// Index of the preposition that opens a short phrase ending at token `k - 1`
/// ("in 1887", "in Port Vellan"), so that "built in 1887 by" finds "built".
fn phrase_start(toks: &[Tok], k: usize) -> Option<usize> {
    let mut j = k;
    for _ in 0..5 {
        let t = toks.get(j.checked_sub(1)?)?;
        let w = t.lower();
        if PREPS.contains(&w.as_str()) && j < k {
            return Some(j - 1);
        }
        let part = t.kind == TokKind::Num || (t.is_capitalised() && !sentence_start(toks, j - 1));
        if !(part || w == "the" || t.s == ",") {
            return None;
        }
        j -= 1;
    }
    None
}

/// The content verb before a preposition at token `j`, skipping adverbs and one
/// intervening phrase.
fn verb_before(toks: &[Tok], j: usize) -> Option<String> {
    let mut k = j;
    if let Some(p) = phrase_start(toks, k) {
        k = p;
    }
    for _ in 0..3 {
        let t = toks.get(k.checked_sub(1)?)?;
        if !t.is_word() || (t.is_capitalised() && !sentence_start(toks, k - 1)) {
            return None;
        }
        let w = t.lower();
        if ADVERBS.contains(&w.as_str()) || (w.ends_with("ly") && w.len() > 4) {
            k -= 1;
            continue;
        }
        let numeric = number_word(&w).is_some() || scale_word(&w).is_some();
        if STOP.contains(&w.as_str()) || AUX.contains(&w.as_str()) || numeric {
            return None;
        }
        return Some(w);
    }
    None
}

/// For a sentence-initial "In 1850, …" the slot's verb comes after the phrase.
fn fronted_verb(toks: &[Tok], from: usize) -> Option<String> {
    let end = (from + 12).min(toks.len());
    for k in from..end {
        let t = toks[k];
        if !t.is_word() {
            continue;
        }
        let w = t.lower();
        if AUX.contains(&w.as_str()) {
            let next = toks[k + 1..end]
                .iter()
                .find(|n| !ADVERBS.contains(&n.lower().as_str()));
            return match next {
                Some(n)
                    if n.is_word()
                        && !n.is_capitalised()
                        && !STOP.contains(&n.lower().as_str()) =>
                {
                    Some(n.lower())
                }
                _ => Some(w),
            };
        }
        let verbish = w.ends_with("ed") || KNOWN_VERBS.contains(&w.as_str());
        if verbish && !t.is_capitalised() {
            return Some(w);
        }
    }
    None
}

/// The slot of a value starting at token `k` (and ending before `end`): the preposition
/// or verb right before it, with the verb before that preposition when there is one.
fn anchor_before(toks: &[Tok], k: usize, end: usize) -> Option<String> {
    let mut j = k;
    if j > 0 && toks[j - 1].s.eq_ignore_ascii_case("the") {
        j -= 1;
    }
    let p = toks.get(j.checked_sub(1)?)?;
    if !p.is_word() {
        return None;
    }
    let w = p.lower();
    if PREPS.contains(&w.as_str()) {
        let verb = if sentence_start(toks, j - 1) {
            fronted_verb(toks, end)
        } else {
            verb_before(toks, j - 1)
        };
        return Some(verb.map_or(w.clone(), |v| format!("{v} {w}")));
    }
    let plain = !p.is_capitalised() || sentence_start(toks, j - 1);
    let function = STOP.contains(&w.as_str()) || AUX.contains(&w.as_str());
    (plain && !function && !MARKERS.contains(&w.as_str())).then_some(w)
}

/// For a number without a unit, the content word before it ("population of 12,000").
fn content_word_before(toks: &[Tok], k: usize) -> Option<String> {
    let mut j = k;
    for _ in 0..4 {
        let t = toks.get(j.checked_sub(1)?)?;
        if !t.is_word() {
            return None;
        }
        let w = t.lower();
        if STOP.contains(&w.as_str()) || AUX.contains(&w.as_str()) || PREPS.contains(&w.as_str()) {
            j -= 1;
            continue;
        }
        return Some(singular(&w));
    }
    None
}

// ---------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------

fn number_word(w: &str) -> Option<f64> {
    const SMALL: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    if let Some(i) = SMALL.iter().position(|s| *s == w) {
        return Some(i as f64);
    }
    TENS.iter()
        .position(|s| *s == w)
        .map(|i| (i as f64 + 2.0) * 10.0)
}

fn scale_word(w: &str) -> Option<f64> {
    match w {
        "thousand" => Some(1e3),
        "million" | "mn" | "mln" => Some(1e6),
        "billion" | "bn" | "bln" => Some(1e9),
        "trillion" | "tn" | "trn" => Some(1e12),
        _ => None,
    }
}

/// Folds one hyphen-free number word into a running (total, current) pair.
fn fold_number_word(part: &str, total: &mut f64, cur: &mut f64) -> bool {
    if let Some(n) = number_word(part) {
        *cur += n;
    } else if part == "hundred" {
        *cur = cur.max(1.0) * 100.0;
    } else if part == "dozen" {
        *cur = cur.max(1.0) * 12.0;
    } else if let Some(s) = scale_word(part).filter(|_| part.len() > 3) {
        *total += cur.max(1.0) * s;
        *cur = 0.0;
    } else {
        return false;
    }
    true
}

/// A spelled-out number from token `i` ("twenty-five", "three hundred", "a dozen").
fn parse_spelled(toks: &[Tok], i: usize) -> Option<(f64, usize)> {
    let mut j = i;
    let (mut total, mut cur) = (0.0, 0.0);
    if lower_at(toks, i) == "a" {
        let next = lower_at(toks, i + 1);
        let big = next == "dozen" || next == "hundred" || scale_word(&next).is_some();
        if !big || next.len() <= 3 {
            return None;
        }
        j += 1;
    }
    let mut any = false;
    while let Some(t) = toks.get(j).filter(|t| t.is_word()) {
        let w = t.lower();
        if w == "and" && any && number_word(&lower_at(toks, j + 1)).is_some() {
            j += 1;
            continue;
        }
        let (mut t2, mut c2) = (total, cur);
        if !w.split('-').all(|p| fold_number_word(p, &mut t2, &mut c2)) {
            break;
        }
        (total, cur, any) = (t2, c2, true);
        j += 1;
    }
    any.then_some((total + cur, j))
}

/// Value and step (the precision it is written to) of a digit string.
fn parse_digits(s: &str) -> Option<(f64, f64)> {
    let clean: String = s
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let value: f64 = clean.parse().ok()?;
    let step = match clean.split_once('.') {
        Some((_, dec)) => 10f64.powi(-(dec.len() as i32)),
        None if value == 0.0 => 1.0,
        None => 10f64.powi((clean.len() - clean.trim_end_matches('0').len()) as i32),
    };
    Some((value, step))
}

/// Largest power of ten dividing a whole number: the precision of "three hundred".
fn round_step(value: f64) -> f64 {
    let mut step = 1.0;
    while value >= step * 10.0 && (value / (step * 10.0)).fract() == 0.0 {
        step *= 10.0;
    }
    step
}

static DIGITS_RE: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"[0-9][0-9,\u{a0}\u{202f}]*(?:\.[0-9]+)?").expect("valid regex"));

/// The precision a value is written to, in its own unit ("400 billion" → 1e11).
fn step_of(v: &Value) -> f64 {
    let Some(n) = v.number else { return 1.0 };
    match DIGITS_RE
        .find(&v.text)
        .and_then(|m| parse_digits(m.as_str()))
    {
        Some((m, step)) if m != 0.0 => step * (n / m).abs(),
        Some(_) => 1.0,
        None => round_step(n.abs()),
    }
}

/// Dimension and size in base units of a normalised unit, for conversions.
fn dimension(unit: &str) -> Option<(char, f64)> {
    Some(match unit {
        "km" => ('L', 1000.0),
        "m" => ('L', 1.0),
        "cm" => ('L', 0.01),
        "mm" => ('L', 0.001),
        "mi" => ('L', 1609.344),
        "ft" => ('L', 0.3048),
        "kg" => ('M', 1.0),
        "g" => ('M', 0.001),
        "lb" => ('M', 0.453_592_37),
        "t" => ('M', 1000.0),
        "km2" => ('A', 1e6),
        "m2" => ('A', 1.0),
        "mi2" => ('A', 2_589_988.11),
        "ha" => ('A', 1e4),
        "acre" => ('A', 4046.86),
        _ => return None,
    })
}

fn measure_unit(w: &str) -> Option<&'static str> {
    Some(match w {
        "km" | "kms" | "kilometre" | "kilometres" | "kilometer" | "kilometers" => "km",
        "m" | "metre" | "metres" | "meter" | "meters" => "m",
        "cm" | "centimetre" | "centimetres" | "centimeter" | "centimeters" => "cm",
        "mm" | "millimetre" | "millimetres" | "millimeter" | "millimeters" => "mm",
        "mi" | "mile" | "miles" => "mi",
        "ft" | "foot" | "feet" => "ft",
        "kg" | "kgs" | "kilogram" | "kilograms" | "kilogramme" | "kilogrammes" | "kilo"
        | "kilos" => "kg",
        "g" | "gram" | "grams" | "gramme" | "grammes" => "g",
        "lb" | "lbs" | "pound" | "pounds" => "lb",
        "t" | "tonne" | "tonnes" | "ton" | "tons" => "t",
        "ha" | "hectare" | "hectares" => "ha",
        "acre" | "acres" => "acre",
        "percent" | "pct" => "%",
        "dollar" | "dollars" | "usd" => "$",
        "euro" | "euros" | "eur" => "€",
        "gbp" | "sterling" => "£",
        "yen" => "¥",
        _ => return None,
    })
}

/// Singular form of a counted noun; words for people count as one noun.
fn singular(w: &str) -> String {
    const PEOPLE: &[&str] = &[
        "people",
        "person",
        "persons",
        "inhabitants",
        "inhabitant",
        "residents",
        "resident",
        "citizens",
        "citizen",
    ];
    if PEOPLE.contains(&w) {
        return "people".to_string();
    }
    if let Some(stem) = w.strip_suffix("ies").filter(|s| s.len() > 1) {
        return format!("{stem}y");
    }
    match w.strip_suffix('s') {
        Some(stem) if stem.len() > 2 && !stem.ends_with('s') && !stem.ends_with('u') => {
            stem.to_string()
        }
        _ => w.to_string(),
    }
}

/// A counted noun right after a number ("20 million visitors", "300 new homes").
fn counted_noun(toks: &[Tok], j: usize) -> Option<(String, usize)> {
    let mut k = j;
    if NOUN_ADJECTIVES.contains(&lower_at(toks, k).as_str()) {
        k += 1;
    }
    let t = toks.get(k)?;
    let w = t.lower();
    let shapes = w.ends_with("ed") || w.ends_with("ing") || w.ends_with("ly");
    let function = STOP.contains(&w.as_str()) || AUX.contains(&w.as_str());
    if !t.is_word() || t.is_capitalised() || shapes || function || w.len() < 3 {
        return None;
    }
    Some((singular(&w), k + 1))
}

/// A unit after a number: returns (normalised unit, next token, is a measure unit).
fn unit_after(toks: &[Tok], j: usize) -> Option<(String, usize, bool)> {
    let t = toks.get(j)?;
    if t.s == "%" {
        return Some(("%".into(), j + 1, true));
    }
    if t.s == "-" && adjacent(toks, j - 1, j) && adjacent(toks, j, j + 1) {
        return unit_after(toks, j + 1).filter(|u| u.2);
    }
    if !t.is_word() {
        return None;
    }
    let w = t.lower();
    if w == "per" && lower_at(toks, j + 1) == "cent" {
        return Some(("%".into(), j + 2, true));
    }
    if w == "square" || w == "sq" {
        let k = if toks.get(j + 1).is_some_and(|n| n.s == ".") {
            j + 2
        } else {
            j + 1
        };
        let u = measure_unit(&lower_at(toks, k)).filter(|u| matches!(*u, "km" | "m" | "mi"))?;
        return Some((format!("{u}2"), k + 1, true));
    }
    if let Some(u) = measure_unit(&w) {
        let squared = adjacent(toks, j, j + 1)
            && toks.get(j + 1).is_some_and(|n| n.s == "2" || n.s == "²")
            && matches!(u, "km" | "m" | "mi");
        if squared {
            return Some((format!("{u}2"), j + 2, true));
        }
        return Some((u.to_string(), j + 1, true));
    }
    counted_noun(toks, j).map(|(n, next)| (n, next, false))
}

/// Hedges, bounds and a currency symbol before token `i`:
/// (first token of the value, hedged or bounded, currency).
fn prefix_before(toks: &[Tok], i: usize) -> (usize, bool, Option<String>) {
    let mut start = i;
    let mut currency = None;
    if let Some(t) = start.checked_sub(1).map(|k| toks[k]) {
        if matches!(t.s, "$" | "€" | "£" | "¥") {
            currency = Some(t.s.to_string());
            start -= 1;
            if start > 0 && toks[start - 1].s == "US" && adjacent(toks, start - 1, start) {
                start -= 1;
            }
        }
    }
    if start > 0 && toks[start - 1].s == "~" {
        return (start - 1, true, currency);
    }
    if start > 1
        && toks[start - 1].s == "."
        && matches!(lower_at(toks, start - 2).as_str(), "c" | "ca" | "approx")
    {
        return (start - 2, true, currency);
    }
    for n in (1..=3).rev() {
        let Some(from) = start.checked_sub(n) else {
            continue;
        };
        let words = &toks[from..start];
        if !words.iter().all(Tok::is_word) {
            continue;
        }
        let phrase: Vec<String> = words.iter().map(Tok::lower).collect();
        if MARKERS.contains(&phrase.join(" ").as_str()) {
            return (from, true, currency);
        }
    }
    (start, false, currency)
}

/// Numbers that are labels, ordinals, citations, times or fractions, not quantities.
fn is_not_quantity(toks: &[Tok], i: usize, next: usize) -> bool {
    let next_tok = toks.get(next).map_or("", |t| t.s);
    let ordinal = adjacent(toks, next - 1, next)
        && matches!(next_tok.to_lowercase().as_str(), "st" | "nd" | "rd" | "th");
    let prev = i.checked_sub(1).map(|k| toks[k]);
    let prev_s = prev.map_or("", |t| t.s);
    let citation = prev_s == "[" && next_tok == "]";
    let joined = (i > 0 && adjacent(toks, i - 1, i) && matches!(prev_s, ":" | "/"))
        || (adjacent(toks, next - 1, next) && matches!(next_tok, ":" | "/"));
    let label = prev.is_some_and(|p| {
        let w = p.lower();
        p.s == "#"
            || LABELS.contains(&w.as_str())
            || (p.is_capitalised()
                && !sentence_start(toks, i - 1)
                && !STOP.contains(&w.as_str())
                && !PREPS.contains(&w.as_str())
                && !MARKERS.contains(&w.as_str())
                && !AUX.contains(&w.as_str()))
    });
    ordinal || citation || joined || label
}

/// The number at token `i`, if any: (value, step, next token, is a four-digit year shape).
fn core_at(toks: &[Tok], i: usize) -> Option<(f64, usize, bool)> {
    let t = toks[i];
    if t.kind == TokKind::Num {
        let (value, _) = parse_digits(t.s)?;
        let year_like = t.s.len() == 4
            && t.s.bytes().all(|b| b.is_ascii_digit())
            && (1000.0..=2099.0).contains(&value);
        return Some((value, i + 1, year_like));
    }
    let (value, next) = parse_spelled(toks, i)?;
    Some((value, next, false))
}

/// A scale word after a digit number ("1.2 million", "$4.5bn", "$300m").
fn scale_after(toks: &[Tok], j: usize, currency: bool) -> (f64, usize) {
    let w = lower_at(toks, j);
    if let Some(s) = scale_word(&w) {
        return (s, j + 1);
    }
    let short = match w.as_str() {
        "m" => 1e6,
        "k" => 1e3,
        "b" => 1e9,
        _ => return (1.0, j),
    };
    if currency && adjacent(toks, j - 1, j) {
        (short, j + 1)
    } else {
        (1.0, j)
    }
}

/// Whether the word before a four-digit number makes it a year ("in 1850 settlers …").
fn temporal_before(toks: &[Tok], start: usize) -> bool {
    const TEMPORAL: &[&str] = &[
        "in", "on", "since", "by", "until", "till", "from", "to", "of", "during", "before",
        "after", "between", "circa", "about", "around", "early", "late", "mid",
    ];
    let mut k = start;
    if k > 0 && lower_at(toks, k - 1) == "the" {
        k -= 1;
    }
    k > 0 && TEMPORAL.contains(&lower_at(toks, k - 1).as_str())
}

/// A year used as an adjective: a determiner before it and one singular noun after it
/// ("his 1697 book", "the 2010 census"), where a count would take a plural ("its 1500
/// employees").
fn attributive_year(toks: &[Tok], start: usize, next: usize) -> bool {
    const DETERMINERS: &[&str] = &["the", "a", "an", "his", "her", "its", "their", "our"];
    const PLURALS: &[&str] = &[
        "people", "men", "women", "children", "staff", "sheep", "cattle",
    ];
    let noun = lower_at(toks, next);
    let det = start > 0 && DETERMINERS.contains(&lower_at(toks, start - 1).as_str());
    let singular = !noun.ends_with('s') && !PLURALS.contains(&noun.as_str());
    det && singular
        && toks
            .get(next)
            .is_some_and(|t| t.is_word() && !t.is_capitalised())
}

fn span_text(text: &str, toks: &[Tok], from: usize, to: usize) -> String {
    text[toks[from].start..toks[to - 1].end].to_string()
}

/// A year at token `i` if the number there reads as one ("1887", "the 1990s").
fn year_at(
    text: &str,
    toks: &[Tok],
    i: usize,
    start: usize,
    approx: bool,
) -> Option<(Value, usize)> {
    let value = parse_digits(toks[i].s)?.0;
    let decade = adjacent(toks, i, i + 1) && toks.get(i + 1).is_some_and(|t| t.s == "s");
    if decade && value % 10.0 != 0.0 {
        return None;
    }
    let next = if decade { i + 2 } else { i + 1 };
    if !decade {
        if let Some((_, _, measure)) = unit_after(toks, next) {
            if measure || !(temporal_before(toks, start) || attributive_year(toks, start, next)) {
                return None;
            }
        }
    }
    let v = Value {
        kind: ValueKind::Year,
        text: span_text(text, toks, start, next),
        number: Some(value),
        approx,
        unit: None,
        anchor: anchor_before(toks, start, next),
    };
    Some((v, next))
}

/// A century at token `i` ("the 13th century"): a year value standing for its hundred
/// years. Centuries BC are left alone.
fn century_at(text: &str, toks: &[Tok], i: usize) -> Option<(Value, usize)> {
    let t = toks[i];
    let n: i64 = t.s.parse().ok().filter(|_| t.kind == TokKind::Num)?;
    let ordinal = adjacent(toks, i, i + 1)
        && matches!(lower_at(toks, i + 1).as_str(), "st" | "nd" | "rd" | "th");
    if !ordinal || lower_at(toks, i + 2) != "century" || !(1..=21).contains(&n) {
        return None;
    }
    let next = i + 3;
    if matches!(lower_at(toks, next).as_str(), "bc" | "bce" | "b") {
        return None;
    }
    let v = Value {
        kind: ValueKind::Year,
        text: span_text(text, toks, i, next),
        number: Some(((n - 1) * 100 + 1) as f64),
        approx: false,
        unit: None,
        anchor: anchor_before(toks, i, next),
    };
    Some((v, next))
}

/// A figure or year at token `i`, with the token after it.
fn number_at(text: &str, toks: &[Tok], i: usize) -> Option<(Value, usize)> {
    if let Some(found) = century_at(text, toks, i) {
        return Some(found);
    }
    let (value, next, year_like) = core_at(toks, i)?;
    if is_not_quantity(toks, i, next) {
        return None;
    }
    let (start, approx, currency) = prefix_before(toks, i);
    let (scale, mut end) = if toks[i].kind == TokKind::Num {
        scale_after(toks, next, currency.is_some())
    } else {
        (1.0, next)
    };
    if year_like && currency.is_none() && scale == 1.0 && !approx_bound(toks, start, i) {
        if let Some(found) = year_at(text, toks, i, start, approx) {
            return Some(found);
        }
    }
    let unit = match currency {
        Some(c) => Some(c),
        None => unit_after(toks, end).map(|(u, after, _)| {
            end = after;
            u
        }),
    };
    let spelled_one = toks[i].kind == TokKind::Word && value == 1.0;
    if unit.is_none() && (spelled_one || lower_at(toks, end) == "of") {
        return None;
    }
    let anchor = unit.clone().or_else(|| content_word_before(toks, start));
    let v = Value {
        kind: ValueKind::Number,
        text: span_text(text, toks, start, end),
        number: Some(value * scale),
        approx,
        unit,
        anchor,
    };
    Some((v, end))
}

/// Bounds ("more than 2000") make a four-digit number a quantity, not a year.
fn approx_bound(toks: &[Tok], start: usize, i: usize) -> bool {
    let phrase: Vec<String> = toks[start..i].iter().map(Tok::lower).collect();
    let phrase = phrase.join(" ");
    LOWER_BOUNDS.contains(&phrase.as_str()) || UPPER_BOUNDS.contains(&phrase.as_str())
}

// ---------------------------------------------------------------------------------------
// Places and names
// ---------------------------------------------------------------------------------------

fn name_word(t: &Tok) -> bool {
    t.is_capitalised() && !text::is_calendar_word(t.s)
}

fn possessive(s: &str) -> bool {
    s.ends_with("'s") || s.ends_with("’s")
}

/// The capitalised name starting at token `k`: index of its last token.
fn name_span(toks: &[Tok], k: usize) -> Option<usize> {
    let first = toks.get(k)?;
    if !name_word(first) || NOT_NAMES.contains(&first.s) {
        return None;
    }
    if first.s == "The" && !toks.get(k + 1).is_some_and(name_word) {
        return None;
    }
    let (mut j, mut last) = (k, k);
    while let Some(t) = toks.get(j) {
        let next_is_name = toks.get(j + 1).is_some_and(name_word);
        if name_word(t) && (j == k || !NOT_NAMES.contains(&t.s)) {
            last = j;
            j += 1;
            if possessive(t.s) {
                break;
            }
        } else if next_is_name
            && ((t.is_word() && CONNECTORS.contains(&t.s)) || (t.s == "." && initial(&toks[j - 1])))
        {
            // "University of Kellbridge", "St. Kell"
            j += 1;
        } else {
            break;
        }
    }
    Some(last)
}

fn initial(t: &Tok) -> bool {
    t.is_capitalised() && (t.s.chars().count() == 1 || matches!(t.s, "St" | "Mt" | "Ft"))
}

/// The name whose first token is `k`, possessive dropped: (text, index of last token).
fn name_at(text: &str, toks: &[Tok], k: usize) -> Option<(String, usize)> {
    let last = name_span(toks, k)?;
    let name = span_text(text, toks, k, last + 1);
    let name = ["'s", "’s"]
        .iter()
        .find_map(|suf| name.strip_suffix(suf).map(str::to_string))
        .unwrap_or(name);
    Some((name, last))
}

/// Where the next name of a list starts after token `j` ("A and B", "A, B and C"), if any.
fn next_listed(toks: &[Tok], j: usize) -> Option<usize> {
    let s = toks.get(j)?.s;
    let k = match s {
        "and" | "or" => j + 1,
        "," if matches!(lower_at(toks, j + 1).as_str(), "and" | "or") => j + 2,
        "," => {
            let last = name_span(toks, j + 1)?;
            let then = toks.get(last + 1).map_or("", |t| t.s);
            (then == "," || then == "and").then_some(j + 1)?
        }
        _ => return None,
    };
    toks.get(k).is_some_and(name_word).then_some(k)
}

/// Places after a place preposition, or names after "by" or a naming verb; a list of
/// names ("by Alice Marrow and Tomas Vell") shares one slot.
fn proper_at(text: &str, toks: &[Tok], i: usize) -> Option<(Vec<Value>, usize)> {
    let w = toks[i].lower();
    let named = i > 0 && lower_at(toks, i - 1) == "named" && (w == "after" || w == "for");
    let kind = if PLACE_PREPS.contains(&w.as_str()) {
        ValueKind::Place
    } else if w == "by" || NAME_VERBS.contains(&w.as_str()) || named {
        ValueKind::Name
    } else {
        return None;
    };
    // "on the Orme River": a lower-case article may open the name.
    let start = match toks.get(i + 1) {
        Some(t) if t.s == "the" && toks.get(i + 2).is_some_and(name_word) => i + 2,
        _ => i + 1,
    };
    let (first, mut last) = name_at(text, toks, start)?;
    if toks.get(last + 1).is_some_and(|t| t.kind == TokKind::Num) {
        return None; // a label with its number ("Route 66", "Gate 3")
    }
    let anchor = anchor_before(toks, i + 1, last + 1);
    let mut names = vec![first];
    while let Some(k) = next_listed(toks, last + 1).filter(|_| names.len() < 6) {
        let Some((name, end)) = name_at(text, toks, k) else {
            break;
        };
        names.push(name);
        last = end;
    }
    let found = names
        .into_iter()
        .map(|text| Value {
            kind,
            text,
            number: None,
            approx: false,
            unit: None,
            anchor: anchor.clone(),
        })
        .collect();
    Some((found, last + 1))
}

// ---------------------------------------------------------------------------------------
// Extraction
// ---------------------------------------------------------------------------------------

/// Every figure, year, date, place and name a text states, in order of appearance.
pub fn values(text: &str) -> Vec<Value> {
    let toks = tokenize(text);
    let dates = find_dates(text);
    let mut found: Vec<(usize, Value)> = Vec::new();
    for &(s, e) in &dates {
        let first = toks.iter().position(|t| t.start >= s).unwrap_or(toks.len());
        let end = toks.iter().position(|t| t.start >= e).unwrap_or(toks.len());
        let v = Value {
            kind: ValueKind::Date,
            text: text[s..e].to_string(),
            number: None,
            approx: false,
            unit: None,
            anchor: anchor_before(&toks, first, end),
        };
        found.push((s, v));
    }
    let mut i = 0;
    while i < toks.len() {
        let in_date = dates
            .iter()
            .any(|&(s, e)| toks[i].start >= s && toks[i].start < e);
        let hit = if in_date {
            None
        } else {
            number_at(text, &toks, i)
                .map(|(v, next)| (vec![v], next))
                .or_else(|| proper_at(text, &toks, i))
        };
        match hit {
            Some((vs, next)) => {
                found.extend(vs.into_iter().map(|v| (toks[i].start, v)));
                i = next.max(i + 1);
            }
            None => i += 1,
        }
    }
    found.sort_by_key(|(s, _)| *s); // stable: listed names keep their order
    found.into_iter().map(|(_, v)| v).collect()
}

// ---------------------------------------------------------------------------------------
// Equivalence
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Exact,
    AtLeast,
    AtMost,
}

fn bound_of(v: &Value) -> Bound {
    let t = v.text.to_lowercase();
    let starts = |list: &[&str]| list.iter().any(|m| t.starts_with(&format!("{m} ")));
    if starts(UPPER_BOUNDS) {
        Bound::AtMost
    } else if starts(LOWER_BOUNDS) {
        Bound::AtLeast
    } else {
        Bound::Exact
    }
}

/// Factor that converts `b`'s unit into `a`'s; `None` when they measure different things.
fn conversion(a: Option<&str>, b: Option<&str>) -> Option<f64> {
    match (a, b) {
        (Some(x), Some(y)) if x == y => Some(1.0),
        (Some(x), Some(y)) => {
            let ((dx, fx), (dy, fy)) = (dimension(x)?, dimension(y)?);
            (dx == dy).then_some(fy / fx)
        }
        _ => Some(1.0),
    }
}

fn bounds_agree(x: f64, bx: Bound, y: f64, by: Bound) -> bool {
    let eps = 1e-9 * x.abs().max(y.abs()).max(1.0);
    match (bx, by) {
        (Bound::AtLeast, Bound::AtMost) => x <= y + eps,
        (Bound::AtMost, Bound::AtLeast) => y <= x + eps,
        (Bound::AtLeast, _) => y + eps >= x,
        (Bound::AtMost, _) => y <= x + eps,
        (_, Bound::AtLeast) => x + eps >= y,
        (_, Bound::AtMost) => x <= y + eps,
        (Bound::Exact, Bound::Exact) => (x - y).abs() <= eps,
    }
}

/// Figures agree when equal, when a bound holds, within 2% after a unit conversion, or to
/// the precision of the rounder one (within 5% if hedged, 10% if not, so that "20" and
/// "24" still differ).
fn numbers_equivalent(a: &Value, b: &Value) -> bool {
    let (Some(x), Some(y0)) = (a.number, b.number) else {
        return false;
    };
    let Some(factor) = conversion(a.unit.as_deref(), b.unit.as_deref()) else {
        return false;
    };
    let y = y0 * factor;
    let (ba, bb) = (bound_of(a), bound_of(b));
    if ba != Bound::Exact || bb != Bound::Exact {
        return bounds_agree(x, ba, y, bb);
    }
    let diff = (x - y).abs();
    let big = x.abs().max(y.abs());
    if diff <= 1e-9 * big.max(1.0) {
        return true;
    }
    let rel = diff / big;
    if factor != 1.0 && rel <= 0.02 {
        return true;
    }
    let step = step_of(a).max(step_of(b) * factor);
    let rounds = diff <= step / 2.0 * (1.0 + 1e-9);
    if a.approx || b.approx {
        rounds || rel <= 0.05
    } else {
        rounds && rel <= 0.10
    }
}

fn same_number(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

/// The parts of a year or date; a decade spans ten years, a hedged year five either side.
fn when_of(v: &Value) -> Option<When> {
    match v.kind {
        ValueKind::Year => {
            let n = v.number? as i64;
            let years = if v.text.ends_with("century") {
                (n, n + 99)
            } else if v.text.ends_with('s') {
                (n, n + 9)
            } else if v.approx {
                (n - 5, n + 5)
            } else {
                (n, n)
            };
            Some(When {
                day: None,
                month: None,
                years: Some(years),
            })
        }
        ValueKind::Date => parse_date(&v.text),
        _ => None,
    }
}

fn parts_agree<T: PartialEq>(a: Option<T>, b: Option<T>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

fn when_agree(a: When, b: When) -> bool {
    let years = match (a.years, b.years) {
        (Some((a0, a1)), Some((b0, b1))) => a0 <= b1 && b0 <= a1,
        _ => true,
    };
    let day = a.month.is_none() || b.month.is_none() || parts_agree(a.day, b.day);
    years && parts_agree(a.month, b.month) && day
}

/// Lower-cased words of a name, without "the" and possessives.
fn name_words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty() && w != "the" && w != "s")
        .collect()
}

fn contains_run(hay: &[String], needle: &[String]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Whether two values say the same thing: equal, within rounding or unit conversion,
/// overlapping dates, or one name contained in the other ("Paris" / "Paris, France").
pub fn equivalent(a: &Value, b: &Value) -> bool {
    use ValueKind::{Date, Name, Number, Place, Year};
    match (a.kind, b.kind) {
        (Year | Date, Year | Date) => match (when_of(a), when_of(b)) {
            (Some(x), Some(y)) => when_agree(x, y),
            _ => false,
        },
        (Number, Number) => numbers_equivalent(a, b),
        (Number, Year) | (Year, Number) => same_number(a.number, b.number),
        (Place | Name, Place | Name) => {
            let (x, y) = (name_words(&a.text), name_words(&b.text));
            contains_run(&x, &y) || contains_run(&y, &x)
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Slots and mismatches
// ---------------------------------------------------------------------------------------

fn verb_stem(w: &str) -> &str {
    for suf in ["ing", "ed", "es", "s", "e"] {
        if let Some(stem) = w.strip_suffix(suf).filter(|s| s.len() >= 3) {
            return stem;
        }
    }
    w
}

/// Whether an anchor's word reads as a verb: an -ed form, an auxiliary, a known irregular
/// one, or one of the verb groups ("the spinning *wheel* in the 13th century" has no verb).
fn verb_shaped(w: &str) -> bool {
    (w.len() > 4 && w.ends_with("ed"))
        || AUX.contains(&w)
        || KNOWN_VERBS.contains(&w)
        || VERB_GROUPS.iter().any(|g| g.contains(&w))
}

fn same_verb(a: &str, b: &str) -> bool {
    let (sa, sb) = (verb_stem(a), verb_stem(b));
    sa == sb
        || VERB_GROUPS
            .iter()
            .any(|g| g.iter().any(|x| verb_stem(x) == sa) && g.iter().any(|x| verb_stem(x) == sb))
}

/// Whether two terms (as `text::term_set` gives them) are verbs of one relation: the same
/// verb, or two of a group such as "stands" / "is situated" / "lies".
pub(crate) fn same_relation(a: &str, b: &str) -> bool {
    is_relation_verb(a) && is_relation_verb(b) && same_verb(a, b)
}

/// Whether a term is a verb of one of the relation groups.
pub(crate) fn is_relation_verb(t: &str) -> bool {
    VERB_GROUPS
        .iter()
        .any(|g| g.iter().any(|x| verb_stem(x) == verb_stem(t)))
}

/// The root that a place's name and the word for its people or language share:
/// "turkish" / "turkey" → "turk", "egyptian" / "egypt" → "egypt", "chinese" / "china" →
/// "chin". Only the endings such words take are cut, and three letters always remain.
pub(crate) fn name_root(t: &str) -> &str {
    for suf in ["ish", "ese", "ian", "ean", "ey", "ia", "a", "y"] {
        if let Some(root) = t.strip_suffix(suf).filter(|r| r.len() >= 4) {
            return root;
        }
    }
    t
}

fn prep_class(p: &str) -> &str {
    match p {
        "in" | "at" | "on" | "during" | "within" => "in",
        "to" | "into" | "until" | "till" => "to",
        other => other,
    }
}

/// Splits an anchor into (verb, preposition).
fn split_anchor(a: &str) -> (Option<&str>, Option<&str>) {
    let words: Vec<&str> = a.split(' ').collect();
    match words.as_slice() {
        [v, p] => (Some(v), Some(p)),
        [w] if PREPS.contains(w) => (None, Some(w)),
        [w] => (Some(w), None),
        _ => (None, None),
    }
}

/// How well two anchors name one slot: 2 when the verbs agree, 1 when the claim's or the
/// evidence's has no verb, `None` when they are different slots ("built in" / "renovated in").
fn anchor_match(claim: &str, evidence: &str) -> Option<u8> {
    let ((cv, cp), (ev, ep)) = (split_anchor(claim), split_anchor(evidence));
    match (cp, ep) {
        (Some(x), Some(y)) if prep_class(x) != prep_class(y) => None,
        (Some(_), Some(_)) => match (cv, ev) {
            (Some(a), Some(b)) => same_verb(a, b).then_some(2),
            (None, None) => Some(2),
            _ => Some(1),
        },
        (Some("by"), None) | (None, Some("by")) => None,
        _ => match (cv, ev) {
            (Some(a), Some(b)) if same_verb(a, b) => Some(2),
            _ => None,
        },
    }
}

fn is_time(k: ValueKind) -> bool {
    matches!(k, ValueKind::Year | ValueKind::Date)
}

/// Whether an evidence value fills the claim value's slot, and how surely.
fn slot_score(c: &Value, e: &Value) -> Option<u8> {
    if c.kind != e.kind && !(is_time(c.kind) && is_time(e.kind)) {
        return None;
    }
    if c.kind == ValueKind::Number {
        return match (&c.unit, &e.unit) {
            (Some(a), Some(b)) => conversion(Some(a), Some(b)).map(|_| 2),
            (None, None) => (c.anchor.is_some() && c.anchor == e.anchor).then_some(2),
            _ => None,
        };
    }
    anchor_match(c.anchor.as_deref()?, e.anchor.as_deref()?)
}

/// Whether an evidence value states at least what the claim value states.
fn covers(e: &Value, c: &Value) -> bool {
    if let (Some(cw), Some(ew)) = (when_of(c), when_of(e)) {
        let within = match (cw.years, ew.years) {
            (Some((c0, c1)), Some((e0, e1))) => c0 <= e0 && e1 <= c1,
            (Some(_), None) => false,
            _ => true,
        };
        let day_ok = cw.day.is_none() || ew.day == cw.day;
        let month_ok = cw.month.is_none() || ew.month == cw.month;
        return within && day_ok && month_ok;
    }
    equivalent(c, e)
}

/// Whether the evidence mentions the claim's value anywhere, in any slot.
fn mentioned(c: &Value, ev: &[Value], evidence: &str) -> bool {
    if ev.iter().any(|e| covers(e, c)) {
        return true;
    }
    match c.kind {
        ValueKind::Place | ValueKind::Name => {
            contains_run(&name_words(evidence), &name_words(&c.text))
        }
        ValueKind::Number | ValueKind::Year => ev.iter().any(|e| {
            matches!(e.kind, ValueKind::Number | ValueKind::Year) && same_number(e.number, c.number)
        }),
        ValueKind::Date => false,
    }
}

/// The evidence values in the claim value's slot, only the surest matches kept.
fn slot_values<'a>(c: &Value, ev: &'a [Value]) -> Vec<&'a Value> {
    let scored: Vec<(u8, &Value)> = ev
        .iter()
        .filter_map(|e| slot_score(c, e).map(|s| (s, e)))
        .collect();
    let best = scored.iter().map(|(s, _)| *s).max().unwrap_or(0);
    scored
        .into_iter()
        .filter(|(s, _)| *s == best)
        .map(|(_, e)| e)
        .collect()
}

/// The claim's values that the evidence gives differently. A claim value counts as
/// mismatched only when the evidence has a value of the same kind in the same slot
/// (same anchor: same unit/noun for numbers; same preposition/verb for years, dates,
/// places and names), none of the evidence's same-slot values is equivalent to it, and the
/// claim's value does not appear (equivalently) anywhere in the evidence. Evidence values
/// that the claim states elsewhere ("by Alice Marrow and Tomas Vell" against "by Tomas
/// Vell") are an omission, not a contradiction, and are never named.
pub fn mismatches(claim: &str, evidence: &str) -> Vec<Mismatch> {
    let (cv, ev) = (values(claim), values(evidence));
    let mut out: Vec<Mismatch> = Vec::new();
    for c in &cv {
        if mentioned(c, &ev, evidence) {
            continue;
        }
        let slot = slot_values(c, &ev);
        if slot.iter().any(|e| equivalent(c, e)) {
            continue;
        }
        let Some(other) = slot.iter().find(|e| !cv.iter().any(|x| equivalent(x, e))) else {
            continue;
        };
        let m = Mismatch::between(c, other);
        if !out.contains(&m) {
            out.push(m);
        }
    }
    if out.is_empty() {
        out.extend(lone_time_mismatch(&cv, &ev, evidence));
    }
    out
}

/// The claim's one year or date against the evidence's one year or date, when no slot
/// pairs them ("published X in 1667" / "published in his 1697 book X"). Callers ask only
/// of sentences that state the claim's relation (see `judge::states_claim_relation`), so
/// a sentence that tells the same event with one other time gives the event differently.
/// With two times on either side the slot is unknown and nothing is named.
fn lone_time_mismatch(cv: &[Value], ev: &[Value], evidence: &str) -> Option<Mismatch> {
    fn times(vs: &[Value]) -> Vec<&Value> {
        vs.iter().filter(|v| is_time(v.kind)).collect()
    }
    let (ct, et) = (times(cv), times(ev));
    let ([c], [e]) = (ct.as_slice(), et.as_slice()) else {
        return None;
    };
    // "built in 1887" / "renovated in 1990" name two different events: a slot whose verbs
    // both sides give is known, not unknown.
    let has_verb = |v: &Value| {
        v.anchor
            .as_deref()
            .and_then(|a| split_anchor(a).0)
            .is_some_and(verb_shaped)
    };
    // "by March 2024" is a deadline, not the event's date: a bound is never a lone time.
    let bound = |v: &Value| {
        v.anchor
            .as_deref()
            .and_then(|a| split_anchor(a).1)
            .is_some_and(|p| matches!(p, "by" | "until" | "till" | "before" | "after" | "since"))
    };
    let unpaired = {
        let two_events = has_verb(c) && has_verb(e);
        let known = !slot_values(c, ev).is_empty();
        !(known || two_events || bound(c) || bound(e))
    };
    let differs = !mentioned(c, ev, evidence) && !equivalent(c, e);
    (unpaired && differs).then(|| Mismatch::between(c, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Value {
        let vs = values(text);
        assert_eq!(vs.len(), 1, "expected one value in {text:?}: {vs:?}");
        vs[0].clone()
    }

    fn named(kind: ValueKind, claim: &str, evidence: &str) -> Vec<Mismatch> {
        vec![Mismatch {
            kind,
            claim: claim.into(),
            evidence: evidence.into(),
            evidence_approx: values(evidence).first().is_some_and(|v| v.approx),
        }]
    }

    #[test]
    fn different_years_are_named() {
        let got = mismatches(
            "The Vell Bridge was built in 1887.",
            "The Vell Bridge was built in 1889.",
        );
        assert_eq!(got, named(ValueKind::Year, "1887", "1889"));
        assert_eq!(
            (got[0].claim.as_str(), got[0].evidence.as_str()),
            ("1887", "1889")
        );
        assert_eq!(one("built in 1887").kind, ValueKind::Year);
    }

    #[test]
    fn a_lone_year_in_another_slot_is_named() {
        assert_eq!(
            mismatches(
                "Edda Marrow published the song cycle Vell Airs in 1667.",
                "Edda Marrow published her 1697 song cycle Vell Airs in Kellbridge.",
            ),
            named(ValueKind::Year, "1667", "1697")
        );
        // The same year, or a decade or century that holds it, is no mismatch.
        for evidence in [
            "Edda Marrow published her 1667 song cycle Vell Airs in Kellbridge.",
            "Edda Marrow published her song cycles of the 1660s, Vell Airs among them.",
            "In the 17th century Edda Marrow published the song cycle Vell Airs.",
        ] {
            assert!(
                mismatches(
                    "Edda Marrow published the song cycle Vell Airs in 1667.",
                    evidence
                )
                .is_empty(),
                "{evidence}"
            );
        }
        // Two times in the evidence: which one is the claim's is unknown.
        assert!(mismatches(
            "Edda Marrow published the song cycle Vell Airs in 1667.",
            "Edda Marrow published her 1697 song cycle Vell Airs and its 1702 sequel.",
        )
        .is_empty());
    }

    #[test]
    fn centuries_are_years_that_span_a_hundred() {
        assert_eq!(
            mismatches(
                "The Vell loom was introduced in the 16th century.",
                "The Vell loom was introduced in the 13th century.",
            ),
            named(ValueKind::Year, "16th century", "13th century")
        );
        assert!(mismatches(
            "The Vell loom was introduced in the 16th century.",
            "The Vell loom was introduced in 1540.",
        )
        .is_empty());
        assert!(mismatches(
            "The Vell loom was introduced in 1540.",
            "The Vell loom was introduced in the 16th century.",
        )
        .is_empty());
        assert!(values("The Vell shrine dates from the 5th century BC.").is_empty());
        // A noun before the preposition is no verb: the slot is unknown, the time lone.
        assert_eq!(
            mismatches(
                "The Vell loom was introduced in the 16th century, raising output.",
                "After the arrival of the Vell loom in the 13th century, output rose.",
            ),
            named(ValueKind::Year, "16th century", "13th century")
        );
    }

    #[test]
    fn different_lengths_are_named() {
        let got = mismatches(
            "The Vell River is 400 km long.",
            "The Vell River is 500 km long.",
        );
        assert_eq!(got, named(ValueKind::Number, "400 km", "500 km"));
    }

    #[test]
    fn rounded_figure_matches_precise_one() {
        let a = one("Trade reached about $400 billion.");
        let b = one("Trade reached $398.6 billion.");
        assert!(equivalent(&a, &b));
        assert!(mismatches(
            "Trade reached about $400 billion.",
            "Trade reached $398.6 billion."
        )
        .is_empty());
        let got = mismatches(
            "Trade reached $300 billion.",
            "Trade reached $398.6 billion.",
        );
        assert_eq!(
            got,
            named(ValueKind::Number, "$300 billion", "$398.6 billion")
        );
    }

    #[test]
    fn scale_words_match_digits() {
        let a = one("1.2 million people");
        assert_eq!(a.number, Some(1_200_000.0));
        assert!(equivalent(&a, &one("1,200,000 people")));
        assert!(equivalent(&a, &one("1,213,000 people")));
        assert!(!equivalent(&a, &one("1,500,000 people")));
        assert_eq!(one("$4.5bn").number, Some(4.5e9));
        assert_eq!(one("$4.5bn").unit.as_deref(), Some("$"));
    }

    #[test]
    fn spelled_numbers_match_digits() {
        let three = one("three bridges");
        assert_eq!(three.number, Some(3.0));
        assert!(equivalent(&three, &one("3 bridges")));
        assert!(
            mismatches("Kellbridge has three bridges.", "Kellbridge has 3 bridges.").is_empty()
        );
        let got = mismatches("Kellbridge has three bridges.", "Kellbridge has 5 bridges.");
        assert_eq!(got, named(ValueKind::Number, "three bridges", "5 bridges"));
        assert_eq!(one("twenty-five shops").number, Some(25.0));
        assert_eq!(one("three hundred shops").number, Some(300.0));
        assert_eq!(one("a dozen mills").number, Some(12.0));
    }

    #[test]
    fn unit_spellings_normalise() {
        let a = one("5 kilometres");
        assert_eq!(a.unit.as_deref(), Some("km"));
        assert!(equivalent(&a, &one("5 km")));
        assert_eq!(one("45 per cent").unit.as_deref(), Some("%"));
        assert_eq!(one("45 percent").unit.as_deref(), Some("%"));
        assert_eq!(one("12 km²").unit.as_deref(), Some("km2"));
        assert_eq!(one("12 square kilometres").unit.as_deref(), Some("km2"));
        assert_eq!(one("30 metres").unit.as_deref(), Some("m"));
    }

    #[test]
    fn converted_units_match() {
        let miles = one("100 miles");
        assert!(equivalent(&miles, &one("161 km")));
        assert!(!equivalent(&miles, &one("200 km")));
        let got = mismatches("The road is 100 miles long.", "The road is 200 km long.");
        assert_eq!(got, named(ValueKind::Number, "100 miles", "200 km"));
        assert!(mismatches("The road is 100 miles long.", "The road is 161 km long.").is_empty());
    }

    #[test]
    fn bounds_hold_or_fail() {
        let more = one("more than 300 people");
        assert!(more.approx);
        assert!(equivalent(&more, &one("312 people")));
        assert!(!equivalent(&more, &one("250 people")));
    }

    #[test]
    fn small_round_numbers_still_differ() {
        let got = mismatches("The fire killed 20 people.", "The fire killed 24 people.");
        assert_eq!(got, named(ValueKind::Number, "20 people", "24 people"));
    }

    #[test]
    fn less_specific_date_matches() {
        let month = one("It opened in May 2021.");
        assert_eq!(month.kind, ValueKind::Date);
        assert!(equivalent(&month, &one("It opened on 3 May 2021.")));
        assert!(mismatches("It opened in May 2021.", "It opened on 3 May 2021.").is_empty());
        assert!(equivalent(&one("on 3 May 2021"), &one("on 2021-05-03")));
        assert!(equivalent(&one("on 3 May 2021"), &one("on May 3, 2021")));
    }

    #[test]
    fn different_days_are_named() {
        let got = mismatches(
            "The mill opened on 3 May 2021.",
            "The mill opened on 4 May 2021.",
        );
        assert_eq!(got, named(ValueKind::Date, "3 May 2021", "4 May 2021"));
    }

    #[test]
    fn year_matches_date_in_same_slot() {
        assert!(mismatches(
            "Alice Marrow was born in 1889.",
            "Alice Marrow was born on 3 May 1889."
        )
        .is_empty());
        let got = mismatches(
            "Alice Marrow was born in 1887.",
            "Alice Marrow was born on 3 May 1889.",
        );
        assert_eq!(got, named(ValueKind::Year, "1887", "3 May 1889"));
    }

    #[test]
    fn decade_covers_its_years() {
        assert!(mismatches(
            "The mill was built in the 1880s.",
            "The mill was built in 1887."
        )
        .is_empty());
        let got = mismatches(
            "The mill was built in the 1880s.",
            "The mill was built in 1897.",
        );
        assert_eq!(got, named(ValueKind::Year, "1880s", "1897"));
    }

    #[test]
    fn hedged_year_allows_a_few_years() {
        assert!(mismatches(
            "The mill was built around 1850.",
            "The mill was built in 1852."
        )
        .is_empty());
    }

    #[test]
    fn different_places_are_named() {
        let got = mismatches(
            "The company was founded in Port Vellan.",
            "The company was founded in Kellbridge.",
        );
        assert_eq!(got, named(ValueKind::Place, "Port Vellan", "Kellbridge"));
    }

    #[test]
    fn longer_place_name_matches() {
        assert!(mismatches("She died in Paris.", "She died in Paris, France.").is_empty());
        let paris = one("in Paris");
        let mut longer = paris.clone();
        longer.text = "Paris, France".into();
        assert!(equivalent(&paris, &longer));
        longer.text = "Parisville".into();
        assert!(!equivalent(&paris, &longer));
    }

    #[test]
    fn different_names_are_named() {
        let got = mismatches(
            "Kellbridge Mill was founded by Alice Marrow.",
            "Kellbridge Mill was founded by Tomas Vell.",
        );
        assert_eq!(got, named(ValueKind::Name, "Alice Marrow", "Tomas Vell"));
    }

    #[test]
    fn surname_matches_full_name() {
        let short = one("written by Vell");
        let full = one("written by Jean-Paul Vell");
        assert_eq!(full.text, "Jean-Paul Vell");
        assert!(equivalent(&short, &full));
        assert!(mismatches(
            "The novel was written by Vell.",
            "The novel was written by Jean-Paul Vell."
        )
        .is_empty());
    }

    #[test]
    fn multi_word_names_are_whole() {
        let v = one("She studied at University of Kellbridge.");
        assert_eq!(v.text, "University of Kellbridge");
        assert_eq!(one("It lies in New Marrow Wales.").text, "New Marrow Wales");
    }

    #[test]
    fn value_mentioned_elsewhere_is_no_mismatch() {
        let got = mismatches(
            "The Vell Bridge was built in 1887.",
            "Plans were drawn in 1887 and the Vell Bridge was built in 1889.",
        );
        assert!(got.is_empty(), "{got:?}");
        let got = mismatches(
            "Kellbridge Mill was founded by Alice Marrow.",
            "Kellbridge Mill was founded by Tomas Vell, who married Alice Marrow.",
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn different_units_are_not_compared() {
        let got = mismatches(
            "The Vell River is 400 km long.",
            "The Vell River draws 20 million visitors.",
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn years_in_other_slots_are_not_compared() {
        let got = mismatches(
            "The Vell Bridge was built in 1887.",
            "The Vell Bridge was renovated in 1990.",
        );
        assert!(got.is_empty(), "{got:?}");
        let got = mismatches(
            "The Vell Bridge was built in 1887.",
            "The Vell Bridge was constructed in 1889.",
        );
        assert_eq!(got, named(ValueKind::Year, "1887", "1889"));
    }

    #[test]
    fn verb_found_across_an_intervening_phrase() {
        let v = values("The Vell Bridge was built in 1887 by Alice Marrow.");
        assert_eq!(v[1].anchor.as_deref(), Some("built by"));
        let got = mismatches(
            "The Vell Bridge was built in 1887 by Alice Marrow.",
            "It was designed by Tomas Vell and built in 1887.",
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn end_of_a_span_is_one_slot() {
        let got = mismatches(
            "He served as mayor from 1990 to 1998.",
            "He served as mayor from 1990 until 2001.",
        );
        assert_eq!(got, named(ValueKind::Year, "1998", "2001"));
    }

    #[test]
    fn fronted_year_takes_the_main_verb() {
        let got = mismatches(
            "Kellbridge was founded in 1850.",
            "In 2020, the town had 12,000 people.",
        );
        assert!(got.is_empty(), "{got:?}");
        let got = mismatches(
            "Kellbridge was founded in 1850.",
            "In 1851, Kellbridge was founded by settlers.",
        );
        assert_eq!(got, named(ValueKind::Year, "1850", "1851"));
    }

    #[test]
    fn ordinals_and_labels_are_ignored() {
        assert!(values("Kellbridge is one of the oldest towns.").is_empty());
        assert!(values("It was the first mill and the 12th bridge.").is_empty());
        assert!(values("It lies on Route 66, as noted in [3].").is_empty());
        let got = mismatches(
            "Kellbridge is one of three towns.",
            "Kellbridge is one of five towns.",
        );
        assert_eq!(got, named(ValueKind::Number, "three towns", "five towns"));
    }

    #[test]
    fn months_are_not_places() {
        assert!(values("The fair is held in March.").is_empty());
        assert!(values("It closed on Monday.").is_empty());
    }

    #[test]
    fn listed_names_are_an_omission_not_a_contradiction() {
        let got = mismatches(
            "The mill was built by Alice Marrow and Tomas Vell.",
            "The mill was built by Tomas Vell.",
        );
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn year_followed_by_a_unit_is_a_figure() {
        assert_eq!(one("The road is 1500 km long.").kind, ValueKind::Number);
        assert_eq!(one("About 2000 people came.").kind, ValueKind::Number);
        assert_eq!(one("In 1850 settlers came.").kind, ValueKind::Year);
    }

    #[test]
    fn kinds_have_nouns() {
        assert_eq!(ValueKind::Year.noun(), "year");
        assert_eq!(ValueKind::Number.noun(), "figure");
    }
}
