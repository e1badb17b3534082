//! Normalisation of the characters a writer can use to hide a word from the
//! check without changing how the letter reads. These are invisible format
//! characters inside a word or number ("Car\u{200B}ter"), and compatibility
//! forms of Latin letters, digits and spaces ("Ｃａｒｔｅｒ", "𝐂𝐚𝐫𝐭𝐞𝐫").
//!
//! The rules run on the normalised text. [`Normalised::original`] maps each
//! span they flag back to the stretch of the letter that produced it, so a
//! finding covers the hidden characters too.

use std::borrow::Cow;

/// A text with invisible characters removed and compatibility forms
/// replaced by their ASCII letters, digits and spaces.
pub(crate) struct Normalised<'a> {
    /// The normalised text, borrowed when it equals the original.
    pub text: Cow<'a, str>,
    /// For each byte of `text`, the byte range of the original character
    /// it came from. `None` when `text` is the original.
    origins: Option<Vec<(usize, usize)>>,
}

impl Normalised<'_> {
    /// Maps the non-empty span `start..end` of the normalised text, which
    /// lies on character boundaries, to byte offsets in the original text.
    /// Characters removed inside the span are covered, and characters
    /// removed just before or after it are not.
    pub fn original(&self, start: usize, end: usize) -> (usize, usize) {
        match &self.origins {
            None => (start, end),
            Some(origins) => (origins[start].0, origins[end - 1].1),
        }
    }
}

/// Normalises `text`. A text that needs no change is borrowed, so the
/// common case costs one scan.
pub(crate) fn normalise(text: &str) -> Normalised<'_> {
    if text.chars().all(|c| replacement(c) == Some(c)) {
        return Normalised {
            text: Cow::Borrowed(text),
            origins: None,
        };
    }
    let mut normalised = String::with_capacity(text.len());
    let mut origins = Vec::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        let Some(replaced) = replacement(c) else {
            continue;
        };
        normalised.push(replaced);
        let range = (at, at + c.len_utf8());
        origins.extend(std::iter::repeat_n(range, replaced.len_utf8()));
    }
    Normalised {
        text: Cow::Owned(normalised),
        origins: Some(origins),
    }
}

/// Returns the character that stands for `c` in the normalised text, or
/// `None` when `c` is removed.
fn replacement(c: char) -> Option<char> {
    if invisible(c) {
        return None;
    }
    Some(compatibility_form(c).unwrap_or(c))
}

/// Checks whether `c` is a character that shows nothing in a word: a
/// format character (Unicode category Cf) or a filler that renders blank.
fn invisible(c: char) -> bool {
    matches!(
        c,
        // Soft hyphen.
        '\u{ad}'
        // Combining grapheme joiner.
        | '\u{34f}'
        // Hangul fillers, which count as letters but show as blank space.
        | '\u{115f}'
        | '\u{1160}'
        | '\u{3164}'
        | '\u{ffa0}'
        // Mongolian vowel separator.
        | '\u{180e}'
        // Zero-width space, non-joiner and joiner, and the direction marks.
        | '\u{200b}'..='\u{200f}'
        // Direction embeddings and overrides.
        | '\u{202a}'..='\u{202e}'
        // Word joiner and the invisible mathematical operators.
        | '\u{2060}'..='\u{2064}'
        // Direction isolates and the deprecated shaping controls.
        | '\u{2066}'..='\u{206f}'
        // Variation selectors.
        | '\u{fe00}'..='\u{fe0f}'
        // Byte order mark, also read as a zero-width no-break space.
        | '\u{feff}'
        // Tag characters.
        | '\u{e0000}'..='\u{e007f}'
    )
}

/// Returns the ASCII character that the form `c` stands for. The forms
/// are full-width letters, digits and signs (U+FF01 to U+FF5E), spaces of
/// other widths, dashes and curly apostrophes, and digits of other
/// scripts, superscript or subscript. So are mathematical styled letters
/// and digits (bold, italic, script and the rest), small capitals,
/// circled, squared or bracketed letters, regional indicators, and
/// Cyrillic or Greek letters that look Latin ("Сarter" with a Cyrillic
/// "С").
///
/// NOTE: the styled letters kept in the Letterlike Symbols block ("ℬ",
/// "ℎ") and lookalikes from other scripts are left alone.
fn compatibility_form(c: char) -> Option<char> {
    if let Some(letter) = lookalike(c) {
        return Some(letter);
    }
    let code = u32::from(c);
    let ascii = match code {
        // The full-width forms repeat ASCII "!" to "~" in order.
        0xff01..=0xff5e => code - 0xfee0,
        0xa0 | 0x2000..=0x200a | 0x202f | 0x205f | 0x3000 => 0x20,
        // Hyphens, dashes and the minus sign.
        0x2010..=0x2015 | 0x2212 | 0xfe58 | 0xfe63 => u32::from(b'-'),
        // Curly and modifier apostrophes.
        0x2018 | 0x2019 | 0x02bc => u32::from(b'\''),
        0xb2 | 0xb3 => u32::from(b'0') + code - 0xb0,
        0xb9 => u32::from(b'1'),
        0x2070 => u32::from(b'0'),
        0x2074..=0x2079 => u32::from(b'0') + code - 0x2070,
        0x2080..=0x2089 => u32::from(b'0') + code - 0x2080,
        // Scripts whose digits run "0" to "9" from these code points.
        _ if let Some(zero) = DIGIT_ZEROS.iter().find(|z| (**z..**z + 10).contains(&code)) => {
            u32::from(b'0') + code - zero
        }
        // Circled, bracketed and squared letters, and regional indicators,
        // each "A" to "Z" or "a" to "z".
        0x24b6..=0x24cf => u32::from(b'A') + code - 0x24b6,
        0x24d0..=0x24e9 => u32::from(b'a') + code - 0x24d0,
        0x249c..=0x24b5 => u32::from(b'a') + code - 0x249c,
        0x1f110..=0x1f129 => u32::from(b'A') + code - 0x1f110,
        0x1f130..=0x1f149 => u32::from(b'A') + code - 0x1f130,
        0x1f150..=0x1f169 => u32::from(b'A') + code - 0x1f150,
        0x1f170..=0x1f189 => u32::from(b'A') + code - 0x1f170,
        0x1f1e6..=0x1f1ff => u32::from(b'A') + code - 0x1f1e6,
        // Thirteen styles, each "A" to "Z" then "a" to "z". The few code
        // points left unassigned in the block map to letters too, which is
        // harmless because no text contains them.
        0x1d400..=0x1d6a3 => {
            let letter = (code - 0x1d400) % 52;
            if letter < 26 {
                u32::from(b'A') + letter
            } else {
                u32::from(b'a') + letter - 26
            }
        }
        // Five styles, each "0" to "9".
        0x1d7ce..=0x1d7ff => u32::from(b'0') + (code - 0x1d7ce) % 10,
        _ => return None,
    };
    char::from_u32(ascii)
}

