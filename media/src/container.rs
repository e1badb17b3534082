//! Picture dimensions that a video container declares, read from its
//! headers without opening a decoder: the track headers (`tkhd`) and
//! visual sample entries of ISO base media files (MP4, QuickTime), and the
//! `PixelWidth` and `PixelHeight` elements of Matroska and WebM. FFmpeg
//! decodes frames while it probes a stream, so a video declaring a huge
//! picture must be rejected before FFmpeg opens it.

use std::io::{Read, Seek, SeekFrom};

use crate::MediaError;
use crate::header::Dimensions;
use crate::kind::{Container, Kind};

/// The largest `moov` box read into memory. Real ones are a few MiB even
/// for long phone videos.
const MAX_MOOV_BYTES: u64 = 64 * 1024 * 1024;

/// How far into a Matroska file the track elements are looked for.
const MATROSKA_SCAN_BYTES: u64 = 4 * 1024 * 1024;

/// The deepest nesting followed. Real files need five levels of boxes
/// below `moov` (`trak`, `mdia`, `minf`, `stbl`, `stsd`) and four EBML
/// master elements. A file nested deeper is hostile, so the walk stops
/// there rather than exhaust the stack.
const MAX_DEPTH: usize = 8;

/// Returns the largest picture any video track declares, or `None` when
/// the container declares none (an audio-only file, say).
pub fn video_dimensions(
    kind: Kind,
    file: &mut (impl Read + Seek),
) -> Result<Option<Dimensions>, MediaError> {
    match kind {
        Kind::Video(Container::IsoBmff) | Kind::Audio(Container::IsoBmff) => iso_bmff(file),
        Kind::Video(Container::Matroska) => matroska(file),
        _ => Ok(None),
    }
}

fn invalid() -> MediaError {
    MediaError::InvalidHeader { kind: "video" }
}

/// Walks the top-level boxes, reading only their headers, to the `moov`
/// box, then looks inside it.
fn iso_bmff(file: &mut (impl Read + Seek)) -> Result<Option<Dimensions>, MediaError> {
    let length = file.seek(SeekFrom::End(0))?;
    let mut offset = 0;
    while offset + 8 <= length {
        file.seek(SeekFrom::Start(offset))?;
        let mut header = [0u8; 16];
        file.read_exact(&mut header[..8])?;
        let mut size = u64::from(u32::from_be_bytes([
            header[0], header[1], header[2], header[3],
        ]));
        let mut header_len = 8;
        if size == 1 {
            file.read_exact(&mut header[8..16])?;
            size = u64::from_be_bytes([
                header[8], header[9], header[10], header[11], header[12], header[13], header[14],
                header[15],
            ]);
            header_len = 16;
        } else if size == 0 {
            size = length - offset;
        }
        let end = offset.checked_add(size).ok_or_else(invalid)?;
        if size < header_len || end > length {
            return Err(invalid());
        }
        if &header[4..8] == b"moov" {
            let body_len = size - header_len;
            if body_len > MAX_MOOV_BYTES {
                return Err(invalid());
            }
            let mut moov = vec![0u8; body_len as usize];
            file.read_exact(&mut moov)?;
            let mut largest = None;
            visit_boxes(&moov, 0, &mut |kind, body| {
                record_dimensions(kind, body, &mut largest)
            })?;
            return Ok(largest);
        }
        offset = end;
    }
    // No `moov` box: a truncated file, or one FFmpeg will reject.
    Err(invalid())
}

/// Calls `visit` for every box in `bytes`, descending into the containers
/// that lead to track headers and sample descriptions.
fn visit_boxes(
    bytes: &[u8],
    depth: usize,
    visit: &mut impl FnMut(&[u8], &[u8]),
) -> Result<(), MediaError> {
    if depth > MAX_DEPTH {
        return Err(invalid());
    }
    let mut offset = 0;
    while offset + 8 <= bytes.len() {
        let size = u32::from_be_bytes([
            bytes[offset],
            bytes[offset + 1],
            bytes[offset + 2],
            bytes[offset + 3],
        ]) as usize;
        let end = offset.checked_add(size).ok_or_else(invalid)?;
        if size < 8 || end > bytes.len() {
            return Err(invalid());
        }
        let kind = &bytes[offset + 4..offset + 8];
        let body = &bytes[offset + 8..end];
        visit(kind, body);
        match kind {
            b"trak" | b"mdia" | b"minf" | b"stbl" => visit_boxes(body, depth + 1, visit)?,
            // A sample description has a version, flags and an entry count
            // before its entries.
            b"stsd" if body.len() >= 8 => visit_boxes(&body[8..], depth + 1, visit)?,
            _ => {}
        }
        offset = end;
    }
    Ok(())
}

