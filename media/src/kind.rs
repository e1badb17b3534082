//! The kind of a file, read from its first bytes ("magic bytes"). The
//! name and the declared content type are never consulted, because both
//! are whatever the sender's device or the sender chose.

use crate::MediaError;

/// How many leading bytes [`detect`] needs to decide.
pub const SNIFF_LEN: usize = 64;

/// A file's type, as far as its first bytes tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Kind {
    Pdf,
    Jpeg,
    Png,
    Heic,
    /// An audio container (MP3, M4A, WAV, Ogg, FLAC, ADTS AAC).
    Audio(Container),
    /// A video container (MP4, QuickTime, Matroska or WebM, AVI). Whether it
    /// contains video or only audio is decided when its streams are probed.
    Video(Container),
}

/// A container format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Container {
    /// ISO base media (MP4, M4A, QuickTime, 3GP).
    IsoBmff,
    Matroska,
    Riff,
    Mp3,
    Ogg,
    Flac,
    Adts,
}

/// The four groups a conversation allows or refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    Document,
    Image,
    Audio,
    Video,
}

impl Category {
    /// Every category, in the order the API lists them.
    pub const ALL: [Category; 4] = [
        Category::Document,
        Category::Image,
        Category::Audio,
        Category::Video,
    ];

    /// Returns the name the API and the store use.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Document => "document",
            Category::Image => "image",
            Category::Audio => "audio",
            Category::Video => "video",
        }
    }

    /// Finds a category by its name.
    pub fn parse(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl Kind {
    /// Returns the FFmpeg demuxers that may open a file of this kind,
    /// comma-separated. FFmpeg is held to these, so bytes that pass for one
    /// kind cannot reach a playlist or concat demuxer that opens other
    /// files. Empty for kinds FFmpeg never opens.
    pub fn demuxers(self) -> &'static str {
        match self {
            Kind::Pdf | Kind::Heic => "",
            // `image2` is chosen by a `.jpg` or `.png` name, the pipe demuxers by
            // content alone.
            Kind::Jpeg => "jpeg_pipe,image2",
            Kind::Png => "png_pipe,image2",
            Kind::Audio(container) | Kind::Video(container) => match (self, container) {
                (_, Container::IsoBmff) => "mov,mp4,m4a,3gp,3g2,mj2",
                (_, Container::Matroska) => "matroska,webm",
                (Kind::Video(_), Container::Riff) => "avi",
                (_, Container::Riff) => "wav",
                (_, Container::Mp3) => "mp3",
                (_, Container::Ogg) => "ogg",
                (_, Container::Flac) => "flac",
                (_, Container::Adts) => "aac",
            },
        }
    }

    /// Returns the group the kind belongs to.
    pub fn category(self) -> Category {
        match self {
            Kind::Pdf => Category::Document,
            Kind::Jpeg | Kind::Png | Kind::Heic => Category::Image,
            Kind::Audio(_) => Category::Audio,
            Kind::Video(_) => Category::Video,
        }
    }

    /// Returns a short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF",
            Kind::Jpeg => "JPEG",
            Kind::Png => "PNG",
            Kind::Heic => "HEIC",
            Kind::Audio(_) => "audio",
            Kind::Video(_) => "video",
        }
    }
}

/// Decides the kind from the first bytes of a file (at least
/// [`SNIFF_LEN`] of them when the file is that long).
pub fn detect(head: &[u8]) -> Result<Kind, MediaError> {
    if head.is_empty() {
        return Err(MediaError::Empty);
    }
    let starts = |magic: &[u8]| head.starts_with(magic);
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);

    let kind = if starts(b"%PDF-") {
        Kind::Pdf
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        Kind::Jpeg
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Kind::Png
    } else if at(4, b"ftyp") {
        iso_bmff_kind(head)?
    } else if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Kind::Video(Container::Matroska)
    } else if starts(b"RIFF") && at(8, b"WAVE") {
        Kind::Audio(Container::Riff)
    } else if starts(b"RIFF") && at(8, b"AVI ") {
        Kind::Video(Container::Riff)
    } else if starts(b"OggS") {
        Kind::Audio(Container::Ogg)
    } else if starts(b"fLaC") {
        Kind::Audio(Container::Flac)
    } else if starts(b"ID3") || is_mpeg_audio_frame(head) {
        Kind::Audio(Container::Mp3)
    } else if head.len() >= 2 && head[0] == 0xFF && head[1] & 0xF6 == 0xF0 {
        Kind::Audio(Container::Adts)
    } else {
        return Err(MediaError::Unsupported);
    };
    Ok(kind)
}

