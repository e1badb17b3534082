//! Ways to reach a person: postcodes, phone numbers, email addresses, web
//! links and social media user names.

use super::lexicon::{self, DOMAIN_ENDINGS, HANDLE_WORDS, PLATFORMS};
use super::text::Word;
use super::{Finding, Rule};

/// Finds every postcode, phone number, email address, link and user name.
pub(crate) fn find(text: &str, words: &[Word]) -> Vec<Finding> {
    let mut findings = postcodes(text, words);
    findings.extend(phone_numbers(text));
    findings.extend(emails_and_handles(text));
    findings.extend(links(text));
    findings.extend(platform_handles(text, words));
    findings
}

fn finding(start: usize, end: usize, rule: Rule) -> Finding {
    Finding {
        start,
        end,
        rule,
        term: None,
    }
}

/// Returns the shape of an ASCII word: each letter becomes `a`, each digit `9`.
/// Words with other characters have no shape.
fn shape(word: &str) -> Option<String> {
    word.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' => Some('a'),
            '0'..='9' => Some('9'),
            _ => None,
        })
        .collect()
}

const OUTWARD: &[&str] = &["a9", "a99", "a9a", "aa9", "aa99", "aa9a"];

/// Checks that the letters are in one case, as in a postcode: "SW1A 1AA" or
/// "sw1a 1aa", never "A1 2nd" (a room and a floor).
fn one_case(raw: &str) -> bool {
    let mut letters = raw.chars().filter(char::is_ascii_alphabetic);
    letters.clone().all(|c| c.is_ascii_uppercase()) || letters.all(|c| c.is_ascii_lowercase())
}

/// Full postcodes, with or without the space: "CF10 3AT", "m1 1ae",
/// "SW1A1AA".
fn postcodes(text: &str, words: &[Word]) -> Vec<Finding> {
    let mut found = Vec::new();
    for (at, word) in words.iter().enumerate() {
        let Some(first) = shape(word.raw) else {
            continue;
        };
        if OUTWARD.iter().any(|o| first == format!("{o}9aa")) && one_case(word.raw) {
            found.push(finding(word.start, word.end, Rule::Postcode));
            continue;
        }
        let Some(next) = words.get(at + 1) else {
            continue;
        };
        let gap = &text[word.end..next.start];
        let inward = shape(next.raw).is_some_and(|s| s == "9aa");
        if OUTWARD.contains(&first.as_str())
            && inward
            && matches!(gap, " " | "  " | "\u{a0}" | "" | "-" | "." | "_" | "/")
            && one_case(&text[word.start..next.end])
        {
            found.push(finding(word.start, next.end, Rule::Postcode));
        }
    }
    found
}

/// UK phone numbers: ten or eleven digits starting with 0 (01, 02, 03,
/// 05, 07, 08, 09), or +44 and the number without its 0, grouped by
/// spaces, hyphens, dots, slashes, underscores, tabs, line breaks or
/// brackets, or written a digit at a time.
/// Dates, times and sums of money do not start that way or use other
/// separators.
fn phone_numbers(text: &str) -> Vec<Finding> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let starts = matches!(bytes[at], b'+' | b'0' | b'(');
        if starts
            && after_boundary(text, at)
            && let Some(end) = phone_number_at(bytes, at).or_else(|| digit_by_digit_at(bytes, at))
        {
            found.push(finding(at, end, Rule::PhoneNumber));
            at = end;
            continue;
        }
        at += 1;
    }
    found
}

/// Checks whether a number may start at `at`: not inside a word or another
/// number, nor after a currency sign or a date's slash.
fn after_boundary(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_alphanumeric() || ".,/£$€".contains(c)))
}

/// The maximum number of characters a phone number may take, spaces and brackets
/// included. "+44 (0) 7 7 0 0 9 0 0 1 2 3", the longest form the rule
/// reads, takes 27.
const MAX_PHONE_CHARS: usize = 32;

