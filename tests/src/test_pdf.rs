//! Small PDFs written byte by byte, with a correct cross-reference table,
//! so a test controls exactly what a file contains.

/// A 2 × 2 grey picture, as an image XObject.
const IMAGE: &[u8] =
    b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray \
/BitsPerComponent 8 /Length 4 >>\nstream\n\x20\xe0\xe0\x20\nendstream";

/// Returns a PDF with one page per entry of `pages`, each showing its
/// lines in Helvetica, top to bottom.
pub fn with_text(pages: &[&[&str]]) -> Vec<u8> {
    document(&text_contents(pages), "/Font << /F1 3 0 R >>", &[])
}

/// Returns a PDF like [`with_text`] whose first page also shows a picture
/// below its text, as a letter with a pasted-in photo does.
pub fn with_text_and_image(pages: &[&[&str]]) -> Vec<u8> {
    let mut contents = text_contents(pages);
    if let Some(first) = contents.first_mut() {
        first.push_str("\nq 200 0 0 150 72 300 cm /Im1 Do Q");
    }
    document(
        &contents,
        "/Font << /F1 3 0 R >> /XObject << /Im1 4 0 R >>",
        &[IMAGE],
    )
}

/// Returns a one-page PDF whose page is a picture and no text, as a
/// scanned letter is.
pub fn scanned() -> Vec<u8> {
    let content = "q 400 0 0 300 100 400 cm /Im1 Do Q".to_owned();
    document(&[content], "/XObject << /Im1 4 0 R >>", &[IMAGE])
}

/// Returns a content stream per entry of `pages` that shows its lines.
fn text_contents(pages: &[&[&str]]) -> Vec<String> {
    pages
        .iter()
        .map(|lines| {
            let mut content = String::from("BT /F1 12 Tf 72 720 Td 16 TL\n");
            for line in *lines {
                let escaped = line
                    .replace('\\', "\\\\")
                    .replace('(', "\\(")
                    .replace(')', "\\)");
                content.push_str(&format!("({escaped}) Tj T*\n"));
            }
            content.push_str("ET");
            content
        })
        .collect()
}

/// Assembles the catalog, the page tree, a Helvetica font as object 3,
/// `extra` as objects 4 onwards, and one page and content stream per entry
/// of `contents`. `resources` are every page's resources.
fn document(contents: &[String], resources: &str, extra: &[&[u8]]) -> Vec<u8> {
    let first_page = 4 + extra.len();
    let kids: Vec<String> = (0..contents.len())
        .map(|index| format!("{} 0 R", first_page + 2 * index))
        .collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            contents.len()
        )
        .into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec(),
    ];
    objects.extend(extra.iter().map(|object| object.to_vec()));

    for (index, content) in contents.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
                 /Resources << {resources} >> /Contents {} 0 R >>",
                first_page + 1 + 2 * index
            )
            .into_bytes(),
        );
        objects.push(
            format!(
                "<< /Length {} >>\nstream\n{content}\nendstream",
                content.len()
            )
            .into_bytes(),
        );
    }

    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (index, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", index + 1).as_bytes());
        out.extend_from_slice(object);
        out.extend_from_slice(b"\nendobj\n");
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
