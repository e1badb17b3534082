//! Chunked AEAD for files. The plaintext is cut into fixed-size segments,
//! and each is sealed on its own with AES-256-GCM and a random nonce. Its
//! associated data binds the file id, the segment's index and whether it
//! is the last one. A reader can open any segment without the others, as
//! HTTP Range needs. It still detects a segment that was altered or moved
//! to another index or file, and a file cut short at a segment boundary,
//! because its last segment then lacks the final flag.
//!
//! Each stored segment is `nonce || ciphertext || tag`, so every segment
//! but the last takes exactly [`SEALED_SEGMENT_LEN`] bytes on disk.

use uuid::Uuid;

use super::aead::{self, AssociatedData, NONCE_LEN, TAG_LEN};
use super::{CryptoError, SecretKey};

/// Plaintext bytes per segment.
pub const SEGMENT_LEN: usize = 64 * 1024;
/// Stored bytes of a full segment.
pub const SEALED_SEGMENT_LEN: usize = SEGMENT_LEN + NONCE_LEN + TAG_LEN;

fn associated_data(file_id: Uuid, index: u64, last: bool) -> AssociatedData {
    let mut aad = AssociatedData::new("kinlink.file-segment.v1");
    aad.push(file_id.as_bytes())
        .push(&index.to_be_bytes())
        .push(&[u8::from(last)]);
    aad
}

/// Seals segment `index` of a file. `plaintext` is at most
/// [`SEGMENT_LEN`] bytes, and exactly that unless `last` is set.
pub fn seal_segment(
    key: &SecretKey,
    file_id: Uuid,
    index: u64,
    last: bool,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let full = plaintext.len() == SEGMENT_LEN;
    if plaintext.len() > SEGMENT_LEN || (!last && !full) {
        return Err(CryptoError::Malformed {
            what: "file segment",
            expected: SEGMENT_LEN,
            found: plaintext.len(),
        });
    }
    aead::seal(
        key,
        plaintext,
        associated_data(file_id, index, last).as_bytes(),
    )
}

/// Opens segment `index`, which the caller expects to be the last one or
/// not. A segment that was sealed for another file, index or position
/// fails with [`CryptoError::OpenFailed`].
pub fn open_segment(
    key: &SecretKey,
    file_id: Uuid,
    index: u64,
    last: bool,
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    aead::open(
        key,
        sealed,
        associated_data(file_id, index, last).as_bytes(),
    )
}

/// The position of a file's plaintext bytes among its sealed segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The plaintext length.
    pub plaintext_len: u64,
}

impl Layout {
    /// Returns the number of segments; an empty file has one, empty and
    /// final.
    pub fn segment_count(self) -> u64 {
        self.plaintext_len.div_ceil(SEGMENT_LEN as u64).max(1)
    }

    /// Returns the stored length of the whole file.
    pub fn sealed_len(self) -> u64 {
        self.plaintext_len + self.segment_count() * (NONCE_LEN + TAG_LEN) as u64
    }

    /// Returns the stored offset of segment `index`.
    pub fn sealed_offset(index: u64) -> u64 {
        index * SEALED_SEGMENT_LEN as u64
    }

    /// Returns the segments that hold the plaintext bytes `start..=end`,
    /// as a first and last index.
    pub fn segments_for(self, start: u64, end: u64) -> (u64, u64) {
        let last = self.segment_count() - 1;
        let segment = SEGMENT_LEN as u64;
        ((start / segment).min(last), (end / segment).min(last))
    }
}

/// Cuts a stream of plaintext into sealed segments. It holds back up to one
/// segment of plaintext, because a segment is only known to be the last
/// when the input ends.
pub struct SegmentWriter {
    key: SecretKey,
    file_id: Uuid,
    next_index: u64,
    buffer: Vec<u8>,
}

impl SegmentWriter {
    /// Starts a file, or continues one whose first `next_index` segments
    /// are sealed already.
    pub fn new(key: SecretKey, file_id: Uuid, next_index: u64) -> Self {
        Self {
            key,
            file_id,
            next_index,
            buffer: Vec::with_capacity(SEGMENT_LEN + 1),
        }
    }

