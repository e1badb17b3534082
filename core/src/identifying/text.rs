//! Words of a letter with their byte positions, folded for comparison.
//!
//! A word is a run of letters and digits. Apostrophes and hyphens split
//! words, so "Baker's" yields "Baker" and "s", and "Smith-Jones" yields two
//! surnames. Folding lower-cases a word and removes accents, so "Zoë",
//! "ZOE" and "zoe" compare equal.

/// One word of the text.
#[derive(Debug, Clone)]
pub(crate) struct Word<'a> {
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset just past the last character.
    pub end: usize,
    /// The word as written.
    pub raw: &'a str,
    /// Lower case, accents removed.
    pub folded: String,
}

impl Word<'_> {
    /// Checks whether the first character is an upper-case letter.
    pub fn is_capitalised(&self) -> bool {
        self.raw.chars().next().is_some_and(char::is_uppercase)
    }

    /// Checks whether no character is upper case.
    pub fn is_lower(&self) -> bool {
        !self.raw.chars().any(char::is_uppercase)
    }

    /// Checks whether every character is a letter.
    pub fn is_alphabetic(&self) -> bool {
        self.raw.chars().all(char::is_alphabetic)
    }
}

/// Splits `text` into words.
pub(crate) fn words(text: &str) -> Vec<Word<'_>> {
    let mut found = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices().chain([(text.len(), ' ')]) {
        // Combining accents ("e" and U+0301) belong to the letter before.
        let in_word = c.is_alphanumeric() || ('\u{300}'..='\u{36f}').contains(&c);
        match (in_word, start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                let raw = &text[from..at];
                found.push(Word {
                    start: from,
                    end: at,
                    raw,
                    folded: fold(raw),
                });
                start = None;
            }
            _ => {}
        }
    }
    found
}

/// Lower-cases `text` and replaces accented Latin letters by their base
/// letters.
pub(crate) fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if ('\u{300}'..='\u{36f}').contains(&c) {
            continue;
        }
        match base_letter(c) {
            Some(base) => folded.push_str(base),
            None => folded.push(c),
        }
    }
    folded
}

fn base_letter(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ė' | 'ę' | 'ě' => "e",
        'ğ' => "g",
        'ì' | 'í' | 'î' | 'ï' | 'ī' | 'ı' => "i",
        'ł' => "l",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => "o",
        'ř' => "r",
        'ś' | 'š' | 'ş' | 'ș' => "s",
        'ť' | 'ţ' | 'ț' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        _ => return None,
    })
}

/// Checks whether the text between two words is only spaces and tabs (at most one
/// line break), so the words read as one name.
pub(crate) fn joined(text: &str, left: &Word, right: &Word) -> bool {
    let gap = &text[left.end..right.start];
    !gap.is_empty()
        && gap
            .chars()
            .all(|c| c == ' ' || c == '\t' || c == '\u{a0}' || c == '\n' || c == '\r')
        && gap.matches('\n').count() <= 1
}

/// Checks whether the gap between two words is a joint inside one name: spaces, a
/// hyphen or an apostrophe ("Smith-Jones", "O'Brien", "St Mary's").
pub(crate) fn within_name(text: &str, left: &Word, right: &Word) -> bool {
    let gap = &text[left.end..right.start];
    joined(text, left, right) || matches!(gap, "-" | "'" | "\u{2019}" | ". ")
}

/// Checks whether the gap between two words splits one word into pieces.
/// The gap is one hyphen, underscore, dot, apostrophe, slash, asterisk,
/// middle dot or tilde ("Car-ter", "Car'ter", "Car*ter"). Between two
/// single letters it may also be a space, a tab or a dot and a space ("C a
/// r", "C. A. R."). Whether the pieces spell anything is for the caller to
/// check.
pub(crate) fn splits_word(text: &str, left: &Word, right: &Word) -> bool {
    let gap = &text[left.end..right.start];
    let letters = left.folded.chars().count() == 1 && right.folded.chars().count() == 1;
    matches!(
        gap,
        "-" | "_" | "." | "'" | "/" | "*" | "\u{b7}" | "~" | "\u{2010}" | "\u{2011}"
    ) || (letters && matches!(gap, " " | "\t" | "\u{a0}" | ". "))
}

/// Checks whether `word` begins a sentence: it is the first word, or the last
/// character before it other than spaces and quotes ends a sentence.
pub(crate) fn starts_sentence(text: &str, word: &Word) -> bool {
    let before = text[..word.start].trim_end_matches(|c: char| {
        matches!(
            c,
            ' ' | '\t' | '\r' | '\u{a0}' | '"' | '\'' | '\u{201c}' | '\u{2018}' | '('
        )
    });
    match before.chars().next_back() {
        None => true,
        Some(c) => matches!(c, '.' | '!' | '?' | ':' | '\n'),
    }
}

/// Checks whether `a` becomes `b` by exactly one edit: one letter inserted,
/// removed or replaced, or two neighbouring letters swapped.
pub(crate) fn one_edit_apart(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if long.len() - short.len() > 1 || a == b {
        return false;
    }
    let prefix = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    if short.len() == long.len() {
        let rest_equal = |from: usize| short[from..] == long[from..];
        rest_equal(prefix + 1)
            || (prefix + 1 < short.len()
                && short[prefix] == long[prefix + 1]
                && short[prefix + 1] == long[prefix]
                && rest_equal(prefix + 2))
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_on_apostrophes_and_hyphens() {
        let found: Vec<_> = words("Baker's  Smith-Jones, 12a")
            .into_iter()
            .map(|w| w.raw)
            .collect();
        assert_eq!(found, ["Baker", "s", "Smith", "Jones", "12a"]);
    }

    #[test]
    fn folding_removes_case_and_accents() {
        assert_eq!(fold("ZOË Dŵr Straße"), "zoe dwr strasse");
    }

    #[test]
    fn one_edit_covers_each_kind_of_edit() {
        assert!(one_edit_apart("smith", "smyth"));
        assert!(one_edit_apart("smith", "smiths"));
        assert!(one_edit_apart("smith", "mith"));
        assert!(one_edit_apart("smith", "smtih"));
        assert!(!one_edit_apart("smith", "smith"));
        assert!(!one_edit_apart("smith", "smythe"));
        assert!(!one_edit_apart("smith", "stimh"));
    }

    #[test]
    fn sentence_starts_after_full_stops_and_line_breaks() {
        let text = "we went. Then\nBaker came (Later) on";
        let found = words(text);
        let starts: Vec<_> = found.iter().map(|w| starts_sentence(text, w)).collect();
        assert_eq!(starts, [true, false, true, true, false, false, false]);
    }
}
