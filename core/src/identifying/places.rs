//! Places a child can be found at: street addresses and schools.

use super::lexicon::{
    self, FAMOUS_STREETS, FUNCTION_WORDS, GENERIC_SCHOOLS, SCHOOL_QUALIFIERS, SCHOOL_WORDS,
    STREET_WORDS, WEAK_STREET_WORDS, WELSH_SCHOOL_WORDS, WELSH_STREET_WORDS,
};
use super::text::{self, Word};
use super::{Finding, Rule};

/// Finds every street address and school name.
pub(crate) fn find(text: &str, words: &[Word]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for at in 0..words.len() {
        let found = street_address(text, words, at)
            .map(|start| (start, Rule::StreetAddress))
            .or_else(|| school_name(text, words, at).map(|start| (start, Rule::SchoolName)));
        if let Some((start, rule)) = found {
            findings.push(Finding {
                start,
                end: words[at].end,
                rule,
                term: None,
            });
        }
        if let Some(end) = welsh_name(text, words, at, WELSH_STREET_WORDS) {
            findings.push(finding_from(words, at, end, Rule::StreetAddress));
        }
        if let Some(end) = welsh_name(text, words, at, &["ysgol"]) {
            findings.push(finding_from(words, at, end, Rule::SchoolName));
        }
    }
    findings
}

fn finding_from(words: &[Word], first: usize, last: usize, rule: Rule) -> Finding {
    let start = house_number_before(words, first).map_or(words[first].start, |n| words[n].start);
    Finding {
        start,
        end: words[last].end,
        rule,
        term: None,
    }
}

/// Checks whether the word at `at` can be part of a proper name: capitalised letters, "St",
/// or the "s" of a possessive ("St Mary's").
fn name_word(text: &str, words: &[Word], at: usize) -> bool {
    let word = &words[at];
    let possessive = word.raw == "s"
        && at > 0
        && matches!(&text[words[at - 1].end..word.start], "'" | "\u{2019}");
    // In text written all in capitals every word looks like a name.
    let shouting = word.raw.chars().count() > 2 && !word.raw.chars().any(char::is_lowercase);
    possessive
        || (word.is_capitalised()
            && word.is_alphabetic()
            && !shouting
            && !lexicon::has(FUNCTION_WORDS, &word.folded))
}

/// Walks back from the word before `at` over up to `max_words` name words, each
/// joined to the next. Returns the index of the first, if there is one.
fn name_start(text: &str, words: &[Word], at: usize, max_words: usize) -> Option<usize> {
    let mut first = None;
    let mut next = at;
    while next > 0 && at - next < max_words {
        let candidate = next - 1;
        if !name_word(text, words, candidate)
            || !text::within_name(text, &words[candidate], &words[next])
        {
            break;
        }
        next = candidate;
        first = Some(next);
    }
    first
}

/// Checks for a house number: up to four digits and an optional letter ("12", "7b").
fn house_number(word: &Word) -> bool {
    let digits = word.raw.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &word.raw[digits..];
    (1..=4).contains(&digits)
        && (rest.is_empty() || (rest.len() == 1 && rest.bytes().all(|b| b.is_ascii_alphabetic())))
}

fn house_number_before(words: &[Word], first: usize) -> Option<usize> {
    let before = first.checked_sub(1)?;
    house_number(&words[before]).then_some(before)
}

/// Returns the start of a street address that ends with the street word at
/// `at`. An address is a house number and a name before any street word
/// ("12 Elm Grove"), or a name before a capitalised street word that names
/// nothing else ("Elm Road", not "Hyde Park" or "Memory Lane").
fn street_address(text: &str, words: &[Word], at: usize) -> Option<usize> {
    let street = &words[at];
    let strong = lexicon::has(STREET_WORDS, &street.folded);
    if !strong && !lexicon::has(WEAK_STREET_WORDS, &street.folded) {
        return None;
    }
    let saint = street.folded == "st"
        && words
            .get(at + 1)
            .is_some_and(|n| n.is_capitalised() && text::joined(text, street, n));
    if saint {
        return None;
    }
    if let Some(start) = plain_numbered_street(text, words, at, strong) {
        return Some(start);
    }
    let first = name_start(text, words, at, 3)?;
    if let Some(number) = house_number_before(words, first) {
        return Some(words[number].start);
    }
    let famous = FAMOUS_STREETS.iter().any(|known| {
        words[first..=at]
            .iter()
            .map(|w| w.folded.as_str())
            .eq(known.iter().copied())
    });
    (strong && street.is_capitalised() && !famous).then_some(words[first].start)
}