    /// Returns the index the next sealed segment gets.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// Returns the plaintext bytes held back, not yet sealed.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Adds plaintext and returns every segment that is now complete and
    /// known not to be the last.
    pub fn push(&mut self, mut input: &[u8]) -> Result<Vec<Vec<u8>>, CryptoError> {
        let mut sealed = Vec::new();
        while !input.is_empty() {
            // Fill to one byte past a full segment: only then is the full
            // segment known not to be the last.
            let room = SEGMENT_LEN + 1 - self.buffer.len();
            let take = room.min(input.len());
            self.buffer.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.buffer.len() > SEGMENT_LEN {
                sealed.push(seal_segment(
                    &self.key,
                    self.file_id,
                    self.next_index,
                    false,
                    &self.buffer[..SEGMENT_LEN],
                )?);
                self.next_index += 1;
                self.buffer.drain(..SEGMENT_LEN);
            }
        }
        Ok(sealed)
    }

    /// Seals a held-back full segment as not the last, for a caller that
    /// knows more input follows (an upload of known size that stopped
    /// part way). Returns `None` when less than a full segment is held.
    pub fn seal_full_segment(&mut self) -> Result<Option<Vec<u8>>, CryptoError> {
        if self.buffer.len() < SEGMENT_LEN {
            return Ok(None);
        }
        let sealed = seal_segment(
            &self.key,
            self.file_id,
            self.next_index,
            false,
            &self.buffer[..SEGMENT_LEN],
        )?;
        self.next_index += 1;
        self.buffer.drain(..SEGMENT_LEN);
        Ok(Some(sealed))
    }

    /// Seals what is held back as the last segment.
    pub fn finish(self) -> Result<Vec<u8>, CryptoError> {
        seal_segment(&self.key, self.file_id, self.next_index, true, &self.buffer)
    }
}

impl Drop for SegmentWriter {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.buffer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> SecretKey {
        SecretKey::from_bytes([9; 32])
    }

    fn seal_all(file_id: Uuid, plaintext: &[u8], chunk: usize) -> Vec<Vec<u8>> {
        let mut writer = SegmentWriter::new(key(), file_id, 0);
        let mut segments = Vec::new();
        for part in plaintext.chunks(chunk.max(1)) {
            segments.extend(writer.push(part).unwrap());
        }
        segments.push(writer.finish().unwrap());
        segments
    }

    fn open_all(file_id: Uuid, segments: &[Vec<u8>]) -> Result<Vec<u8>, CryptoError> {
        let mut plaintext = Vec::new();
        let last = segments.len() as u64 - 1;
        for (index, sealed) in segments.iter().enumerate() {
            let index = index as u64;
            plaintext.extend(open_segment(&key(), file_id, index, index == last, sealed)?);
        }
        Ok(plaintext)
    }

    #[test]
    fn empty_file_has_one_final_segment() {
        let id = Uuid::new_v4();
        let segments = seal_all(id, b"", 1);
        assert_eq!(segments.len(), 1);
        assert_eq!(open_all(id, &segments).unwrap(), b"");
        assert_eq!(Layout { plaintext_len: 0 }.segment_count(), 1);
    }

    #[test]
    fn exact_multiple_ends_with_full_final_segment() {
        let id = Uuid::new_v4();
        let plaintext = vec![3u8; SEGMENT_LEN * 2];
        let segments = seal_all(id, &plaintext, 10_000);
        assert_eq!(segments.len(), 2);
        assert_eq!(segments[0].len(), SEALED_SEGMENT_LEN);
        assert_eq!(segments[1].len(), SEALED_SEGMENT_LEN);
        assert_eq!(open_all(id, &segments).unwrap(), plaintext);
        let layout = Layout {
            plaintext_len: plaintext.len() as u64,
        };
        assert_eq!(layout.segment_count(), 2);
        assert_eq!(layout.sealed_len(), 2 * SEALED_SEGMENT_LEN as u64);
    }

    #[test]
    fn file_cut_at_a_segment_boundary_fails() {
        let id = Uuid::new_v4();
        let plaintext = vec![5u8; SEGMENT_LEN * 2 + 10];
        let mut segments = seal_all(id, &plaintext, SEGMENT_LEN);
        segments.pop();
        assert_eq!(open_all(id, &segments), Err(CryptoError::OpenFailed));
    }

    #[test]
    fn swapped_segments_fail() {
        let id = Uuid::new_v4();
        let plaintext: Vec<u8> = (0..SEGMENT_LEN * 3).map(|i| i as u8).collect();
        let mut segments = seal_all(id, &plaintext, 4096);
        segments.swap(0, 1);
        assert_eq!(open_all(id, &segments), Err(CryptoError::OpenFailed));
    }