fn record_dimensions(kind: &[u8], body: &[u8], largest: &mut Option<Dimensions>) {
    let read_u32 = |at: usize| {
        body.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let read_u16 = |at: usize| {
        body.get(at..at + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
    };
    let found = match kind {
        // Track header: width and height are 16.16 fixed point, in the
        // last eight bytes whatever the version.
        b"tkhd" if body.len() >= 8 => {
            let end = body.len();
            match (read_u32(end - 8), read_u32(end - 4)) {
                (Some(width), Some(height)) => Some(Dimensions {
                    width: width >> 16,
                    height: height >> 16,
                }),
                _ => None,
            }
        }
        // Visual sample entries: width and height follow 24 bytes of
        // reserved fields, indexes and predefined values.
        b"avc1" | b"avc3" | b"hvc1" | b"hev1" | b"mp4v" | b"vp09" | b"av01" | b"mjpa" | b"mjpb"
        | b"jpeg" | b"apcn" | b"apch" | b"apcs" | b"apco" | b"ap4h" => {
            match (read_u16(24), read_u16(26)) {
                (Some(width), Some(height)) => Some(Dimensions {
                    width: width.into(),
                    height: height.into(),
                }),
                _ => None,
            }
        }
        _ => None,
    };
    if let Some(found) = found.filter(|d| d.width > 0 && d.height > 0) {
        let pixels = |d: Dimensions| u64::from(d.width) * u64::from(d.height);
        if largest.is_none_or(|current| pixels(found) > pixels(current)) {
            *largest = Some(found);
        }
    }
}

/// Finds the `PixelWidth` (0xB0) and `PixelHeight` (0xBA) elements of
/// Matroska video tracks by walking the EBML tree near the start of the
/// file.
fn matroska(file: &mut (impl Read + Seek)) -> Result<Option<Dimensions>, MediaError> {
    file.seek(SeekFrom::Start(0))?;
    let mut head = Vec::new();
    file.take(MATROSKA_SCAN_BYTES).read_to_end(&mut head)?;
    let mut largest = None;
    let mut pending_width = None;
    walk_ebml(&head, 0, &mut |id, data| match id {
        0xB0 => pending_width = Some(ebml_uint(data)),
        0xBA => {
            if let Some(width) = pending_width.take() {
                let found = Dimensions {
                    width: u32::try_from(width).unwrap_or(u32::MAX),
                    height: u32::try_from(ebml_uint(data)).unwrap_or(u32::MAX),
                };
                let pixels = |d: Dimensions| u64::from(d.width) * u64::from(d.height);
                if largest.is_none_or(|current| pixels(found) > pixels(current)) {
                    largest = Some(found);
                }
            }
        }
        _ => {}
    });
    Ok(largest)
}

/// Walks EBML elements, descending into the master elements on the way to
/// video track settings: Segment, Tracks, TrackEntry and Video.
fn walk_ebml(bytes: &[u8], depth: usize, visit: &mut impl FnMut(u64, &[u8])) {
    const MASTERS: [u64; 4] = [0x1853_8067, 0x1654_AE6B, 0xAE, 0xE0];
    if depth > MAX_DEPTH {
        return;
    }
    let mut offset = 0;
    while let Some((id, id_len)) = ebml_vint(&bytes[offset..], false) {
        let Some((size, size_len)) = ebml_vint(&bytes[offset + id_len..], true) else {
            return;
        };
        let start = offset + id_len + size_len;
        // An unknown size (all ones) runs to the end of what was read.
        let end = usize::try_from(size)
            .ok()
            .and_then(|size| start.checked_add(size))
            .map_or(bytes.len(), |end| end.min(bytes.len()));
        if start > end {
            return;
        }
        let data = &bytes[start..end];
        if MASTERS.contains(&id) {
            walk_ebml(data, depth + 1, visit);
        } else {
            visit(id, data);
        }
        if end <= offset {
            return;
        }
        offset = end;
    }
}

/// Reads an EBML variable-length integer. An element id keeps its length
/// marker bits; a size drops them.
fn ebml_vint(bytes: &[u8], strip_marker: bool) -> Option<(u64, usize)> {
    let first = *bytes.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 || bytes.len() < len {
        return None;
    }
    let mut value = if strip_marker {
        u64::from(first) & ((1u64 << (8 - len)) - 1)
    } else {
        u64::from(first)
    };
    for byte in &bytes[1..len] {
        value = (value << 8) | u64::from(*byte);
    }
    if strip_marker && value == (1u64 << (7 * len)) - 1 {
        // All ones: the size is unknown.
        return Some((u64::MAX, len));
    }
    Some((value, len))
}

fn ebml_uint(data: &[u8]) -> u64 {
    data.iter()
        .take(8)
        .fold(0u64, |value, byte| (value << 8) | u64::from(*byte))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut bytes = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(kind);
        bytes.extend_from_slice(body);
        bytes
    }

    fn tkhd(width: u32, height: u32) -> Vec<u8> {
        let mut body = vec![0u8; 76];
        body.extend_from_slice(&(width << 16).to_be_bytes());
        body.extend_from_slice(&(height << 16).to_be_bytes());
        boxed(b"tkhd", &body)
    }

    #[test]
    fn mp4_dimensions_come_from_the_track_header() {
        let moov = boxed(b"moov", &boxed(b"trak", &tkhd(16384, 16384)));
        let mut file = boxed(b"ftyp", b"isom\0\0\0\0isom");
        file.extend(boxed(b"mdat", &[0; 100]));
        file.extend(moov);
        let dims = video_dimensions(Kind::Video(Container::IsoBmff), &mut Cursor::new(file))
            .unwrap()
            .unwrap();
        assert_eq!(
            dims,
            Dimensions {
                width: 16384,
                height: 16384
            }
        );
    }

    #[test]
    fn mp4_without_moov_is_invalid() {
        let mut file = boxed(b"ftyp", b"isom\0\0\0\0isom");
        file.extend(boxed(b"mdat", &[0; 100]));
        let result = video_dimensions(Kind::Video(Container::IsoBmff), &mut Cursor::new(file));
        assert!(matches!(result, Err(MediaError::InvalidHeader { .. })));
    }

    #[test]
    fn box_running_past_the_end_is_invalid() {
        let mut file = boxed(b"ftyp", b"isom\0\0\0\0isom");
        file.extend_from_slice(&1000u32.to_be_bytes());
        file.extend_from_slice(b"mdat");
        let result = video_dimensions(Kind::Video(Container::IsoBmff), &mut Cursor::new(file));
        assert!(matches!(result, Err(MediaError::InvalidHeader { .. })));
    }

    #[test]
    fn deeply_nested_boxes_are_invalid() {
        let mut nested = Vec::new();
        for _ in 0..100_000 {
            let mut outer = ((nested.len() + 8) as u32).to_be_bytes().to_vec();
            outer.extend_from_slice(b"trak");
            outer.extend_from_slice(&nested);
            nested = outer;
        }
        let mut file = boxed(b"ftyp", b"isom\0\0\0\0isom");
        file.extend(boxed(b"moov", &nested));
        let result = video_dimensions(Kind::Video(Container::IsoBmff), &mut Cursor::new(file));
        assert!(matches!(result, Err(MediaError::InvalidHeader { .. })));
    }

    #[test]
    fn deeply_nested_ebml_stops_at_the_depth_limit() {
        let mut file = vec![0x1A, 0x45, 0xDF, 0xA3, 0x80];
        for _ in 0..32_000 {
            file.extend_from_slice(&[0xAE, 0xFF]);
        }
        let result = video_dimensions(Kind::Video(Container::Matroska), &mut Cursor::new(file));
        assert!(matches!(result, Ok(None)));
    }

    #[test]
    fn box_size_that_overflows_is_invalid() {
        let mut file = boxed(b"ftyp", b"isom\0\0\0\0isom");
        file.extend_from_slice(&1u32.to_be_bytes());
        file.extend_from_slice(b"free");
        file.extend_from_slice(&(u64::MAX - 23).to_be_bytes());
        file.extend_from_slice(&[0; 64]);
        let result = video_dimensions(Kind::Video(Container::IsoBmff), &mut Cursor::new(file));
        assert!(matches!(result, Err(MediaError::InvalidHeader { .. })));
    }

    #[test]
    fn matroska_dimensions_come_from_the_video_element() {
        // Segment > Tracks > TrackEntry > Video > PixelWidth, PixelHeight.
        let video = [0xB0, 0x82, 0x07, 0x80, 0xBA, 0x82, 0x04, 0x38];
        let mut entry = vec![0xE0, 0x80 | video.len() as u8];
        entry.extend_from_slice(&video);
        let mut tracks = vec![0xAE, 0x80 | entry.len() as u8];
        tracks.extend_from_slice(&entry);
        let mut segment = vec![0x16, 0x54, 0xAE, 0x6B, 0x80 | tracks.len() as u8];
        segment.extend_from_slice(&tracks);
        let mut file = vec![0x1A, 0x45, 0xDF, 0xA3, 0x80];
        file.extend_from_slice(&[
            0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        file.extend_from_slice(&segment);
        let dims = video_dimensions(Kind::Video(Container::Matroska), &mut Cursor::new(file))
            .unwrap()
            .unwrap();
        assert_eq!(
            dims,
            Dimensions {
                width: 1920,
                height: 1080
            }
        );
    }
}
