//! Encrypted file storage. A file is a run of sealed segments (see
//! `kinlink_core::crypto::segments`) stored under its server id. An object
//! store would implement the [`BlobStore`] trait, and [`LocalDisk`] is the
//! default. Reads decrypt only the segments that hold
//! the bytes asked for.
//!
//! The calls block on file I/O, so async callers run them on a blocking
//! thread.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use kinlink_core::crypto::SecretKey;
use kinlink_core::crypto::segments::{
    Layout, SEALED_SEGMENT_LEN, SEGMENT_LEN, SegmentWriter, open_segment,
};
use uuid::Uuid;
use zeroize::Zeroize;

use crate::MediaError;

/// Storage for sealed segments.
pub trait BlobStore: Send + Sync {
    /// Writes `segments` as segments `first_index..`, dropping anything
    /// stored after them, and returns once they are durable.
    fn write_segments(
        &self,
        id: Uuid,
        first_index: u64,
        segments: &[Vec<u8>],
    ) -> Result<(), MediaError>;

    /// Reads `len` stored bytes from `offset`, fewer at the end of the blob.
    fn read_at(&self, id: Uuid, offset: u64, len: usize) -> Result<Vec<u8>, MediaError>;

    /// Returns the stored length, or `None` when there is no such blob.
    fn stored_len(&self, id: Uuid) -> Result<Option<u64>, MediaError>;

    /// Deletes a blob; deleting one that does not exist succeeds.
    fn delete(&self, id: Uuid) -> Result<(), MediaError>;
}

/// Blobs as files in a folder readable by the server's user only.
pub struct LocalDisk {
    root: PathBuf,
}

impl LocalDisk {
    /// Uses `root`, creating it when missing.
    pub fn open(root: &Path) -> Result<Self, MediaError> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)?;
        Ok(Self {
            root: root.to_owned(),
        })
    }

    fn path(&self, id: Uuid) -> PathBuf {
        let name = id.simple().to_string();
        self.root.join(&name[..2]).join(name)
    }
}

impl BlobStore for LocalDisk {
    fn write_segments(
        &self,
        id: Uuid,
        first_index: u64,
        segments: &[Vec<u8>],
    ) -> Result<(), MediaError> {
        let path = self.path(id);
        if let Some(parent) = path.parent() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(parent)?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)?;
        let offset = Layout::sealed_offset(first_index);
        file.set_len(offset)?;
        file.seek(SeekFrom::Start(offset))?;
        for segment in segments {
            file.write_all(segment)?;
        }
        file.sync_data()?;
        Ok(())
    }

    fn read_at(&self, id: Uuid, offset: u64, len: usize) -> Result<Vec<u8>, MediaError> {
        let mut file = File::open(self.path(id))?;
        file.seek(SeekFrom::Start(offset))?;
        let mut bytes = Vec::with_capacity(len);
        file.take(len as u64).read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    fn stored_len(&self, id: Uuid) -> Result<Option<u64>, MediaError> {
        match std::fs::metadata(self.path(id)) {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error.into()),
        }
    }

    fn delete(&self, id: Uuid) -> Result<(), MediaError> {
        match std::fs::remove_file(self.path(id)) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

/// Decrypts the plaintext bytes `start..=end` of a stored file, opening
/// only the segments that hold them.
pub fn read_range(
    store: &dyn BlobStore,
    key: &SecretKey,
    id: Uuid,
    layout: Layout,
    start: u64,
    end: u64,
) -> Result<Vec<u8>, MediaError> {
    if start > end || end >= layout.plaintext_len {
        return Err(MediaError::RangeNotSatisfiable {
            start,
            end,
            len: layout.plaintext_len,
        });
    }
    let (first, last) = layout.segments_for(start, end);
    let final_index = layout.segment_count() - 1;
    let mut plaintext = Vec::with_capacity((end - start + 1) as usize);
    for index in first..=last {
        let sealed = store.read_at(id, Layout::sealed_offset(index), SEALED_SEGMENT_LEN)?;
        let segment = open_segment(key, id, index, index == final_index, &sealed)?;
        let segment_start = index * kinlink_core::crypto::segments::SEGMENT_LEN as u64;
        let from = start.saturating_sub(segment_start) as usize;
        let to = ((end - segment_start) as usize + 1).min(segment.len());
        plaintext.extend_from_slice(&segment[from.min(to)..to]);
    }
    Ok(plaintext)
}

/// Segments written to the store in one call while sealing a file.
const SEALED_BATCH: usize = 16;

/// Encrypts the file at `path` into the store as blob `id`, in sealed
/// segments under `key`, and returns its plaintext length.
pub fn seal_file(
    store: &dyn BlobStore,
    key: &SecretKey,
    id: Uuid,
    path: &Path,
) -> Result<u64, MediaError> {
    let mut file = File::open(path)?;
    let mut writer = SegmentWriter::new(key.clone(), id, 0);
    let mut buffer = vec![0u8; SEGMENT_LEN];
    let mut pending = Vec::with_capacity(SEALED_BATCH + 1);
    let mut first_index = 0;
    let mut len = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        len += read as u64;
        pending.extend(writer.push(&buffer[..read])?);
        if pending.len() >= SEALED_BATCH {
            store.write_segments(id, first_index, &pending)?;
            first_index += pending.len() as u64;
            pending.clear();
        }
    }
    buffer.zeroize();
    pending.push(writer.finish()?);
    store.write_segments(id, first_index, &pending)?;
    Ok(len)
}