    #[test]
    fn segment_of_another_file_fails() {
        let plaintext = vec![1u8; 100];
        let segments = seal_all(Uuid::new_v4(), &plaintext, 100);
        assert_eq!(
            open_all(Uuid::new_v4(), &segments),
            Err(CryptoError::OpenFailed)
        );
    }

    #[test]
    fn short_segment_that_is_not_last_is_rejected() {
        let result = seal_segment(&key(), Uuid::new_v4(), 0, false, &[0; 10]);
        assert!(matches!(result, Err(CryptoError::Malformed { .. })));
    }

    #[test]
    fn resumed_writer_continues_the_numbering() {
        let id = Uuid::new_v4();
        let plaintext: Vec<u8> = (0..SEGMENT_LEN * 2 + 7).map(|i| (i % 251) as u8).collect();
        let mut first = SegmentWriter::new(key(), id, 0);
        let mut segments = first.push(&plaintext[..SEGMENT_LEN + 1]).unwrap();
        assert_eq!(segments.len(), 1);
        // The connection drops: the held-back byte is lost, and the upload
        // resumes from the first unsealed segment.
        drop(first);
        let mut second = SegmentWriter::new(key(), id, 1);
        segments.extend(second.push(&plaintext[SEGMENT_LEN..]).unwrap());
        segments.push(second.finish().unwrap());
        assert_eq!(open_all(id, &segments).unwrap(), plaintext);
    }

    #[test]
    fn full_segment_sealed_when_more_follows() {
        let id = Uuid::new_v4();
        let plaintext: Vec<u8> = (0..SEGMENT_LEN * 3).map(|i| (i % 13) as u8).collect();
        let mut first = SegmentWriter::new(key(), id, 0);
        let mut segments = first.push(&plaintext[..SEGMENT_LEN * 2]).unwrap();
        assert_eq!(segments.len(), 1, "the second segment might be the last");
        segments.push(first.seal_full_segment().unwrap().unwrap());
        assert_eq!(first.seal_full_segment().unwrap(), None);
        let mut second = SegmentWriter::new(key(), id, 2);
        segments.extend(second.push(&plaintext[SEGMENT_LEN * 2..]).unwrap());
        segments.push(second.finish().unwrap());
        assert_eq!(open_all(id, &segments).unwrap(), plaintext);
    }

    #[test]
    fn layout_maps_ranges_to_segments() {
        let layout = Layout {
            plaintext_len: SEGMENT_LEN as u64 * 3 + 5,
        };
        assert_eq!(layout.segment_count(), 4);
        assert_eq!(layout.segments_for(0, 0), (0, 0));
        let segment = SEGMENT_LEN as u64;
        assert_eq!(layout.segments_for(segment - 1, segment), (0, 1));
        assert_eq!(layout.segments_for(segment * 3, segment * 3 + 4), (3, 3));
        assert_eq!(
            Layout::sealed_offset(2),
            2 * SEALED_SEGMENT_LEN as u64,
            "full segments are laid end to end"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        #[test]
        fn any_length_and_chunking_round_trips(len in 0usize..(SEGMENT_LEN * 3), chunk in 1usize..(SEGMENT_LEN * 2)) {
            let id = Uuid::new_v4();
            let plaintext: Vec<u8> = (0..len).map(|i| (i % 253) as u8).collect();
            let segments = seal_all(id, &plaintext, chunk);
            prop_assert_eq!(segments.len() as u64, Layout { plaintext_len: len as u64 }.segment_count());
            let stored: usize = segments.iter().map(Vec::len).sum();
            prop_assert_eq!(stored as u64, Layout { plaintext_len: len as u64 }.sealed_len());
            prop_assert_eq!(open_all(id, &segments).unwrap(), plaintext);
        }

        #[test]
        fn any_changed_byte_fails(position in 0usize..(SEALED_SEGMENT_LEN + 100), flip in 1u8..=255) {
            let id = Uuid::new_v4();
            let plaintext = vec![7u8; SEGMENT_LEN + 50];
            let mut segments = seal_all(id, &plaintext, SEGMENT_LEN);
            let (segment, offset) = if position < segments[0].len() {
                (0, position)
            } else {
                (1, (position - segments[0].len()) % segments[1].len())
            };
            segments[segment][offset] ^= flip;
            prop_assert_eq!(open_all(id, &segments), Err(CryptoError::OpenFailed));
        }
    }
}