/// Returns the end of the longest UK phone number that starts at `start`.
fn phone_number_at(bytes: &[u8], start: usize) -> Option<usize> {
    let mut digits = String::new();
    let mut first_group = None;
    let mut best = None;
    let mut at = start;
    if bytes[at] == b'+' {
        at += 1;
    }

    // A written number is at most about 30 characters, so the scan stops
    // well before a long run of brackets or spaces could make it slow.
    while at < bytes.len() && at - start <= MAX_PHONE_CHARS {
        let c = bytes[at];
        if c.is_ascii_digit() {
            digits.push(char::from(c));
            let group_ends = bytes.get(at + 1).is_none_or(|n| !n.is_ascii_digit());
            if group_ends && first_group.is_none() {
                first_group = Some(digits.len());
            }
            let international = bytes[start] == b'+' || digits.starts_with("0044");
            if group_ends && national_number(international, &digits) {
                best = Some(at + 1);
            }
        } else if !matches!(
            c,
            b' ' | b'-' | b'.' | b'(' | b')' | b'/' | b'_' | b'\t' | b'\n'
        ) || digits.len() > 13
        {
            break;
        }
        at += 1;
    }

    // A national number opens with a code of three digits or more ("020",
    // "0118", "07700"); two-digit groups are dates, scores and lottery
    // numbers.
    let short_opening = first_group.is_some_and(|len| len < 3);
    if bytes[start] != b'+' && short_opening {
        return None;
    }
    let followed_by_word = best
        .and_then(|end| bytes.get(end))
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if followed_by_word { None } else { best }
}

/// Returns the end of a national number written a digit at a time with the
/// same separator after each digit ("0 7 7 0 0 9 0 0 1 2 3",
/// "0.7.7.0.0.9.0.0.1.2.3"), which [`phone_number_at`] rejects for its
/// short first group. The run of digits must be the whole number, so
/// "1 2 0 7 7 ..." and a list of scores stay quiet, and a run counting up
/// one at a time ("0 1 2 3 4 5 6 7 8 9") is counting, not a number.
fn digit_by_digit_at(bytes: &[u8], start: usize) -> Option<usize> {
    let separator = *bytes.get(start + 1)?;
    if !matches!(separator, b' ' | b'.' | b'-') {
        return None;
    }
    let inside_run =
        start >= 2 && bytes[start - 1] == separator && bytes[start - 2].is_ascii_digit();
    if inside_run {
        return None;
    }
    let mut digits = Vec::new();
    let mut at = start;
    loop {
        let digit = *bytes.get(at).filter(|b| b.is_ascii_digit())?;
        digits.push(digit);
        if digits.len() > 11 || bytes.get(at + 1).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let continues = bytes.get(at + 1) == Some(&separator)
            && bytes.get(at + 2).is_some_and(u8::is_ascii_digit);
        if !continues {
            break;
        }
        at += 2;
    }
    let end = at + 1;
    let counting = digits.windows(2).all(|pair| pair[1] == pair[0] + 1);
    let followed_by_word = bytes.get(end).is_some_and(u8::is_ascii_alphanumeric);
    let digits = String::from_utf8(digits).ok()?;
    (national_number(false, &digits) && !counting && !followed_by_word).then_some(end)
}

/// Checks whether `digits` form a whole UK number: written nationally, or after
/// +44 with or without the "(0)".
fn national_number(international: bool, digits: &str) -> bool {
    let national = if international {
        let digits = digits.strip_prefix("00").unwrap_or(digits);
        match digits.strip_prefix("44") {
            Some(rest) if rest.starts_with('0') => rest.to_owned(),
            Some(rest) => format!("0{rest}"),
            None => return false,
        }
    } else {
        digits.to_owned()
    };
    let second = national.as_bytes().get(1).copied();
    national.starts_with('0')
        && matches!(national.len(), 10 | 11)
        && matches!(second, Some(b'1' | b'2' | b'3' | b'5' | b'7' | b'8' | b'9'))
}

fn local_part_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._%+-".contains(c)
}

fn domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '.' || c == '-'
}

fn handle_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// Email addresses ("jo.bloggs@example.co.uk") and user names written with
/// an at sign ("@jess_99").
fn emails_and_handles(text: &str) -> Vec<Finding> {
    let mut found = Vec::new();
    for (at, _) in text.match_indices('@') {
        let before = &text[..at];
        let local_len = before.len() - before.trim_end_matches(local_part_char).len();
        let after = &text[at + 1..];
        if local_len > 0 {
            let domain = after[..after.len() - after.trim_start_matches(domain_char).len()]
                .trim_end_matches(['.', '-']);
            if valid_domain(domain) {
                found.push(finding(
                    at - local_len,
                    at + 1 + domain.len(),
                    Rule::EmailAddress,
                ));
            }
            continue;
        }
        let handle = after[..after.len() - after.trim_start_matches(handle_char).len()]
            .trim_end_matches('.');
        // "@jess_99" is a user name; "@3pm" and "@home" are not.
        let opens_with_letter = handle.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        let everyday = lexicon::is_everyday(&handle.to_ascii_lowercase());
        if (2..=30).contains(&handle.len()) && opens_with_letter && !everyday {
            found.push(finding(at, at + 1 + handle.len(), Rule::SocialMedia));
        }
    }
    found
}

