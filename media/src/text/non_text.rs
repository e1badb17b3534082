//! Finds what a PDF viewer shows besides the text layer: pictures,
//! annotations, form fields and attached files. The text check cannot read
//! them, so a PDF that has any of them counts as read only in part.
//!
//! The search visits each object of the loaded document once, follows
//! references only through [`Document::dereference`], which stops after a
//! fixed number of steps, and reads content streams with a flat tokenizer.
//! Nothing in it recurses, so a hostile file can make it neither deep nor
//! endless. It takes every object into account, whether a page draws it or
//! not, because leaving something out would be the unsafe mistake.
//!
//! NOTE: text drawn as vector paths and pictures drawn as glyphs of a
//! Type 3 font are not found.

use pdf_extract::{Dictionary, Document, Object, Stream};

/// Content of a PDF that is not in its text layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NonText {
    /// An image XObject: a stream with `/Subtype /Image`.
    Image,
    /// An inline image (`BI … ID … EI`) in a content stream.
    InlineImage,
    /// A page with a non-empty `/Annots` array, or a dictionary of
    /// `/Type /Annot`: a sticky note, a free-text box, a link, a form
    /// field's widget.
    Annotation,
    /// An interactive form: an `/AcroForm` in the catalog with a non-empty
    /// `/Fields` array, or an XFA form.
    FormField,
    /// A file attached to the PDF (`/Type /EmbeddedFile`).
    AttachedFile,
}

/// Finds the first content of `document` that is not in its text layer.
/// Returns `None` when the document has only text and vector graphics.
pub(super) fn find_non_text(document: &Document) -> Option<NonText> {
    if has_form_fields(document) {
        return Some(NonText::FormField);
    }

    // Decoding content streams costs more than reading dictionaries, so
    // they are only collected in this pass and read after it.
    let mut content_streams = Vec::new();
    for object in document.objects.values() {
        let (dictionary, stream) = match object {
            Object::Dictionary(dictionary) => (dictionary, None),
            Object::Stream(stream) => (&stream.dict, Some(stream)),
            _ => continue,
        };
        if let Some(found) = classify(document, dictionary, stream.is_some()) {
            return Some(found);
        }
        if let Some(stream) = stream
            && is_content_stream(document, &stream.dict)
        {
            content_streams.push(stream);
        }
        content_streams.extend(contents_of(document, dictionary));
    }

    content_streams
        .into_iter()
        .any(|stream| has_inline_image(&plain_content(stream)))
        .then_some(NonText::InlineImage)
}

/// Returns what the object with `dictionary` shows besides text, looking
/// at this one object only.
fn classify(document: &Document, dictionary: &Dictionary, is_stream: bool) -> Option<NonText> {
    if is_stream && name_of(document, dictionary, b"Subtype") == Some(b"Image") {
        return Some(NonText::Image);
    }
    if is_stream && name_of(document, dictionary, b"Type") == Some(b"EmbeddedFile") {
        return Some(NonText::AttachedFile);
    }
    if name_of(document, dictionary, b"Type") == Some(b"Annot") {
        return Some(NonText::Annotation);
    }
    let annotations = dictionary
        .get(b"Annots")
        .ok()
        .and_then(|annots| resolve(document, annots));
    if let Some(Object::Array(annotations)) = annotations
        && !annotations.is_empty()
    {
        return Some(NonText::Annotation);
    }
    None
}

/// Returns true if the catalog has an interactive form with fields. An
/// empty `/Fields` array without XFA is no form, as some writers leave one.
fn has_form_fields(document: &Document) -> bool {
    let Ok(catalog) = document.catalog() else {
        return false;
    };
    let Some(Object::Dictionary(form)) = catalog
        .get(b"AcroForm")
        .ok()
        .and_then(|form| resolve(document, form))
    else {
        return false;
    };
    if form.has(b"XFA") {
        return true;
    }
    let fields = form
        .get(b"Fields")
        .ok()
        .and_then(|fields| resolve(document, fields));
    matches!(fields, Some(Object::Array(fields)) if !fields.is_empty())
}

/// Returns true if a stream with `dictionary` contains content operators
/// besides a page's own: a form XObject (which annotation appearances are
/// too) or a tiling pattern.
fn is_content_stream(document: &Document, dictionary: &Dictionary) -> bool {
    name_of(document, dictionary, b"Subtype") == Some(b"Form") || dictionary.has(b"PatternType")
}

