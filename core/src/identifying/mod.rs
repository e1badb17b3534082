//! The identifying-information check that letterbox letters pass before a
//! practitioner reviews them.
//!
//! A letter between a birth family and an adoptive family must not tell
//! where the child lives or what the child is now called. [`Detector`]
//! looks for the details that do: the case's protected terms (the adoptive
//! surname, the child's new name, school, town, clubs), postcodes, street
//! addresses, phone numbers, email addresses, links and social media user
//! names, and school names. Each [`Finding`] gives its place in the text
//! and which [`Rule`] found it, so the writer sees it before submitting and
//! the practitioner sees it in review.
//!
//! The rules read the letter after removing invisible characters and
//! replacing full-width and other compatibility forms by plain letters and
//! digits, so "Car\u{200B}ter" and "Ｃａｒｔｅｒ" read as "Carter". Each
//! finding still gives its place in the letter as written.
//!
//! The check errs towards flagging: a finding asks a person to look, it
//! blocks nothing. It stays quiet on the ordinary uses of words that are
//! also names ("we went to the baker" when the surname is Baker), and on
//! dates, times and sums of money.

mod contact;
mod lexicon;
mod normalise;
mod places;
mod terms;
mod text;

#[cfg(test)]
mod tests;

use serde::Serialize;

pub use terms::{ProtectedTerm, TermKind};

/// The reason a stretch of text looks identifying.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// One of the case's protected terms, in any case and with or without
    /// accents. Also a term spelt out letter by letter ("C a r t e r"),
    /// split by hyphens, underscores or dots ("Car-ter"), or, for a term of
    /// several words, run together ("TigerCubs").
    ProtectedTerm,
    /// A word, or a word spelt out letter by letter, one letter away from
    /// a protected term of five letters or more: one letter added, dropped
    /// or changed, or two swapped.
    NearProtectedTerm,
    /// A first name or title followed by a protected surname.
    FullName,
    /// A full UK postcode.
    Postcode,
    /// A house number and street, or a named street.
    StreetAddress,
    /// A UK phone number.
    PhoneNumber,
    /// An email address.
    EmailAddress,
    /// A web address.
    WebLink,
    /// A social media or gaming user name.
    SocialMedia,
    /// The name of a school, academy, college or nursery, in English or
    /// Welsh.
    SchoolName,
}

impl Rule {
    /// Returns the stable code the API and the web page use for this rule.
    pub fn code(self) -> &'static str {
        match self {
            Rule::ProtectedTerm => "protected_term",
            Rule::NearProtectedTerm => "near_protected_term",
            Rule::FullName => "full_name",
            Rule::Postcode => "postcode",
            Rule::StreetAddress => "street_address",
            Rule::PhoneNumber => "phone_number",
            Rule::EmailAddress => "email_address",
            Rule::WebLink => "web_link",
            Rule::SocialMedia => "social_media",
            Rule::SchoolName => "school_name",
        }
    }
}

/// A stretch of the text that may identify someone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Byte offset where the stretch starts.
    pub start: usize,
    /// Byte offset just past its end.
    pub end: usize,
    /// The reason it was flagged.
    pub rule: Rule,
    /// For protected-term and full-name findings, the index of the term in
    /// the list the detector was made with. The writer of a letter must not
    /// be shown the term itself: it would tell them the spelling of a name
    /// they are not meant to know.
    pub term: Option<usize>,
}

/// The check for one case, made once from the case's protected terms.
#[derive(Debug, Clone)]
pub struct Detector {
    terms: Vec<terms::Term>,
}

impl Detector {
    /// Prepares the check for a case with these protected terms. Blank
    /// terms are ignored.
    pub fn new(protected_terms: &[ProtectedTerm]) -> Detector {
        let terms = protected_terms
            .iter()
            .enumerate()
            .flat_map(|(index, term)| terms::prepare(index, term))
            .collect();
        Detector { terms }
    }

    /// Returns every finding in `text`, ordered by position. Two rules can flag
    /// overlapping stretches ("Mrs Baker" is a full name and contains a
    /// protected term), and both are listed. Overlapping stretches that
    /// one rule found for the same term are joined into one.
    pub fn check(&self, text: &str) -> Vec<Finding> {
        let normalised = normalise::normalise(text);
        let mut findings = self.check_normalised(&normalised.text);
        for finding in &mut findings {
            (finding.start, finding.end) = normalised.original(finding.start, finding.end);
        }
        findings.sort_by_key(|f| (f.rule, f.term, f.start, f.end));
        let mut joined: Vec<Finding> = Vec::with_capacity(findings.len());
        for finding in findings {
            match joined.last_mut() {
                Some(last)
                    if last.rule == finding.rule
                        && last.term == finding.term
                        && finding.start < last.end =>
                {
                    last.end = last.end.max(finding.end);
                }
                _ => joined.push(finding),
            }
        }
        joined.sort_by_key(|f| (f.start, f.end, f.rule));
        joined
    }

    /// Runs every rule on normalised text, with offsets into that text.
    fn check_normalised(&self, text: &str) -> Vec<Finding> {
        let words = text::words(text);
        let mut findings = terms::find(text, &words, &self.terms);
        findings.extend(contact::find(text, &words));
        findings.extend(places::find(text, &words));
        findings
    }
}
