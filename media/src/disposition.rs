//! `Content-Disposition` for downloads (RFC 6266): an ASCII `filename`
//! for old clients and a `filename*` in UTF-8 (RFC 8187 encoding) that
//! current browsers prefer, so non-ASCII names survive and no name can
//! break out of the header.

/// Whether the browser should show the file or save it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    Inline,
    Attachment,
}

/// Builds the header value for a cleaned file name.
pub fn content_disposition(disposition: Disposition, name: &str) -> String {
    let kind = match disposition {
        Disposition::Inline => "inline",
        Disposition::Attachment => "attachment",
    };
    format!(
        "{kind}; filename=\"{}\"; filename*=UTF-8''{}",
        ascii_fallback(name),
        percent_encode(name)
    )
}

/// Replaces what a quoted string cannot carry safely: non-ASCII and
/// control characters become `_`, and quotes and backslashes are escaped.
fn ascii_fallback(name: &str) -> String {
    let mut fallback = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '"' | '\\' => {
                fallback.push('\\');
                fallback.push(c);
            }
            ' '..='~' => fallback.push(c),
            _ => fallback.push('_'),
        }
    }
    fallback
}

/// Percent-encodes every byte outside RFC 8187's `attr-char` set.
fn percent_encode(name: &str) -> String {
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        let allowed = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if allowed {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welsh_name_with_emoji_keeps_its_characters() {
        let header = content_disposition(Disposition::Attachment, "Llythyr i Siân 💌.pdf");
        assert_eq!(
            header,
            "attachment; filename=\"Llythyr i Si_n _.pdf\"; \
             filename*=UTF-8''Llythyr%20i%20Si%C3%A2n%20%F0%9F%92%8C.pdf"
        );
    }

    #[test]
    fn quotes_cannot_end_the_parameter() {
        let header = content_disposition(Disposition::Attachment, "setup.bat\";x=.txt");
        assert!(header.starts_with("attachment; filename=\"setup.bat\\\";x=.txt\";"));
        assert!(header.ends_with("filename*=UTF-8''setup.bat%22%3Bx%3D.txt"));
    }

    #[test]
    fn control_characters_cannot_split_the_header() {
        let header = content_disposition(Disposition::Inline, "a\r\nSet-Cookie: x");
        assert!(!header.contains('\r'));
        assert!(!header.contains('\n'));
        assert!(header.starts_with("inline; "));
    }
}
