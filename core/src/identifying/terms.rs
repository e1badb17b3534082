//! Protected terms and the full names built on a protected surname.

use serde::{Deserialize, Serialize};

use super::lexicon::{self, FUNCTION_WORDS, TITLES};
use super::text::{self, Word};
use super::{Finding, Rule};

/// The kind of thing a protected term names. Only a surname can end a full name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TermKind {
    /// The adoptive family's surname, or another surname the child may not
    /// learn or share.
    Surname,
    /// The child's new first name.
    FirstName,
    /// The child's school, nursery or college.
    School,
    /// The town or village the child lives in.
    Town,
    /// A club, team or group the child belongs to.
    Club,
    /// Anything else the practitioner adds.
    Other,
}

/// One protected term of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectedTerm {
    /// The kind of thing the term names.
    pub kind: TermKind,
    /// The term as the practitioner wrote it.
    pub text: String,
}

/// A protected term made ready for matching: the folded words of the whole
/// term, or of one distinctive word of a longer term ("Oakfield" from
/// "Oakfield Primary School").
#[derive(Debug, Clone)]
pub(crate) struct Term {
    /// Position of the term in the case's list.
    index: usize,
    kind: TermKind,
    /// Folded words, in order.
    words: Vec<String>,
    /// Whether every word is an everyday word, so an all-lower-case
    /// occurrence is taken in its everyday sense.
    everyday: bool,
    /// Whether a word one edit away also counts: the term has five letters
    /// or more.
    near: bool,
}

/// Prepares the term at `index`, with one extra single-word term per
/// distinctive word of a term of several words.
pub(crate) fn prepare(index: usize, term: &ProtectedTerm) -> Vec<Term> {
    let words: Vec<String> = text::words(&term.text)
        .into_iter()
        .map(|w| w.folded)
        .collect();
    if words.is_empty() {
        return Vec::new();
    }
    let parts: Vec<String> = if words.len() > 1 {
        words.iter().filter(|w| distinctive(w)).cloned().collect()
    } else {
        Vec::new()
    };
    let mut prepared = vec![Term::from_words(index, term.kind, words)];
    for part in parts {
        prepared.push(Term::from_words(index, term.kind, vec![part]));
    }
    prepared
}

fn distinctive(word: &str) -> bool {
    word.chars().count() >= 5
        && !lexicon::is_everyday(word)
        && !lexicon::has(lexicon::SCHOOL_QUALIFIERS, word)
        && !lexicon::has(lexicon::SCHOOL_WORDS, word)
        && !lexicon::has(lexicon::WELSH_SCHOOL_WORDS, word)
        && word != "ysgol"
        && !lexicon::has(lexicon::STREET_WORDS, word)
        && !lexicon::has(lexicon::WEAK_STREET_WORDS, word)
}

impl Term {
    fn from_words(index: usize, kind: TermKind, words: Vec<String>) -> Term {
        let letters: usize = words.iter().map(|w| w.chars().count()).sum();
        let everyday = words.iter().all(|w| lexicon::is_everyday(w));
        Term {
            index,
            kind,
            words,
            everyday,
            near: letters >= 5,
        }
    }
}

/// The closeness of a match between words and a term.
enum Match {
    Exact,
    Near,
}

/// Finds every occurrence of every term, and every full name ending in a
/// protected surname.
pub(crate) fn find(text: &str, words: &[Word], terms: &[Term]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for term in terms {
        for at in 0..words.len() {
            let Some(matched) = match_at(text, words, at, term) else {
                continue;
            };
            let last = &words[at + term.words.len() - 1];
            let rule = match matched {
                Match::Exact => Rule::ProtectedTerm,
                Match::Near => Rule::NearProtectedTerm,
            };
            let full_name = match term.kind {
                TermKind::Surname => name_before(text, words, at),
                _ => None,
            };
            let everyday_use = matches!(matched, Match::Exact)
                && term.everyday
                && words[at..=at + term.words.len() - 1]
                    .iter()
                    .all(Word::is_lower);
            if let Some(first) = full_name {
                findings.push(finding(words[first].start, last.end, Rule::FullName, term));
            } else if everyday_use {
                continue;
            }
            findings.push(finding(words[at].start, last.end, rule, term));
        }
    }
    findings
}

fn finding(start: usize, end: usize, rule: Rule, term: &Term) -> Finding {
    Finding {
        start,
        end,
        rule,
        term: Some(term.index),
    }
}

/// Checks whether the words from `at` spell `term`, exactly or with one word one
/// edit away, each joined to the next as in a name.
fn match_at(text: &str, words: &[Word], at: usize, term: &Term) -> Option<Match> {
    let candidate = words.get(at..at + term.words.len())?;
    if candidate
        .windows(2)
        .any(|pair| !text::within_name(text, &pair[0], &pair[1]))
    {
        return None;
    }
    let mut edits = 0;
    for (word, expected) in candidate.iter().zip(&term.words) {
        if word.folded == *expected {
            continue;
        }
        if !term.near || edits > 0 || !misspelling(word, expected) {
            return None;
        }
        edits += 1;
    }
    Some(if edits == 0 {
        Match::Exact
    } else {
        Match::Near
    })
}

/// Checks whether `word` reads as a misspelling of `expected`: one edit away, the
/// same first letter, and not itself an everyday word ("parked" is not a
/// misspelt "Parker").
fn misspelling(word: &Word, expected: &str) -> bool {
    word.is_alphabetic()
        && word.folded.chars().next() == expected.chars().next()
        && text::one_edit_apart(&word.folded, expected)
        && !lexicon::is_everyday(&word.folded)
}

/// Returns the index of the first word of a name that runs up to the surname at
/// `at`: up to three titles ("Mrs", "Auntie") or capitalised words that
/// are not function words ("Amelia Rose").
fn name_before(text: &str, words: &[Word], at: usize) -> Option<usize> {
    let mut first = None;
    let mut next = at;
    while next > 0 && at - next < 3 {
        let word = &words[next - 1];
        let title = lexicon::has(TITLES, &word.folded);
        // "Thank Jack Baker": an everyday word opening a sentence is not
        // a first name.
        let opener = text::starts_sentence(text, word) && lexicon::is_everyday(&word.folded);
        let first_name = word.is_capitalised()
            && word.is_alphabetic()
            && !lexicon::has(FUNCTION_WORDS, &word.folded)
            && !opener;
        if !(title || first_name) || !text::within_name(text, word, &words[next]) {
            break;
        }
        next -= 1;
        first = Some(next);
    }
    first
}