/// Reads the major and compatible brands of an ISO base media `ftyp` box.
fn iso_bmff_kind(head: &[u8]) -> Result<Kind, MediaError> {
    let size = head
        .get(0..4)
        .map(|bytes| u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize)
        .ok_or(MediaError::Unsupported)?;
    let end = size.clamp(8, head.len());
    let mut brands: Vec<&[u8]> = Vec::new();
    if let Some(major) = head.get(8..12) {
        brands.push(major);
    }
    let mut offset = 16;
    while offset + 4 <= end {
        brands.push(&head[offset..offset + 4]);
        offset += 4;
    }
    let has = |wanted: &[&[u8]]| brands.iter().any(|brand| wanted.contains(brand));
    let major = brands.first().copied().unwrap_or_default();
    if [b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"]
        .iter()
        .any(|brand| major == &brand[..])
        || (major != b"isom" && has(&[b"heic", b"heix"]))
    {
        Ok(Kind::Heic)
    } else if [b"M4A ", b"M4B ", b"M4P "]
        .iter()
        .any(|brand| major == &brand[..])
    {
        Ok(Kind::Audio(Container::IsoBmff))
    } else if major == b"avif" || major == b"avis" {
        Err(MediaError::Unsupported)
    } else {
        Ok(Kind::Video(Container::IsoBmff))
    }
}

/// Recognises an MPEG audio frame header (MP3 without an ID3 tag): 11
/// sync bits, a valid version and layer, and a bit rate that is not "bad".
fn is_mpeg_audio_frame(head: &[u8]) -> bool {
    let [first, second, third, ..] = head else {
        return false;
    };
    let sync = *first == 0xFF && second & 0xE0 == 0xE0;
    let version_valid = (second >> 3) & 0b11 != 0b01;
    let layer_valid = (second >> 1) & 0b11 != 0b00;
    let bitrate_valid = third >> 4 != 0b1111;
    // ADTS shares the sync bits but has layer 00.
    sync && version_valid && layer_valid && bitrate_valid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut bytes = (size as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(major);
        bytes.extend_from_slice(&[0, 0, 0, 0]);
        for brand in compatible {
            bytes.extend_from_slice(*brand);
        }
        bytes.extend_from_slice(&[0; 32]);
        bytes
    }

    #[test]
    fn documents_and_images() {
        assert_eq!(detect(b"%PDF-1.7\n%\xe2\xe3").unwrap(), Kind::Pdf);
        assert_eq!(detect(&[0xFF, 0xD8, 0xFF, 0xE1, 0, 0]).unwrap(), Kind::Jpeg);
        assert_eq!(detect(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap(), Kind::Png);
        assert_eq!(
            detect(&ftyp(b"heic", &[b"mif1", b"heic"])).unwrap(),
            Kind::Heic
        );
        assert_eq!(detect(&ftyp(b"mif1", &[b"heic"])).unwrap(), Kind::Heic);
    }

    #[test]
    fn audio_and_video_containers() {
        let m4a = detect(&ftyp(b"M4A ", &[b"isom"])).unwrap();
        assert_eq!(m4a, Kind::Audio(Container::IsoBmff));
        let mp4 = detect(&ftyp(b"isom", &[b"iso2", b"avc1", b"mp41"])).unwrap();
        assert_eq!(mp4, Kind::Video(Container::IsoBmff));
        let quicktime = detect(&ftyp(b"qt  ", &[b"qt  "])).unwrap();
        assert_eq!(quicktime, Kind::Video(Container::IsoBmff));
        assert_eq!(
            detect(&[0x1A, 0x45, 0xDF, 0xA3, 0x9F]).unwrap(),
            Kind::Video(Container::Matroska)
        );
        assert_eq!(
            detect(b"RIFF\x24\0\0\0WAVEfmt ").unwrap(),
            Kind::Audio(Container::Riff)
        );
        assert_eq!(detect(b"OggS\0\x02").unwrap(), Kind::Audio(Container::Ogg));
        assert_eq!(detect(b"ID3\x04\0\0").unwrap(), Kind::Audio(Container::Mp3));
        assert_eq!(
            detect(&[0xFF, 0xFB, 0x90, 0x64]).unwrap(),
            Kind::Audio(Container::Mp3)
        );
        assert_eq!(
            detect(&[0xFF, 0xF1, 0x50, 0x80]).unwrap(),
            Kind::Audio(Container::Adts)
        );
    }

    #[test]
    fn empty_file_is_rejected() {
        assert!(matches!(detect(b""), Err(MediaError::Empty)));
    }

    #[test]
    fn text_renamed_as_video_is_rejected() {
        let text = b"This is a letter, not a video.\nSee you soon.\n";
        assert!(matches!(detect(text), Err(MediaError::Unsupported)));
    }

    #[test]
    fn avif_is_not_an_accepted_image() {
        assert!(matches!(
            detect(&ftyp(b"avif", &[b"mif1"])),
            Err(MediaError::Unsupported)
        ));
    }

    #[test]
    fn categories() {
        assert_eq!(Kind::Pdf.category(), Category::Document);
        assert_eq!(Kind::Heic.category(), Category::Image);
        assert_eq!(Kind::Audio(Container::Ogg).category(), Category::Audio);
        assert_eq!(Kind::Video(Container::IsoBmff).category(), Category::Video);
    }
}
