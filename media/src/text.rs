//! The text of an uploaded PDF, so that a letterbox letter's attachments
//! can go through the same identifying-details check as its body.
//!
//! The parser reads what strangers send, so this runs only inside a media
//! job (see [`crate::worker`]), like FFmpeg. A PDF whose text cannot be
//! read is not an error: a scanned page has no text, and a damaged or
//! password-protected file gives none either. The caller then has no text
//! rendition, and a person has to look at the file.
//!
//! A PDF can also show what its text leaves out: a picture (an image
//! XObject or an inline image), an annotation (a sticky note, a free-text
//! box, a link), an interactive form with fields, or an attached file. Its
//! text is still read and returned, but marked incomplete (see
//! [`Extracted::complete`]), so that a person looks at the rest.
//!
//! Pages are separated by a form feed (U+000C), as `pdftotext` does, so a
//! place in the text can be turned into a page number.

use std::cell::RefCell;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::rc::Rc;

use pdf_extract::{MediaBox, OutputDev, OutputError, PlainTextOutput, Transform};

use crate::MediaError;
use crate::transcode::{Rendition, Role};

mod non_text;

/// The character written between two pages.
pub const PAGE_BREAK: char = '\u{c}';

/// The media type of a text rendition.
pub const TEXT_MIME: &str = "text/plain; charset=utf-8";

/// The name of the text file in the job's output folder.
const TEXT_FILE: &str = "text.txt";

/// Text taken from a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The text, pages separated by [`PAGE_BREAK`].
    pub text: String,
    /// Whether the text is all the document shows. It is false when the
    /// document had more text than the limit, or when the parser failed
    /// part way through, and the text then contains what came before. It
    /// is also false, with every page's text, when the document has a
    /// picture, an annotation, a form field or an attached file.
    pub complete: bool,
}

/// How far the parser got.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parsed {
    /// The file did not open as a PDF, or it needs a password.
    Unreadable,
    /// Every page was read, and the document shows nothing but text and
    /// vector graphics.
    Complete,
    /// Every page was read, but the document also shows content that is
    /// not text, such as a picture.
    MoreThanText,
    /// The parser stopped early: the text reached its limit, or a page
    /// failed to parse.
    Stopped,
}

/// Reads the text of the PDF at `input`, at most `max_bytes` of it, cut at
/// a character boundary. Returns `None` when the file has no text or fails
/// to open as a PDF.
pub fn read_pdf_text(input: &Path, max_bytes: usize) -> Option<Extracted> {
    let sink = Sink::new(max_bytes);
    // The parser has many panicking paths on malformed input. The text
    // collected before a panic is still whole characters, because the
    // sink never panics while it has the text borrowed.
    let parsed = catch_unwind(AssertUnwindSafe(|| parse(input, &sink))).unwrap_or(Parsed::Stopped);
    if parsed == Parsed::Unreadable {
        return None;
    }
    let text = std::mem::take(&mut sink.0.try_borrow_mut().ok()?.text);
    if text.chars().all(|c| c.is_whitespace() || c == PAGE_BREAK) {
        return None;
    }
    Some(Extracted {
        text,
        complete: parsed == Parsed::Complete,
    })
}

fn parse(input: &Path, sink: &Sink) -> Parsed {
    let Ok(mut document) = pdf_extract::Document::load(input) else {
        return Parsed::Unreadable;
    };
    // Many PDFs are encrypted with an empty user password, only to restrict
    // printing or copying. Any other password leaves no text.
    if document.is_encrypted() && document.decrypt("").is_err() {
        return Parsed::Unreadable;
    }
    let mut pages = Pages {
        plain: PlainTextOutput::new(sink.clone()),
        sink: sink.clone(),
        started: false,
    };
    if pdf_extract::output_doc(&document, &mut pages).is_err() {
        return Parsed::Stopped;
    }
    // The search runs after the text is read, so that a panic in it still
    // leaves the text.
    match non_text::find_non_text(&document) {
        Some(_found) => Parsed::MoreThanText,
        None => Parsed::Complete,
    }
}

