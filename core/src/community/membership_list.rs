//! A community partner's membership list, as uploaded in CSV: a header
//! line `membership_number,email`, then one member a line. The whole list
//! is read before anything is stored, so a fault on any line rejects all
//! of it, naming that line.

use std::collections::HashMap;

use super::check_membership_number;
use crate::values::{EmailAddress, InvalidValue};

/// Largest list accepted, in bytes.
pub const MAX_LIST_BYTES: usize = 5 * 1024 * 1024;

/// The field every fault of a list is reported under.
const FIELD: &str = "membership_list";

/// One member of a partner's list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListEntry {
    /// The line of the file it came from, counting the header as 1.
    pub line: usize,
    /// The number, upper case.
    pub membership_number: String,
    /// The address, lower case.
    pub email: String,
}

fn fault(line: usize, reason: impl std::fmt::Display) -> InvalidValue {
    InvalidValue::new(FIELD, format!("line {line}: {reason}"))
}

/// Splits one CSV line into fields. A field may be quoted, with `""` for a
/// quote inside; a quoted field may not span lines.
fn fields(line_number: usize, line: &str) -> Result<Vec<String>, InvalidValue> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => return Err(fault(line_number, "a quoted field is not closed")),
                }
            }
            match chars.next() {
                None => {
                    out.push(field);
                    return Ok(out);
                }
                Some(',') => out.push(field),
                Some(_) => {
                    return Err(fault(line_number, "text follows a closing quote"));
                }
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        out.push(field);
                        return Ok(out);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            out.push(field);
        }
    }
}

/// Reads a membership list. Blank lines are skipped; every other fault is
/// an error naming its line.
pub fn parse_membership_list(bytes: &[u8]) -> Result<Vec<ListEntry>, InvalidValue> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(InvalidValue::new(
            FIELD,
            format!(
                "{} bytes is over the limit of {MAX_LIST_BYTES}",
                bytes.len()
            ),
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let line = bytes[..error.valid_up_to()]
            .iter()
            .filter(|byte| **byte == b'\n')
            .count()
            + 1;
        fault(line, "is not UTF-8 text")
    })?;
    let mut lines = text
        .split('\n')
        .enumerate()
        .map(|(index, line)| (index + 1, line.strip_suffix('\r').unwrap_or(line)));
    let header = lines
        .next()
        .map(|(_, line)| line.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if header.replace(' ', "") != "membership_number,email" {
        return Err(fault(1, "the header must be membership_number,email"));
    }
    let mut entries = Vec::new();
    let mut first_line: HashMap<String, usize> = HashMap::new();
    for (line_number, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let values = fields(line_number, line)?;
        if values.len() != 2 {
            return Err(fault(
                line_number,
                format!("has {} fields; each line has 2", values.len()),
            ));
        }
        let membership_number = check_membership_number(&values[0]).map_err(|invalid| {
            fault(line_number, format!("membership number {}", invalid.reason))
        })?;
        let email = EmailAddress::parse(&values[1])
            .map_err(|invalid| fault(line_number, format!("email {}", invalid.reason)))?;
        if let Some(first) = first_line.get(&membership_number) {
            return Err(fault(
                line_number,
                format!(
                    "membership number {membership_number} appears again (first on line {first})"
                ),
            ));
        }
        first_line.insert(membership_number.clone(), line_number);
        entries.push(ListEntry {
            line: line_number,
            membership_number,
            email: email.as_str().to_owned(),
        });
    }
    if entries.is_empty() {
        return Err(InvalidValue::new(
            FIELD,
            "the list has no members after its header; nothing was changed",
        ));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_list() {
        let list = "\u{feff}membership_number,email\r\nASN-1,one@example.org\r\n\r\n\"asn-2\",\"Two@Example.org\"\r\n";
        let entries = parse_membership_list(list.as_bytes()).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].membership_number, "ASN-2");
        assert_eq!(entries[1].email, "two@example.org");
        assert_eq!(entries[1].line, 4);
    }

    #[test]
    fn names_the_faulty_line() {
        let wrong_header = parse_membership_list(b"number,mail\nA,a@example.org\n").unwrap_err();
        assert_eq!(wrong_header.field, "membership_list");
        assert!(
            wrong_header.reason.starts_with("line 1:"),
            "{}",
            wrong_header.reason
        );

        let duplicate = parse_membership_list(
            b"membership_number,email\nA-1,a@example.org\nB-2,b@example.org\na-1,c@example.org\n",
        )
        .unwrap_err();
        assert_eq!(
            duplicate.reason,
            "line 4: membership number A-1 appears again (first on line 2)"
        );

        let bad_email =
            parse_membership_list(b"membership_number,email\nA-1,not-an-address\n").unwrap_err();
        assert!(
            bad_email.reason.starts_with("line 2: email"),
            "{}",
            bad_email.reason
        );

        let three =
            parse_membership_list(b"membership_number,email\nA,a@example.org,x\n").unwrap_err();
        assert!(three.reason.contains("has 3 fields"), "{}", three.reason);

        let open_quote =
            parse_membership_list(b"membership_number,email\n\"A,a@example.org\n").unwrap_err();
        assert!(
            open_quote.reason.starts_with("line 2:"),
            "{}",
            open_quote.reason
        );

        let not_text =
            parse_membership_list(b"membership_number,email\nA,a@example.org\nB,\xff@x.org\n")
                .unwrap_err();
        assert!(
            not_text.reason.starts_with("line 3:"),
            "{}",
            not_text.reason
        );
    }

    #[test]
    fn refuses_a_list_over_the_limit() {
        let big = vec![b'a'; MAX_LIST_BYTES + 1];
        let error = parse_membership_list(&big).unwrap_err();
        assert!(error.reason.contains("over the limit"), "{}", error.reason);
    }
}