/// Decrypts a stored file whole into a new file at `path`, readable by the
/// server's user only. This is for the private working folder of media
/// processing: the one place plaintext is allowed on disk.
pub fn open_to_file(
    store: &dyn BlobStore,
    key: &SecretKey,
    id: Uuid,
    layout: Layout,
    path: &Path,
) -> Result<(), MediaError> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    let mut reader = SealedReader::new(store, key, id, layout);
    let mut buffer = vec![0u8; SEGMENT_LEN];
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        file.write_all(&buffer[..read])?;
    }
    buffer.zeroize();
    // Not synced: the copy is only read back by this job, and a crash
    // leaves it to the sweep at start.
    Ok(())
}

/// Reads a stored file's plaintext as a seekable stream, decrypting one
/// segment at a time and keeping the last one, so parsers that read
/// headers with many small reads and seeks stay cheap.
pub struct SealedReader<'a> {
    store: &'a dyn BlobStore,
    key: &'a SecretKey,
    id: Uuid,
    layout: Layout,
    position: u64,
    cached: Option<(u64, Vec<u8>)>,
}

impl<'a> SealedReader<'a> {
    /// Reads the file `id` of `layout` with its key.
    pub fn new(store: &'a dyn BlobStore, key: &'a SecretKey, id: Uuid, layout: Layout) -> Self {
        Self {
            store,
            key,
            id,
            layout,
            position: 0,
            cached: None,
        }
    }

    /// Returns up to `len` bytes from the start of the file.
    pub fn read_head(&mut self, len: usize) -> Result<Vec<u8>, MediaError> {
        let len = len.min(usize::try_from(self.layout.plaintext_len).unwrap_or(usize::MAX));
        self.position = 0;
        let mut head = vec![0u8; len];
        let mut filled = 0;
        while filled < len {
            let read = self.read_segment_bytes(&mut head[filled..])?;
            if read == 0 {
                break;
            }
            filled += read;
        }
        head.truncate(filled);
        Ok(head)
    }

    fn read_segment_bytes(&mut self, buffer: &mut [u8]) -> Result<usize, MediaError> {
        if self.position >= self.layout.plaintext_len || buffer.is_empty() {
            return Ok(0);
        }
        let segment_len = kinlink_core::crypto::segments::SEGMENT_LEN as u64;
        let index = self.position / segment_len;
        if self
            .cached
            .as_ref()
            .is_none_or(|(cached, _)| *cached != index)
        {
            let final_index = self.layout.segment_count() - 1;
            let sealed =
                self.store
                    .read_at(self.id, Layout::sealed_offset(index), SEALED_SEGMENT_LEN)?;
            let plaintext = open_segment(self.key, self.id, index, index == final_index, &sealed)?;
            self.cached = Some((index, plaintext));
        }
        let Some((_, plaintext)) = &self.cached else {
            return Ok(0);
        };
        let from = (self.position - index * segment_len) as usize;
        let available = plaintext.len().saturating_sub(from);
        let count = available.min(buffer.len());
        buffer[..count].copy_from_slice(&plaintext[from..from + count]);
        self.position += count as u64;
        Ok(count)
    }
}

impl Read for SealedReader<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        self.read_segment_bytes(buffer)
            .map_err(std::io::Error::other)
    }
}