/// Writes the text of the PDF at `input` into `out_dir` and returns it as
/// a rendition: [`Role::Text`], or [`Role::PartialText`] when the text is
/// not all the document shows (see [`Extracted::complete`]). Returns no
/// rendition when the file has no readable text.
pub fn pdf_text(
    input: &Path,
    out_dir: &Path,
    max_bytes: usize,
) -> Result<Vec<Rendition>, MediaError> {
    let Some(extracted) = read_pdf_text(input, max_bytes) else {
        return Ok(Vec::new());
    };
    let path = out_dir.join(TEXT_FILE);
    std::fs::write(&path, extracted.text.as_bytes())?;
    Ok(vec![Rendition {
        role: if extracted.complete {
            Role::Text
        } else {
            Role::PartialText
        },
        path,
        mime: TEXT_MIME,
        width: None,
        height: None,
        duration_ms: None,
    }])
}

/// The collected text and its limit.
struct Collected {
    text: String,
    max_bytes: usize,
    /// Set once a write did not fit: nothing more is taken.
    full: bool,
}

/// The text collected so far, shared by the parser's plain-text writer and
/// [`Pages`], which adds the page breaks. A write past the limit fails,
/// which stops the parser.
#[derive(Clone)]
struct Sink(Rc<RefCell<Collected>>);

impl Sink {
    fn new(max_bytes: usize) -> Sink {
        Sink(Rc::new(RefCell::new(Collected {
            text: String::new(),
            max_bytes,
            full: false,
        })))
    }
}

impl fmt::Write for Sink {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut collected = self.0.borrow_mut();
        if collected.full {
            return Err(fmt::Error);
        }
        let room = collected.max_bytes.saturating_sub(collected.text.len());
        if s.len() <= room {
            collected.text.push_str(s);
            return Ok(());
        }
        // Keep whole characters only, up to the limit.
        let mut end = room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        collected.text.push_str(&s[..end]);
        collected.full = true;
        Err(fmt::Error)
    }
}

impl pdf_extract::ConvertToFmt for Sink {
    type Writer = Sink;

    fn convert(self) -> Sink {
        self
    }
}

/// The parser's plain-text output with a page break before every page but
/// the first.
struct Pages {
    plain: PlainTextOutput<Sink>,
    sink: Sink,
    started: bool,
}

impl OutputDev for Pages {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        if self.started {
            fmt::Write::write_char(&mut self.sink, PAGE_BREAK)?;
        }
        self.started = true;
        self.plain.begin_page(page_num, media_box, art_box)
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        self.plain.end_page()
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        self.plain
            .output_character(trm, width, spacing, font_size, char)
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.plain.begin_word()
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        self.plain.end_word()
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        self.plain.end_line()
    }
}

