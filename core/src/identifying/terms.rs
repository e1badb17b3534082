//! Protected terms and the full names built on a protected surname.

use serde::{Deserialize, Serialize};

use super::lexicon::{self, FUNCTION_WORDS, TITLES};
use super::normalise;
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
    /// The folded words run together, as a term written in pieces spells
    /// them ("oakfieldprimaryschool").
    spelling: String,
    /// The number of characters in `spelling`.
    letters: usize,
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
    let normalised = normalise::normalise(&term.text);
    let words: Vec<String> = text::words(&normalised.text)
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
            spelling: words.concat(),
            letters,
            words,
            everyday,
            near: letters >= 5,
        }
    }
}

/// The closeness of a match between words and a term.
#[derive(Clone, Copy)]
enum Match {
    Exact,
    /// Exact, with the term spelt out a letter at a time, which is never
    /// the everyday sense of a word ("b-a-k-e-r").
    SpeltOut,
    Near,
}

/// Finds every occurrence of every term, and every full name ending in a
/// protected surname.
pub(crate) fn find(text: &str, words: &[Word], terms: &[Term]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for term in terms {
        for at in 0..words.len() {
            if let Some(matched) = match_at(text, words, at, term) {
                let last = at + term.words.len() - 1;
                report(&mut findings, text, words, at, last, term, matched);
            }
        }
    }
    find_in_pieces(text, words, terms, &mut findings);
    findings
}

/// Adds the findings for a match of `term` on the words `first..=last`: the
/// term, and the full name when a name runs up to a protected surname. An
/// exact match of an everyday term written all in lower case, other than
/// one spelt out, is read in its everyday sense and adds nothing unless it
/// ends a full name.
fn report(
    findings: &mut Vec<Finding>,
    text: &str,
    words: &[Word],
    first: usize,
    last: usize,
    term: &Term,
    matched: Match,
) {
    let rule = match matched {
        Match::Exact | Match::SpeltOut => Rule::ProtectedTerm,
        Match::Near => Rule::NearProtectedTerm,
    };
    let full_name = match term.kind {
        TermKind::Surname => name_before(text, words, first),
        _ => None,
    };
    let everyday_use = matches!(matched, Match::Exact)
        && term.everyday
        && words[first..=last].iter().all(Word::is_lower);
    let end = words[last].end;
    if let Some(name_start) = full_name {
        findings.push(finding(words[name_start].start, end, Rule::FullName, term));
    } else if everyday_use {
        return;
    }
    findings.push(finding(words[first].start, end, rule, term));
}

/// Finds terms written in pieces: spelt out a letter at a time ("C a r t e
/// r", "B.a.k.e.r"), split by hyphens, underscores or dots ("Car-ter"), or,
/// for a term of several words, run together into one word ("TigerCubs").
///
/// From each word, pieces are joined only up to one letter more than the
/// longest term with the same first letter. Each word is therefore read a
/// bounded number of times, and the cost stays linear in the text's length.
///
/// NOTE: pieces of several letters split by a plain space ("Car ter") are
/// not joined, because too many everyday pairs of words would then spell a
/// term ("the oak field" for Oakfield).
fn find_in_pieces(text: &str, words: &[Word], terms: &[Term], findings: &mut Vec<Finding>) {
    // For each term, the last piece of the best match from the current
    // start. An exact match wins over a near one, and a longer near match
    // over a shorter one.
    let mut best: Vec<Option<(usize, Match)>> = vec![None; terms.len()];
    for at in 0..words.len() {
        let Some(initial) = words[at].folded.chars().next() else {
            continue;
        };
        let longest = terms
            .iter()
            .filter(|t| t.spelling.starts_with(initial))
            .map(|t| t.letters)
            .max();
        let Some(longest) = longest else {
            continue;
        };
        best.fill(None);
        let mut pieces = Pieces::default();
        let mut last = at;
        loop {
            let piece = &words[last];
            if !pieces.push(piece, longest + 1) {
                break;
            }
            for (term, slot) in terms.iter().zip(&mut best) {
                let Some(matched) = pieces.matches(last - at + 1, term) else {
                    continue;
                };
                if !matches!(slot, Some((_, Match::Exact | Match::SpeltOut))) {
                    *slot = Some((last, matched));
                }
            }
            match words.get(last + 1) {
                Some(next) if text::splits_word(text, piece, next) => last += 1,
                _ => break,
            }
        }
        for (term, slot) in terms.iter().zip(&best) {
            if let Some((last, matched)) = *slot {
                report(findings, text, words, at, last, term, matched);
            }
        }
    }
}

/// The pieces joined so far from one start word.
#[derive(Default)]
struct Pieces {
    /// Their folded letters, run together.
    spelling: String,
    /// The number of characters in `spelling`.
    letters: usize,
    /// Whether every piece joined so far is a single letter. False before
    /// the first piece.
    spelt_out: bool,
}

impl Pieces {
    /// Appends `piece` unless the spelling would then run past
    /// `max_letters`. Returns whether it was appended.
    fn push(&mut self, piece: &Word, max_letters: usize) -> bool {
        let letters = piece.folded.chars().count();
        if self.letters + letters > max_letters {
            return false;
        }
        let one_letter = letters == 1 && piece.folded.chars().all(char::is_alphabetic);
        self.spelt_out = one_letter && (self.letters == 0 || self.spelt_out);
        self.spelling.push_str(&piece.folded);
        self.letters += letters;
        true
    }

    /// Returns how `count` joined pieces match `term`. One piece matches
    /// only a term of several words run together, because `match_at`
    /// reads single words already. Only pieces spelt out a letter at a
    /// time may be a near match: "re-adding" is not a misspelt "Reading".
    fn matches(&self, count: usize, term: &Term) -> Option<Match> {
        if count == 1 {
            let run_together = term.words.len() > 1 && self.spelling == term.spelling;
            return run_together.then_some(Match::Exact);
        }
        if self.spelling == term.spelling {
            return Some(if self.spelt_out {
                Match::SpeltOut
            } else {
                Match::Exact
            });
        }
        let near = term.near
            && self.spelt_out
            && self.letters.abs_diff(term.letters) <= 1
            && self.spelling.chars().next() == term.spelling.chars().next()
            && text::one_edit_apart(&self.spelling, &term.spelling)
            && !lexicon::is_everyday(&self.spelling);
        near.then_some(Match::Near)
    }
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