/// The zero of each script whose digits "0" to "9" follow one another:
/// Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali, Gurmukhi,
/// Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam, Thai, Lao, Tibetan,
/// Myanmar, Khmer and Mongolian.
const DIGIT_ZEROS: [u32; 17] = [
    0x660, 0x6f0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xe50, 0xed0,
    0xf20, 0x1040, 0x17e0, 0x1810,
];

/// Returns the Latin letter that a small capital, or a Cyrillic or Greek
/// letter that looks the same, stands for.
fn lookalike(c: char) -> Option<char> {
    let latin = match c {
        'ᴀ' | 'А' | 'а' | 'Α' | 'α' => 'a',
        'ʙ' | 'В' | 'в' | 'Β' | 'β' => 'b',
        'ᴄ' | 'С' | 'с' | 'ϲ' => 'c',
        'ᴅ' => 'd',
        'ᴇ' | 'Е' | 'е' | 'Ε' | 'ε' => 'e',
        'ꜰ' => 'f',
        'ɢ' => 'g',
        'ʜ' | 'Н' | 'н' | 'Η' => 'h',
        'ɪ' | 'І' | 'і' | 'Ι' | 'ι' => 'i',
        'ᴊ' | 'Ј' | 'ј' => 'j',
        'ᴋ' | 'К' | 'к' | 'Κ' | 'κ' => 'k',
        'ʟ' => 'l',
        'ᴍ' | 'М' | 'м' | 'Μ' => 'm',
        'ɴ' | 'Ν' => 'n',
        'ᴏ' | 'О' | 'о' | 'Ο' | 'ο' => 'o',
        'ᴘ' | 'Р' | 'р' | 'Ρ' | 'ρ' => 'p',
        'ʀ' => 'r',
        'ꜱ' | 'Ѕ' | 'ѕ' => 's',
        'ᴛ' | 'Т' | 'т' | 'Τ' | 'τ' => 't',
        'ᴜ' | 'υ' => 'u',
        'ᴠ' | 'ν' => 'v',
        'ᴡ' | 'ѡ' => 'w',
        'Х' | 'х' | 'Χ' | 'χ' => 'x',
        'ʏ' | 'У' | 'у' | 'Υ' => 'y',
        'ᴢ' | 'Ζ' => 'z',
        _ => return None,
    };
    // A capital lookalike stays a capital, so a name keeps its shape, and a
    // small capital reads as the capital it shows.
    let small_capital = matches!(u32::from(c), 0x1d00..=0x1d22 | 0x262..=0x29f | 0xa730 | 0xa731);
    if c.is_uppercase() || small_capital {
        Some(latin.to_ascii_uppercase())
    } else {
        Some(latin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        let normalised = normalise("Dear Zoë, see you soon");
        assert!(matches!(normalised.text, Cow::Borrowed(_)));
        assert_eq!(normalised.original(5, 8), (5, 8));
    }

    #[test]
    fn invisible_characters_are_removed() {
        let text = "C\u{ad}a\u{200b}r\u{200c}t\u{200d}e\u{2060}r\u{feff}";
        assert_eq!(normalise(text).text, "Carter");
    }

    #[test]
    fn compatibility_forms_become_ascii() {
        assert_eq!(normalise("Ｃａｒｔｅｒ　０７！").text, "Carter 07!");
        assert_eq!(normalise("𝐂𝐚𝐫𝐭𝐞𝐫 𝘼𝙢𝙚𝙡𝙞𝙖 𝟎𝟕𝟳").text, "Carter Amelia 077");
        assert_eq!(normalise("a\u{2009}b\u{202f}c").text, "a b c");
    }

    #[test]
    fn spans_map_back_over_removed_characters() {
        let text = "\u{200b}Car\u{200b}ter\u{200b}!";
        let normalised = normalise(text);
        assert_eq!(normalised.text, "Carter!");
        let (start, end) = normalised.original(0, 6);
        assert_eq!(&text[start..end], "Car\u{200b}ter");
    }

    #[test]
    fn spans_map_back_over_wide_characters() {
        let text = "hi Ｃａｒ";
        let normalised = normalise(text);
        assert_eq!(normalised.text, "hi Car");
        let (start, end) = normalised.original(3, 6);
        assert_eq!(&text[start..end], "Ｃａｒ");
    }
}
