//! Picture dimensions read from an image's header, without decoding it, so
//! a small file that declares a huge picture is rejected before any decoder
//! allocates for it.

use crate::MediaError;
use crate::kind::Kind;

/// How many leading bytes [`image_dimensions`] may need: a JPEG can carry
/// up to 64 KiB of EXIF and several other segments before its frame
/// header.
pub const HEADER_LEN: usize = 512 * 1024;

/// Width and height in pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dimensions {
    pub width: u32,
    pub height: u32,
}

impl Dimensions {
    /// Returns the error for a picture over `limit` pixels, if it is one.
    pub fn check(self, limit: u64) -> Result<(), MediaError> {
        if u64::from(self.width) * u64::from(self.height) > limit {
            return Err(MediaError::TooManyPixels {
                width: self.width,
                height: self.height,
                limit,
            });
        }
        Ok(())
    }
}

/// Reads the dimensions an image declares, from its first bytes. Returns
/// `None` for kinds that are not still images.
pub fn image_dimensions(kind: Kind, head: &[u8]) -> Result<Option<Dimensions>, MediaError> {
    match kind {
        Kind::Jpeg => jpeg(head).map(Some),
        Kind::Png => png(head).map(Some),
        Kind::Heic => heic(head).map(Some),
        _ => Ok(None),
    }
}

fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    let pair = bytes.get(offset..offset + 2)?;
    Some(u16::from_be_bytes([pair[0], pair[1]]))
}

fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let quad = bytes.get(offset..offset + 4)?;
    Some(u32::from_be_bytes([quad[0], quad[1], quad[2], quad[3]]))
}

/// Walks the JPEG marker segments to the first start-of-frame (SOF0 to
/// SOF15, less DHT, JPG and DAC, which share the range).
fn jpeg(head: &[u8]) -> Result<Dimensions, MediaError> {
    let invalid = || MediaError::InvalidHeader { kind: "JPEG" };
    let mut offset = 2;
    loop {
        // Markers may be padded with any number of 0xFF bytes.
        while head.get(offset) == Some(&0xFF) && head.get(offset + 1) == Some(&0xFF) {
            offset += 1;
        }
        if head.get(offset) != Some(&0xFF) {
            return Err(invalid());
        }
        let marker = *head.get(offset + 1).ok_or_else(invalid)?;
        let is_frame = (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker);
        if is_frame {
            let height = u16_at(head, offset + 5).ok_or_else(invalid)?;
            let width = u16_at(head, offset + 7).ok_or_else(invalid)?;
            if width == 0 || height == 0 {
                return Err(invalid());
            }
            return Ok(Dimensions {
                width: width.into(),
                height: height.into(),
            });
        }
        if marker == 0xD9 || marker == 0xDA {
            // End of image or start of scan before any frame header.
            return Err(invalid());
        }
        if marker == 0x01 || (0xD0..=0xD8).contains(&marker) {
            // A marker without a length, as FFmpeg reads it too. Reading a
            // length here would let a file show this walker a different
            // frame header from the one FFmpeg decodes.
            offset += 2;
            continue;
        }
        let length = u16_at(head, offset + 2).ok_or_else(invalid)?;
        if length < 2 {
            return Err(invalid());
        }
        offset += 2 + usize::from(length);
    }
}

/// Reads the IHDR chunk, which PNG requires first.
fn png(head: &[u8]) -> Result<Dimensions, MediaError> {
    let invalid = || MediaError::InvalidHeader { kind: "PNG" };
    if head.get(12..16) != Some(b"IHDR") {
        return Err(invalid());
    }
    let width = u32_at(head, 16).ok_or_else(invalid)?;
    let height = u32_at(head, 20).ok_or_else(invalid)?;
    if width == 0 || height == 0 {
        return Err(invalid());
    }
    Ok(Dimensions { width, height })
}