/// Returns the streams that the `/Contents` of a page dictionary refers
/// to. The `/Contents` of an annotation is a text string, so it adds none.
fn contents_of<'a>(document: &'a Document, dictionary: &'a Dictionary) -> Vec<&'a Stream> {
    let Some(contents) = dictionary
        .get(b"Contents")
        .ok()
        .and_then(|contents| resolve(document, contents))
    else {
        return Vec::new();
    };
    let parts = match contents {
        Object::Array(parts) => parts.as_slice(),
        single => std::slice::from_ref(single),
    };
    parts
        .iter()
        .filter_map(|part| match resolve(document, part) {
            Some(Object::Stream(stream)) => Some(stream),
            _ => None,
        })
        .collect()
}

/// Returns the decoded bytes of a content stream, or its raw bytes when
/// its filter fails, as `lopdf` does when it reads a page's content.
// NOTE: only the media job's memory limit bounds the decoded size, as it
// does when the parser decodes a page for its text.
fn plain_content(stream: &Stream) -> Vec<u8> {
    stream
        .decompressed_content()
        .unwrap_or_else(|_| stream.content.clone())
}

/// Returns the name at `key`, following references.
fn name_of<'a>(document: &'a Document, dictionary: &'a Dictionary, key: &[u8]) -> Option<&'a [u8]> {
    let value = resolve(document, dictionary.get(key).ok()?)?;
    value.as_name().ok()
}

/// Returns the object that `object` refers to, following a chain of
/// references. A reference to a missing object gives `None`, as the PDF
/// format reads it as null. So does a chain longer than lopdf 0.42 follows
/// (128 steps), which ends a reference cycle.
fn resolve<'a>(document: &'a Document, object: &'a Object) -> Option<&'a Object> {
    document.dereference(object).ok().map(|(_, object)| object)
}

/// Returns true if a content stream has the `BI` operator, which starts an
/// inline image. Strings, names and comments are skipped, so a page that
/// shows the letters "BI" as text does not count.
fn has_inline_image(content: &[u8]) -> bool {
    let mut at = 0;
    while at < content.len() {
        match content[at] {
            b'%' => {
                while at < content.len() && !matches!(content[at], b'\r' | b'\n') {
                    at += 1;
                }
            }
            b'(' => at = skip_literal_string(content, at),
            b'<' if content.get(at + 1) != Some(&b'<') => {
                while at < content.len() && content[at] != b'>' {
                    at += 1;
                }
                at += 1;
            }
            // A name such as `/BI` is skipped whole, because it is never
            // an operator.
            b'/' => {
                at += 1;
                while at < content.len() && is_regular(content[at]) {
                    at += 1;
                }
            }
            byte if !is_regular(byte) => at += 1,
            _ => {
                let start = at;
                while at < content.len() && is_regular(content[at]) {
                    at += 1;
                }
                if &content[start..at] == b"BI" {
                    return true;
                }
            }
        }
    }
    false
}

/// Returns the offset just past the literal string that starts at `start`.
/// Literal strings nest by balanced parentheses, counted here, and `\`
/// escapes the next byte.
fn skip_literal_string(content: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut at = start;
    while at < content.len() {
        match content[at] {
            b'\\' => at += 1,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return at + 1;
                }
            }
            _ => {}
        }
        at += 1;
    }
    content.len()
}

/// Returns true if `byte` is neither white space nor a delimiter of the
/// PDF syntax.
fn is_regular(byte: u8) -> bool {
    !matches!(
        byte,
        b'\0'
            | b'\t'
            | b'\n'
            | b'\x0c'
            | b'\r'
            | b' '
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'/'
            | b'%'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_image_operator_found() {
        for content in [
            &b"q 10 0 0 10 0 0 cm BI /W 1 /H 1 /CS /G /BPC 8 ID \x80 EI Q"[..],
            b"BI\n/W 1 /H 1 ID x EI",
            b"(text)Tj\rBI[]",
        ] {
            assert!(
                has_inline_image(content),
                "{}",
                String::from_utf8_lossy(content)
            );
        }
    }

    #[test]
    fn inline_image_not_found_in_text() {
        for content in [
            &b"BT /F1 12 Tf (BI ID EI) Tj ET"[..],
            b"BT (a \\) BI (nested BI) ) Tj ET",
            b"BT <4249> Tj ET % BI in a comment\n",
            b"/BI gs /Fm1 Do",
            b"BIG BIO ABI",
            b"BT (never closed BI",
        ] {
            assert!(
                !has_inline_image(content),
                "{}",
                String::from_utf8_lossy(content)
            );
        }
    }
}