/// Returns the start of an address written in lower case or with "The"
/// ("12 elm road", "4 The Crescent"): a house number, then up to three
/// plain words, then the street word. In lower case only a street word
/// that names nothing else counts, and "the" may only follow the number,
/// so "2 goals down the road" stays quiet.
fn plain_numbered_street(text: &str, words: &[Word], at: usize, strong: bool) -> Option<usize> {
    let mut next = at;
    while next > 0 && at - next < 3 && !house_number(&words[next - 1]) {
        let candidate = &words[next - 1];
        let plain = candidate.is_alphabetic()
            && (candidate.is_lower() || candidate.folded == "the")
            && (candidate.folded == "the" || !lexicon::has(FUNCTION_WORDS, &candidate.folded));
        if !plain || !text::joined(text, candidate, &words[next]) {
            return None;
        }
        next -= 1;
    }
    let number = next.checked_sub(1)?;
    let numbered = next < at
        && house_number(&words[number])
        && text::joined(text, &words[number], &words[next]);
    // With no plain word between the number and the street word there is
    // no slice to search, and no address of this form.
    if !numbered || words[next + 1..at].iter().any(|w| w.folded == "the") {
        return None;
    }
    let the_form = words[next].folded == "the";
    let counts = if the_form {
        words[at].is_capitalised() || strong
    } else {
        strong
    };
    counts.then_some(words[number].start)
}

/// Maximum number of words in a school's describing words or a Welsh name. A
/// longer run is not one name, and a bound keeps a text that repeats such
/// words from costing time that grows with the square of its length.
const MAX_NAME_WORDS: usize = 8;

/// Returns the start of a school's name that ends with the school word at `at`:
/// a name, then words describing the school ("Church of England Primary"),
/// then "School", "Academy", "College" or "Nursery". The name must be more
/// than a kind of school ("Sunday School" is not one school).
fn school_name(text: &str, words: &[Word], at: usize) -> Option<usize> {
    if !lexicon::has(SCHOOL_WORDS, &words[at].folded) {
        return None;
    }
    let mut end_of_name = at;
    while end_of_name > 0 && at - end_of_name < MAX_NAME_WORDS {
        let before = &words[end_of_name - 1];
        let joined = text::within_name(text, before, &words[end_of_name]);
        if !joined || !lexicon::has(SCHOOL_QUALIFIERS, &before.folded) {
            break;
        }
        end_of_name -= 1;
    }
    let first = name_start(text, words, end_of_name, 4)?;
    let named = words[first..end_of_name].iter().any(|w| {
        w.is_capitalised()
            && !lexicon::has(GENERIC_SCHOOLS, &w.folded)
            && !lexicon::has(SCHOOL_QUALIFIERS, &w.folded)
    });
    named.then_some(words[first].start)
}

/// Returns the last word of a Welsh name that starts with the capitalised word at
/// `at` when it is one of `leads` ("Heol y Bont", "Ysgol Gynradd Pen y
/// Bryn"): the lead's describing words, then capitalised words, with "y"
/// or "yr" between them.
fn welsh_name(text: &str, words: &[Word], at: usize, leads: &[&str]) -> Option<usize> {
    if !words[at].is_capitalised() || !lexicon::has(leads, &words[at].folded) {
        return None;
    }
    let mut last = None;
    let mut next = at + 1;
    while let Some(word) = words.get(next) {
        if next - at > MAX_NAME_WORDS || !text::within_name(text, &words[next - 1], word) {
            break;
        }
        let article = matches!(word.folded.as_str(), "y" | "yr");
        let describing = lexicon::has(WELSH_SCHOOL_WORDS, &word.folded) && leads == ["ysgol"];
        if word.is_capitalised() && word.is_alphabetic() && !describing {
            last = Some(next);
        } else if !(article || describing) {
            break;
        }
        next += 1;
    }
    last
}