/// Finds the `ispe` (image spatial extents) properties in the `meta` box
/// of a HEIF file and returns the largest, which is the whole picture
/// (tiles and thumbnails declare smaller ones).
fn heic(head: &[u8]) -> Result<Dimensions, MediaError> {
    let invalid = || MediaError::InvalidHeader { kind: "HEIC" };
    let mut largest: Option<Dimensions> = None;
    let mut search = 0;
    while let Some(found) = find(&head[search..], b"ispe") {
        let at = search + found;
        // The box type is preceded by its 4-byte size and followed by a
        // 4-byte version and flags, then width and height.
        if let (Some(width), Some(height)) = (u32_at(head, at + 8), u32_at(head, at + 12)) {
            let pixels = u64::from(width) * u64::from(height);
            let best = largest.map_or(0, |d| u64::from(d.width) * u64::from(d.height));
            if pixels > best {
                largest = Some(Dimensions { width, height });
            }
        }
        search = at + 4;
    }
    largest
        .filter(|d| d.width > 0 && d.height > 0)
        .ok_or_else(invalid)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a JPEG header with an APP0 segment and a baseline frame
    /// header.
    fn jpeg_header(width: u16, height: u16) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
        bytes.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        bytes.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
        bytes.extend_from_slice(&height.to_be_bytes());
        bytes.extend_from_slice(&width.to_be_bytes());
        bytes.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        bytes
    }

    #[test]
    fn jpeg_dimensions_come_from_the_frame_header() {
        let dims = jpeg(&jpeg_header(4032, 3024)).unwrap();
        assert_eq!(
            dims,
            Dimensions {
                width: 4032,
                height: 3024
            }
        );
    }

    #[test]
    fn huge_jpeg_is_over_the_limit() {
        let dims = image_dimensions(Kind::Jpeg, &jpeg_header(64250, 64250))
            .unwrap()
            .unwrap();
        let error = dims.check(50_000_000).unwrap_err();
        assert!(matches!(
            error,
            MediaError::TooManyPixels {
                width: 64250,
                height: 64250,
                ..
            }
        ));
        assert!(error.to_string().contains("64250×64250"));
    }

    #[test]
    fn jpeg_cut_before_its_frame_header_is_invalid() {
        let header = jpeg_header(100, 100);
        assert!(matches!(
            jpeg(&header[..12]),
            Err(MediaError::InvalidHeader { kind: "JPEG" })
        ));
    }

    #[test]
    fn png_dimensions_come_from_ihdr() {
        let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        bytes.extend_from_slice(&1920u32.to_be_bytes());
        bytes.extend_from_slice(&1080u32.to_be_bytes());
        assert_eq!(
            png(&bytes).unwrap(),
            Dimensions {
                width: 1920,
                height: 1080
            }
        );
    }

    #[test]
    fn heic_takes_the_largest_extent() {
        let mut bytes = vec![0, 0, 0, 20];
        bytes.extend_from_slice(b"ispe\0\0\0\0");
        bytes.extend_from_slice(&512u32.to_be_bytes());
        bytes.extend_from_slice(&512u32.to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 20]);
        bytes.extend_from_slice(b"ispe\0\0\0\0");
        bytes.extend_from_slice(&4032u32.to_be_bytes());
        bytes.extend_from_slice(&3024u32.to_be_bytes());
        assert_eq!(
            heic(&bytes).unwrap(),
            Dimensions {
                width: 4032,
                height: 3024
            }
        );
    }

    #[test]
    fn other_kinds_have_no_image_header() {
        assert_eq!(image_dimensions(Kind::Pdf, b"%PDF-1.7").unwrap(), None);
    }

    #[test]
    fn restart_marker_has_no_length() {
        // FF D0 has no length, so "00 08" after it is not a marker and the
        // header is invalid, not a 16 × 16 frame read past a comment.
        let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xD0, 0x00, 0x08];
        bytes.extend_from_slice(&jpeg_header(16, 16)[2..]);
        assert!(matches!(
            jpeg(&bytes),
            Err(MediaError::InvalidHeader { .. })
        ));
    }
}