impl Seek for SealedReader<'_> {
    fn seek(&mut self, target: SeekFrom) -> std::io::Result<u64> {
        let len = self.layout.plaintext_len as i128;
        let position = match target {
            SeekFrom::Start(offset) => i128::from(offset),
            SeekFrom::End(delta) => len + i128::from(delta),
            SeekFrom::Current(delta) => i128::from(self.position) + i128::from(delta),
        };
        let position = u64::try_from(position).map_err(|_negative| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        self.position = position;
        Ok(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored_file(store: &LocalDisk, plaintext: &[u8]) -> (SecretKey, Uuid, Layout) {
        let key = SecretKey::from_bytes([4; 32]);
        let id = Uuid::new_v4();
        let mut writer = SegmentWriter::new(key.clone(), id, 0);
        let mut segments = writer.push(plaintext).unwrap();
        segments.push(writer.finish().unwrap());
        store.write_segments(id, 0, &segments).unwrap();
        let layout = Layout {
            plaintext_len: plaintext.len() as u64,
        };
        (key, id, layout)
    }

    #[test]
    fn ranges_decrypt_to_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDisk::open(dir.path()).unwrap();
        let plaintext: Vec<u8> = (0..SEGMENT_LEN * 3 + 1000)
            .map(|i| (i % 241) as u8)
            .collect();
        let (key, id, layout) = stored_file(&store, &plaintext);
        assert_eq!(store.stored_len(id).unwrap(), Some(layout.sealed_len()));
        let last = plaintext.len() as u64 - 1;
        let segment = SEGMENT_LEN as u64;
        for (start, end) in [
            (0, 0),
            (0, last),
            (segment - 3, segment + 3),
            (segment * 3, last),
            (last, last),
            (100, segment * 2 + 50),
        ] {
            let bytes = read_range(&store, &key, id, layout, start, end).unwrap();
            assert_eq!(
                bytes,
                &plaintext[start as usize..=end as usize],
                "{start}-{end}"
            );
        }
    }

    #[test]
    fn range_past_the_end_is_not_satisfiable() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDisk::open(dir.path()).unwrap();
        let (key, id, layout) = stored_file(&store, b"short");
        assert!(matches!(
            read_range(&store, &key, id, layout, 2, 5),
            Err(MediaError::RangeNotSatisfiable { len: 5, .. })
        ));
    }

    #[test]
    fn no_plaintext_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDisk::open(dir.path()).unwrap();
        let marker = b"a letter to my birth mother, with love";
        let plaintext = marker.repeat(5000);
        let (_key, id, _layout) = stored_file(&store, &plaintext);
        let stored = std::fs::read(store.path(id)).unwrap();
        assert!(!stored.windows(marker.len()).any(|window| window == marker));
    }

    #[test]
    fn rewriting_from_a_segment_drops_what_followed() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDisk::open(dir.path()).unwrap();
        let plaintext = vec![1u8; SEGMENT_LEN * 2 + 10];
        let (key, id, layout) = stored_file(&store, &plaintext);
        let mut writer = SegmentWriter::new(key.clone(), id, 1);
        let mut tail = writer.push(&plaintext[SEGMENT_LEN..]).unwrap();
        tail.push(writer.finish().unwrap());
        store.write_segments(id, 1, &tail).unwrap();
        assert_eq!(store.stored_len(id).unwrap(), Some(layout.sealed_len()));
        let all = read_range(&store, &key, id, layout, 0, layout.plaintext_len - 1).unwrap();
        assert_eq!(all, plaintext);
    }

    #[test]
    fn sealed_reader_reads_and_seeks_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDisk::open(dir.path()).unwrap();
        let plaintext: Vec<u8> = (0..SEGMENT_LEN * 2 + 333)
            .map(|i| (i % 239) as u8)
            .collect();
        let (key, id, layout) = stored_file(&store, &plaintext);
        let mut reader = SealedReader::new(&store, &key, id, layout);
        assert_eq!(reader.read_head(100).unwrap(), &plaintext[..100]);
        let mut all = Vec::new();
        reader.seek(SeekFrom::Start(0)).unwrap();
        reader.read_to_end(&mut all).unwrap();
        assert_eq!(all, plaintext);
        reader.seek(SeekFrom::End(-10)).unwrap();
        let mut tail = Vec::new();
        reader.read_to_end(&mut tail).unwrap();
        assert_eq!(tail, &plaintext[plaintext.len() - 10..]);
        let mut across = [0u8; 20];
        reader
            .seek(SeekFrom::Start(SEGMENT_LEN as u64 - 10))
            .unwrap();
        reader.read_exact(&mut across).unwrap();
        assert_eq!(&across[..], &plaintext[SEGMENT_LEN - 10..SEGMENT_LEN + 10]);
    }

    #[test]
    fn deleting_twice_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDisk::open(dir.path()).unwrap();
        let (_key, id, _layout) = stored_file(&store, b"x");
        store.delete(id).unwrap();
        store.delete(id).unwrap();
        assert_eq!(store.stored_len(id).unwrap(), None);
    }

    #[test]
    fn sealed_file_opens_to_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDisk::open(&dir.path().join("blobs")).unwrap();
        let key = SecretKey::from_bytes([3; 32]);
        let plaintext: Vec<u8> = (0..SEGMENT_LEN * 20 + 77)
            .map(|i| (i % 251) as u8)
            .collect();
        let source = dir.path().join("source");
        std::fs::write(&source, &plaintext).unwrap();
        let id = Uuid::new_v4();
        let len = seal_file(&store, &key, id, &source).unwrap();
        assert_eq!(len, plaintext.len() as u64);
        let copy = dir.path().join("copy");
        let layout = Layout { plaintext_len: len };
        open_to_file(&store, &key, id, layout, &copy).unwrap();
        assert_eq!(std::fs::read(&copy).unwrap(), plaintext);
    }
}