/// Returns the 1-based page of the byte offset `at` in text whose pages are
/// separated by [`PAGE_BREAK`].
pub fn page_at(text: &str, at: usize) -> usize {
    let end = at.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|byte| **byte == b'\x0c')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a PDF whose pages each show the given lines in Helvetica, with
    /// a correct cross-reference table.
    fn pdf(pages: &[&[&str]]) -> Vec<u8> {
        pdf_with_boxes(pages, pages.len())
    }

    /// Builds a PDF like [`pdf`] in which only the first `boxed` pages
    /// declare their size (`/MediaBox`), which the parser requires.
    fn pdf_with_boxes(pages: &[&[&str]], boxed: usize) -> Vec<u8> {
        build(pages, boxed, &Extras::default())
    }

    /// Builds a PDF like [`pdf`] with `extras` added.
    fn pdf_with(pages: &[&[&str]], extras: &Extras) -> Vec<u8> {
        build(pages, pages.len(), extras)
    }

    /// Entries and objects that a test PDF has besides its pages of text.
    #[derive(Default)]
    struct Extras<'a> {
        /// Entries added to the catalog.
        catalog: &'a str,
        /// Entries added to the first page's dictionary.
        page: &'a str,
        /// Entries added to the first page's resources.
        resources: &'a str,
        /// Operators added to the first page's content, after its text.
        content: &'a str,
        /// Objects numbered from 4 + 2 × (number of pages), after the
        /// pages and their content streams.
        objects: &'a [&'a str],
    }

    fn build(pages: &[&[&str]], boxed: usize, extras: &Extras) -> Vec<u8> {
        let page_count = pages.len();
        let kids: Vec<String> = (0..page_count)
            .map(|index| format!("{} 0 R", 4 + 2 * index))
            .collect();
        let mut objects = vec![
            format!("<< /Type /Catalog /Pages 2 0 R {} >>", extras.catalog),
            format!(
                "<< /Type /Pages /Kids [{}] /Count {page_count} >>",
                kids.join(" ")
            ),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        ];

        for (index, lines) in pages.iter().enumerate() {
            let first = index == 0;
            let mut content = String::from("BT /F1 12 Tf 72 720 Td 16 TL\n");
            for line in *lines {
                content.push_str(&format!("({line}) Tj T*\n"));
            }
            content.push_str("ET");
            if first {
                content.push_str(&format!("\n{}", extras.content));
            }
            let media_box = if index < boxed {
                "/MediaBox [0 0 612 792]"
            } else {
                ""
            };
            let (page, resources) = if first {
                (extras.page, extras.resources)
            } else {
                ("", "")
            };
            objects.push(format!(
                "<< /Type /Page /Parent 2 0 R {media_box} {page} \
                 /Resources << /Font << /F1 3 0 R >> {resources} >> /Contents {} 0 R >>",
                5 + 2 * index
            ));
            objects.push(format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len()
            ));
        }
        objects.extend(extras.objects.iter().map(|object| (*object).to_owned()));

        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (index, object) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
        }

        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for offset in offsets {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn write(folder: &Path, bytes: &[u8]) -> std::path::PathBuf {
        let path = folder.join("source");
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn text_of_each_page_in_order() {
        let folder = tempfile::tempdir().unwrap();
        let input = write(
            folder.path(),
            &pdf(&[
                &["Dear Jordan,", "we moved to LS6 2AB."],
                &["Love from the Carter family"],
            ]),
        );
        let extracted = read_pdf_text(&input, 1 << 20).unwrap();
        assert!(extracted.complete);
        let pages: Vec<&str> = extracted.text.split(PAGE_BREAK).collect();
        assert_eq!(pages.len(), 2, "{:?}", extracted.text);
        assert!(pages[0].contains("Dear Jordan,"), "{:?}", pages[0]);
        assert!(pages[0].contains("LS6 2AB"), "{:?}", pages[0]);
        assert!(pages[1].contains("Carter family"), "{:?}", pages[1]);
        let carter = extracted.text.find("Carter").unwrap();
        assert_eq!(page_at(&extracted.text, carter), 2);
        assert_eq!(page_at(&extracted.text, 0), 1);
    }

    #[test]
    fn text_stops_at_the_limit() {
        let folder = tempfile::tempdir().unwrap();
        let line = "All about our week at the seaside";
        let input = write(folder.path(), &pdf(&[&[line; 40]]));
        let extracted = read_pdf_text(&input, 100).unwrap();
        assert!(!extracted.complete);
        assert!(extracted.text.len() <= 100, "{}", extracted.text.len());
        assert!(
            extracted.text.trim_start().starts_with(line),
            "{:?}",
            extracted.text
        );
    }

    #[test]
    fn limit_keeps_whole_characters() {
        let mut sink = Sink::new(5);
        assert!(fmt::Write::write_str(&mut sink, "abcd").is_ok());
        assert!(fmt::Write::write_str(&mut sink, "é").is_err());
        assert!(fmt::Write::write_str(&mut sink, "e").is_err());
        let collected = sink.0.borrow();
        assert_eq!(collected.text, "abcd");
        assert!(collected.full);
    }

    #[test]
    fn page_without_text_has_none() {
        let folder = tempfile::tempdir().unwrap();
        let input = write(folder.path(), &pdf(&[&[]]));
        assert_eq!(read_pdf_text(&input, 1 << 20), None);
        assert!(pdf_text(&input, folder.path(), 1 << 20).unwrap().is_empty());
    }

    #[test]
    fn panic_keeps_the_pages_before_it() {
        let folder = tempfile::tempdir().unwrap();
        let input = write(
            folder.path(),
            &pdf_with_boxes(&[&["Dear Jordan"], &["Love from LS6 2AB"]], 1),
        );
        let extracted = read_pdf_text(&input, 1 << 20).unwrap();
        assert!(!extracted.complete);
        assert!(
            extracted.text.contains("Dear Jordan"),
            "{:?}",
            extracted.text
        );
        assert!(!extracted.text.contains("LS6"), "{:?}", extracted.text);
        let out = folder.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let renditions = pdf_text(&input, &out, 1 << 20).unwrap();
        assert_eq!(renditions[0].role, Role::PartialText);
    }

    #[test]
    fn malformed_pdf_has_no_text() {
        let folder = tempfile::tempdir().unwrap();
        let mut cut = pdf(&[&["Dear Jordan"]]);
        cut.truncate(cut.len() / 2);
        for bytes in [
            b"%PDF-1.7\nnot really a PDF".to_vec(),
            cut,
            b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 9 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
                .to_vec(),
        ] {
            let input = write(folder.path(), &bytes);
            assert_eq!(read_pdf_text(&input, 1 << 20), None);
        }
    }

    /// A 2 × 2 grey image XObject.
    const IMAGE: &str = "<< /Type /XObject /Subtype /Image /Width 2 /Height 2 \
        /ColorSpace /DeviceGray /BitsPerComponent 8 /Length 4 >>\nstream\nAAAA\nendstream";

    const LETTER: &[&str] = &["Dear Jordan,", "we moved to LS6 2AB."];

    /// Returns what the search finds in `bytes`.
    fn non_text_in(bytes: &[u8]) -> Option<non_text::NonText> {
        let document = pdf_extract::Document::load_mem(bytes).unwrap();
        non_text::find_non_text(&document)
    }

    /// Reads `bytes` as an uploaded PDF and returns its text and its
    /// rendition's role.
    fn read(bytes: &[u8]) -> (Extracted, Role) {
        let folder = tempfile::tempdir().unwrap();
        let input = write(folder.path(), bytes);
        let extracted = read_pdf_text(&input, 1 << 20).unwrap();
        let out = folder.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let renditions = pdf_text(&input, &out, 1 << 20).unwrap();
        (extracted, renditions[0].role)
    }

    /// Checks that the letter with `extras` is found to have `expected`,
    /// and that its text is read in full but marked incomplete.
    fn assert_more_than_text(case: &str, extras: &Extras, expected: non_text::NonText) {
        let bytes = pdf_with(&[LETTER], extras);
        assert_eq!(non_text_in(&bytes), Some(expected), "{case}");
        let (extracted, role) = read(&bytes);
        assert!(!extracted.complete, "{case}");
        assert!(
            extracted.text.contains("LS6 2AB"),
            "{case}: {:?}",
            extracted.text
        );
        assert_eq!(role, Role::PartialText, "{case}");
    }

    #[test]
    fn text_only_pdf_is_complete() {
        let cases = [
            ("plain text", Extras::default()),
            (
                "empty annotation array",
                Extras {
                    page: "/Annots []",
                    ..Extras::default()
                },
            ),
            (
                "form without fields",
                Extras {
                    catalog: "/AcroForm << /Fields [] >>",
                    ..Extras::default()
                },
            ),
            (
                "vector line",
                Extras {
                    content: "2 w 72 500 m 540 500 l S",
                    ..Extras::default()
                },
            ),
            (
                "text that spells operators",
                Extras {
                    content: "BT /F1 12 Tf 72 600 Td (BI ID EI) Tj ET",
                    ..Extras::default()
                },
            ),
        ];
        for (case, extras) in cases {
            let bytes = pdf_with(&[LETTER], &extras);
            assert_eq!(non_text_in(&bytes), None, "{case}");
            let (extracted, role) = read(&bytes);
            assert!(extracted.complete, "{case}");
            assert!(extracted.text.contains("LS6 2AB"), "{case}");
            assert_eq!(role, Role::Text, "{case}");
        }
    }

    #[test]
    fn image_leaves_text_incomplete() {
        use non_text::NonText::{Image, InlineImage};

        let inline = "q 100 0 0 100 72 500 cm BI /W 2 /H 2 /CS /G /BPC 8 ID AAAA EI Q";
        let form = format!(
            "<< /Type /XObject /Subtype /Form /BBox [0 0 100 100] /Length {} >>\n\
             stream\n{inline}\nendstream",
            inline.len()
        );
        let cases = [
            (
                "drawn image",
                Extras {
                    resources: "/XObject << /Im1 6 0 R >>",
                    content: "q 100 0 0 100 72 500 cm /Im1 Do Q",
                    objects: &[IMAGE],
                    ..Extras::default()
                },
                Image,
            ),
            (
                "image never drawn",
                Extras {
                    objects: &[IMAGE],
                    ..Extras::default()
                },
                Image,
            ),
            (
                "inline image",
                Extras {
                    content: inline,
                    ..Extras::default()
                },
                InlineImage,
            ),
            (
                "inline image in a form XObject",
                Extras {
                    objects: &[&form],
                    ..Extras::default()
                },
                InlineImage,
            ),
        ];
        for (case, extras, expected) in cases {
            assert_more_than_text(case, &extras, expected);
        }
    }

    #[test]
    fn annotation_leaves_text_incomplete() {
        let cases = [
            (
                "sticky note",
                Extras {
                    page: "/Annots [6 0 R]",
                    objects: &["<< /Type /Annot /Subtype /Text /Rect [72 600 92 620] \
                                /Contents (We live at LS1 4AP) >>"],
                    ..Extras::default()
                },
            ),
            (
                "free-text box without a type",
                Extras {
                    page: "/Annots [<< /Subtype /FreeText /Rect [72 600 300 620] \
                           /Contents (Ask for Jordan) /DA (/F1 12 Tf) >>]",
                    ..Extras::default()
                },
            ),
            (
                "link in an indirect array",
                Extras {
                    page: "/Annots 6 0 R",
                    objects: &["[<< /Subtype /Link /Rect [72 600 300 620] \
                                /A << /S /URI /URI (https://example.org/) >> >>]"],
                    ..Extras::default()
                },
            ),
        ];
        for (case, extras) in cases {
            assert_more_than_text(case, &extras, non_text::NonText::Annotation);
        }
    }

    #[test]
    fn form_field_leaves_text_incomplete() {
        let cases = [
            (
                "text field",
                Extras {
                    catalog: "/AcroForm << /Fields [6 0 R] >>",
                    objects: &["<< /FT /Tx /T (address) /V (12 Hill Road) >>"],
                    ..Extras::default()
                },
            ),
            (
                "XFA form",
                Extras {
                    catalog: "/AcroForm 6 0 R",
                    objects: &[
                        "<< /Fields [] /XFA 7 0 R >>",
                        "<< /Length 0 >>\nstream\n\nendstream",
                    ],
                    ..Extras::default()
                },
            ),
        ];
        for (case, extras) in cases {
            assert_more_than_text(case, &extras, non_text::NonText::FormField);
        }
    }

    #[test]
    fn attached_file_leaves_text_incomplete() {
        let extras = Extras {
            objects: &["<< /Type /EmbeddedFile /Length 9 >>\nstream\nLS1 4AP\n\nendstream"],
            ..Extras::default()
        };
        assert_more_than_text("attached file", &extras, non_text::NonText::AttachedFile);
    }

    #[test]
    fn reference_cycle_ends_the_search() {
        let extras = Extras {
            page: "/Annots 6 0 R",
            catalog: "/AcroForm 7 0 R",
            objects: &["7 0 R", "6 0 R"],
            ..Extras::default()
        };
        let bytes = pdf_with(&[LETTER], &extras);
        assert_eq!(non_text_in(&bytes), None);
        let (extracted, _role) = read(&bytes);
        assert!(extracted.complete);
    }

    #[test]
    fn rendition_written_to_the_folder() {
        let folder = tempfile::tempdir().unwrap();
        let input = write(folder.path(), &pdf(&[&["Dear Jordan"]]));
        let out = folder.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let renditions = pdf_text(&input, &out, 1 << 20).unwrap();
        assert_eq!(renditions.len(), 1);
        assert_eq!(renditions[0].role, Role::Text);
        assert_eq!(renditions[0].mime, TEXT_MIME);
        assert_eq!(renditions[0].path, out.join(TEXT_FILE));
        let written = std::fs::read_to_string(&renditions[0].path).unwrap();
        assert!(written.contains("Dear Jordan"), "{written:?}");
    }
}