/// Checks whether `domain` has at least two labels and ends in letters.
fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let last = labels.last().copied().unwrap_or_default();
    labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty())
        && last.len() >= 2
        && last.chars().all(|c| c.is_ascii_alphabetic())
}

/// Characters that end a sentence around a link rather than belong to it.
const TRAILING: &[char] = &[
    '.', ',', ';', ':', '!', '?', ')', '(', '"', '\'', '\u{2019}',
];

/// Web links: anything after "http://", "https://" or "www.", and bare
/// domains ending in a known ending ("oakfield.sch.uk/news").
fn links(text: &str) -> Vec<Finding> {
    let mut found = Vec::new();
    let mut offset = 0;
    for token in text.split(|c: char| c.is_whitespace()) {
        let start = offset + (token.len() - token.trim_start_matches(TRAILING).len());
        offset += token.len()
            + text[offset + token.len()..]
                .chars()
                .next()
                .map_or(0, char::len_utf8);
        let core = token.trim_matches(TRAILING);
        if core.contains('@') || core.is_empty() {
            continue;
        }
        let lower = core.to_ascii_lowercase();
        let explicit = ["http://", "https://", "www."]
            .iter()
            .any(|p| lower.starts_with(p));
        if explicit || bare_domain(core) {
            found.push(finding(start, start + core.len(), Rule::WebLink));
        }
    }
    found
}

fn bare_domain(token: &str) -> bool {
    // "day.Me" is a missing space after a full stop, not a link.
    let host_written = token.split(['/', '?', '#']).next().unwrap_or_default();
    let ending_written = host_written.rsplit('.').next().unwrap_or_default();
    if ending_written.chars().any(|c| c.is_ascii_uppercase()) {
        return false;
    }
    let token = &token.to_ascii_lowercase();
    let host = token.split(['/', '?', '#']).next().unwrap_or_default();
    let labels: Vec<&str> = host.split('.').collect();
    let ending = labels.last().copied().unwrap_or_default();
    labels.len() >= 2
        && labels[0].len() >= 2
        && labels[0].chars().any(|c| c.is_ascii_alphabetic())
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        && lexicon::has(DOMAIN_ENDINGS, ending)
}

/// The maximum number of characters of a user name the handle rule reads.
const MAX_HANDLE_CHARS: usize = 64;

/// Words that may stand between a service's name and the user name ("my
/// snap is jess_99", "add me on Roblox: Blaze").
const HANDLE_FILLERS: &[&str] = &[
    "add", "as", "at", "called", "find", "follow", "is", "it", "its", "me", "my", "name", "on", "s",
];

/// Finds a service or "username" followed by something shaped like a user name:
/// after a colon, or holding a digit, an underscore or a dot, and starting
/// with a letter.
fn platform_handles(text: &str, words: &[Word]) -> Vec<Finding> {
    let mut found = Vec::new();
    for (at, trigger) in words.iter().enumerate() {
        let service = &trigger.folded;
        if !lexicon::has(PLATFORMS, service) && !lexicon::has(HANDLE_WORDS, service) {
            continue;
        }
        let mut fillers = 0;
        let mut next = None;
        for word in words[at + 1..].iter().take(5) {
            if lexicon::has(HANDLE_WORDS, &word.folded) {
                continue;
            }
            if !lexicon::has(HANDLE_FILLERS, &word.folded) {
                next = Some(word);
                break;
            }
            fillers += 1;
        }
        let Some(next) = next else { continue };
        // A user name is short, so the search for its end stops after
        // MAX_HANDLE_CHARS characters however long the text runs on.
        let rest: String = text[next.start..].chars().take(MAX_HANDLE_CHARS).collect();
        let token_end = next.start + rest.find(char::is_whitespace).unwrap_or(rest.len());
        let token = text[next.start..token_end].trim_end_matches(TRAILING);
        // "Snapchat: Jessie" names a user; "YouTube: it's great" does not.
        let after_colon = fillers == 0 && text[trigger.end..next.start].contains(':');
        let shaped = token.chars().next().is_some_and(|c| c.is_alphabetic())
            && token.chars().filter(|c| c.is_alphanumeric()).count() >= 3
            && token
                .chars()
                .any(|c| c.is_ascii_digit() || c == '_' || c == '.');
        if after_colon || shaped {
            found.push(finding(
                trigger.start,
                next.start + token.len(),
                Rule::SocialMedia,
            ));
        }
    }
    found
}
