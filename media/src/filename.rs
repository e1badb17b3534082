//! The original file name, kept only as display metadata. Files are stored
//! under server ids, so a name can never reach a path. Cleaning makes it
//! safe to show and to offer back as a download name on any system.

/// The maximum length of a cleaned name, in bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 120;

/// The name used when nothing usable is left.
pub const FALLBACK_NAME: &str = "file";

/// Invisible characters that change how a name reads: bidirectional
/// controls (which can make `exe` look like `png`), zero-width characters,
/// the soft hyphen and the line and paragraph separators.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Names that Windows reserves for devices, whatever the extension.
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "COM0", "COM1", "COM2", "COM3", "COM4",
    "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT0", "LPT1", "LPT2", "LPT3",
    "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
];

/// Cleans a name sent by a client. It keeps the last path component (after
/// `/` or `\`) and drops control characters (NUL included) and characters
/// that Windows forbids in names. It then trims leading and trailing dots
/// and spaces, prefixes a reserved device name with `_`, and caps the
/// length at [`MAX_NAME_BYTES`] while keeping the extension.
pub fn clean(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let visible: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_invisible(*c))
        .filter(|c| !matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*'))
        .collect();
    let trimmed = visible.trim_matches(|c: char| c == '.' || c.is_whitespace());
    if trimmed.is_empty() {
        return FALLBACK_NAME.to_owned();
    }

    // A name that was only an extension (".pdf", or one behind spaces)
    // keeps it as one.
    let only_extension = !trimmed.contains('.') && visible.trim_start().starts_with('.');
    let named = if only_extension {
        format!("{FALLBACK_NAME}.{trimmed}")
    } else {
        trimmed.to_owned()
    };

    // Shortening can leave a reserved name ("CON" and many spaces), so the
    // check comes after it.
    let named = if named.len() > MAX_NAME_BYTES {
        shorten(&named)
    } else {
        named
    };
    // Windows ignores trailing spaces, so "con .pdf" is the device too.
    let stem = named.split('.').next().unwrap_or_default().trim_end();
    let reserved = RESERVED
        .iter()
        .any(|reserved| stem.to_uppercase() == *reserved);
    if !reserved {
        return named;
    }
    let prefixed = format!("_{named}");
    if prefixed.len() > MAX_NAME_BYTES {
        shorten(&prefixed)
    } else {
        prefixed
    }
}

/// Cuts a long name to [`MAX_NAME_BYTES`] on a character boundary, keeping
/// a short extension.
fn shorten(name: &str) -> String {
    let extension = name
        .rsplit_once('.')
        .map(|(_, extension)| extension)
        .filter(|extension| !extension.is_empty() && extension.len() <= 10);
    let suffix_len = extension.map_or(0, |extension| extension.len() + 1);
    let budget = MAX_NAME_BYTES - suffix_len;
    let stem_source = match extension {
        Some(extension) => &name[..name.len() - extension.len() - 1],
        None => name,
    };
    let mut stem = String::new();
    for c in stem_source.chars() {
        if stem.len() + c.len_utf8() > budget {
            break;
        }
        stem.push(c);
    }
    let stem = stem.trim_end_matches(|c: char| c == '.' || c.is_whitespace());
    match extension {
        Some(extension) => format!("{stem}.{extension}"),
        None => stem.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_cannot_leave_a_device_name() {
        let name = format!("CON{}a.pdf", " ".repeat(200));
        assert_eq!(clean(&name), "_CON.pdf");
        assert_eq!(clean("COM0.pdf"), "_COM0.pdf");
        assert_eq!(clean("conin$.txt"), "_conin$.txt");
    }

    #[test]
    fn path_traversal_keeps_the_last_component() {
        assert_eq!(clean("../../etc/cron.d/x"), "x");
        assert_eq!(clean("..\\..\\x"), "x");
        assert_eq!(clean("/etc/passwd"), "passwd");
    }

    #[test]
    fn percent_encoding_is_left_as_text() {
        // Names are never decoded or used as paths, so this is harmless
        // text to show.
        assert_eq!(clean("%2e%2e%2f"), "%2e%2e%2f");
    }

    #[test]
    fn reserved_device_names_are_prefixed() {
        assert_eq!(clean("CON"), "_CON");
        assert_eq!(clean("con.txt"), "_con.txt");
        assert_eq!(clean("lpt9.pdf"), "_lpt9.pdf");
        assert_eq!(clean("console.pdf"), "console.pdf");
    }

    #[test]
    fn control_characters_are_dropped() {
        assert_eq!(clean("report\0.pdf"), "report.pdf");
        assert_eq!(clean("line\r\nbreak.pdf"), "linebreak.pdf");
    }

    #[test]
    fn windows_forbidden_characters_are_dropped() {
        assert_eq!(clean("what?*is<this>.pdf"), "whatisthis.pdf");
        assert_eq!(clean("setup.bat\";x=.txt"), "setup.bat;x=.txt");
    }

    #[test]
    fn invisible_characters_are_dropped() {
        assert_eq!(clean("invoice\u{202E}gnp.exe"), "invoicegnp.exe");
        assert_eq!(clean("\u{200B}"), FALLBACK_NAME);
        assert_eq!(clean("a\u{2028}b.pdf"), "ab.pdf");
    }

    #[test]
    fn extension_only_names_keep_their_extension() {
        assert_eq!(clean(".pdf"), "file.pdf");
        assert_eq!(clean("\u{3000}.pdf"), "file.pdf");
    }

    #[test]
    fn reserved_name_with_trailing_space_is_prefixed() {
        assert_eq!(clean("con .pdf"), "_con .pdf");
    }

    #[test]
    fn nothing_left_falls_back() {
        assert_eq!(clean(""), FALLBACK_NAME);
        assert_eq!(clean("../.."), FALLBACK_NAME);
        assert_eq!(clean(" . "), FALLBACK_NAME);
    }

    #[test]
    fn long_name_is_capped_with_its_extension() {
        let long = format!("{}.pdf", "a".repeat(300));
        let cleaned = clean(&long);
        assert_eq!(cleaned.len(), MAX_NAME_BYTES);
        assert!(cleaned.ends_with(".pdf"));
    }

    #[test]
    fn long_non_ascii_name_cut_on_char_boundary() {
        let long = format!("{}.jpg", "Siân 💌 ".repeat(40));
        let cleaned = clean(&long);
        assert!(cleaned.len() <= MAX_NAME_BYTES);
        assert!(cleaned.ends_with(".jpg"));
        assert!(cleaned.starts_with("Siân 💌"));
    }

    #[test]
    fn ordinary_names_are_kept() {
        assert_eq!(clean("Llythyr i Siân 💌.pdf"), "Llythyr i Siân 💌.pdf");
        assert_eq!(clean("IMG_0042.HEIC"), "IMG_0042.HEIC");
    }
}
