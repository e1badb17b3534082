//! The backup file: a short plain header, then one sealed stream of
//! records.
//!
//! The header is [`MAGIC`] and the backup's id. Everything after it is
//! sealed with the backup key as chunked AEAD (see
//! [`kinlink_core::crypto::segments`]), bound to that id, so a segment that
//! was altered, moved, or cut off at the end fails to open. The sealed
//! stream is a run of records, each a tag byte, a name (a 2-byte length, then
//! UTF-8) and data (an 8-byte length, then the bytes), all lengths
//! big-endian, and ends with the [`Tag::End`] record.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use kinlink_core::crypto::SecretKey;
use kinlink_core::crypto::segments::{SEALED_SEGMENT_LEN, SegmentWriter, open_segment};

/// The first bytes of every backup file, with the format's version.
pub const MAGIC: &[u8; 15] = b"KINLINK-BACKUP1";

/// The kind of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    /// The last record; it has no name and no data.
    End = 0,
    /// The manifest, as JSON.
    Manifest = 1,
    /// The database: a SQLite file, or a `pg_dump` archive.
    Database = 2,
    /// One stored file, sealed already under its own key, named by its
    /// path in the media folder.
    Media = 3,
}

impl Tag {
    fn parse(byte: u8) -> Option<Tag> {
        match byte {
            0 => Some(Tag::End),
            1 => Some(Tag::Manifest),
            2 => Some(Tag::Database),
            3 => Some(Tag::Media),
            _ => None,
        }
    }
}

/// Writes a backup file: records in, sealed segments out.
pub struct ArchiveWriter {
    out: BufWriter<File>,
    segments: SegmentWriter,
}

impl ArchiveWriter {
    /// Starts a backup with id `id` in `file`.
    pub fn new(file: File, key: SecretKey, id: uuid::Uuid) -> anyhow::Result<Self> {
        let mut out = BufWriter::new(file);
        out.write_all(MAGIC)?;
        out.write_all(id.as_bytes())?;
        Ok(Self {
            out,
            segments: SegmentWriter::new(key, id, 0),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        for sealed in self.segments.push(bytes)? {
            self.out.write_all(&sealed)?;
        }
        Ok(())
    }

    fn header(&mut self, tag: Tag, name: &str, len: u64) -> anyhow::Result<()> {
        let name_len = u16::try_from(name.len())
            .map_err(|_too_long| anyhow::anyhow!("the record name {name:?} is too long"))?;
        self.write(&[tag as u8])?;
        self.write(&name_len.to_be_bytes())?;
        self.write(name.as_bytes())?;
        self.write(&len.to_be_bytes())
    }

    /// Adds a record whose data is in memory.
    pub fn add(&mut self, tag: Tag, name: &str, data: &[u8]) -> anyhow::Result<()> {
        self.header(tag, name, data.len() as u64)?;
        self.write(data)
    }

    /// Adds a record whose data is the file at `path`, read in pieces.
    pub fn add_file(&mut self, tag: Tag, name: &str, path: &Path) -> anyhow::Result<()> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        self.header(tag, name, len)?;
        let mut reader = BufReader::new(file).take(len);
        let mut buffer = vec![0; SEALED_SEGMENT_LEN];
        let mut copied = 0;
        loop {
            let read = reader.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            copied += read as u64;
            self.write(&buffer[..read])?;
        }
        anyhow::ensure!(
            copied == len,
            "{} changed while it was read",
            path.display()
        );
        Ok(())
    }

    /// Writes the end record and the last segment, and flushes the file to
    /// disk.
    pub fn finish(mut self) -> anyhow::Result<()> {
        self.header(Tag::End, "", 0)?;
        let last = self.segments.finish()?;
        self.out.write_all(&last)?;
        let file = self.out.into_inner().map_err(|error| error.into_error())?;
        file.sync_all()?;
        Ok(())
    }
}

/// Reads the plaintext of a backup file's sealed stream in order.
struct SealedReader {
    input: BufReader<File>,
    key: SecretKey,
    id: uuid::Uuid,
    index: u64,
    /// The next sealed segment, read ahead to learn whether the current
    /// one is the last.
    ahead: Option<Vec<u8>>,
    plain: Vec<u8>,
    position: usize,
    finished: bool,
}

impl SealedReader {
    fn read_segment(input: &mut BufReader<File>) -> std::io::Result<Option<Vec<u8>>> {
        let mut segment = Vec::with_capacity(SEALED_SEGMENT_LEN);
        input
            .by_ref()
            .take(SEALED_SEGMENT_LEN as u64)
            .read_to_end(&mut segment)?;
        Ok((!segment.is_empty()).then_some(segment))
    }

    fn refill(&mut self) -> std::io::Result<()> {
        let Some(current) = self.ahead.take() else {
            self.finished = true;
            return Ok(());
        };
        self.ahead = Self::read_segment(&mut self.input)?;
        let last = self.ahead.is_none();
        self.plain = open_segment(&self.key, self.id, self.index, last, &current).map_err(|_failed| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "segment {} of the backup does not open: the key is wrong, or the file was changed or cut short",
                    self.index
                ),
            )
        })?;
        self.position = 0;
        self.index += 1;
        Ok(())
    }
}

impl Read for SealedReader {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        while self.position == self.plain.len() && !self.finished {
            self.refill()?;
        }
        let available = &self.plain[self.position..];
        let count = available.len().min(buffer.len());
        buffer[..count].copy_from_slice(&available[..count]);
        self.position += count;
        Ok(count)
    }
}

/// A record read from a backup, whose data the caller reads next.
pub struct RecordHeader {
    pub tag: Tag,
    pub name: String,
    pub len: u64,
}

/// Reads a backup file's records.
pub struct ArchiveReader {
    reader: SealedReader,
}

impl ArchiveReader {
    /// Opens the backup at `path` with `key`. Returns the backup's id.
    pub fn open(path: &Path, key: SecretKey) -> anyhow::Result<(Self, uuid::Uuid)> {
        let mut input = BufReader::new(File::open(path)?);
        let mut magic = [0; MAGIC.len()];
        input
            .read_exact(&mut magic)
            .map_err(|_short| anyhow::anyhow!("{} is not a KinLink backup", path.display()))?;
        anyhow::ensure!(
            &magic == MAGIC,
            "{} is not a KinLink backup",
            path.display()
        );
        let mut id = [0; 16];
        input.read_exact(&mut id)?;
        let id = uuid::Uuid::from_bytes(id);
        let ahead = SealedReader::read_segment(&mut input)?;
        let reader = SealedReader {
            input,
            key,
            id,
            index: 0,
            ahead,
            plain: Vec::new(),
            position: 0,
            finished: false,
        };
        Ok((Self { reader }, id))
    }

    /// Reads the next record's header.
    pub fn next_record(&mut self) -> anyhow::Result<RecordHeader> {
        let mut tag = [0; 1];
        self.reader.read_exact(&mut tag)?;
        let tag = Tag::parse(tag[0])
            .ok_or_else(|| anyhow::anyhow!("the backup has an unknown record kind {}", tag[0]))?;
        let mut name_len = [0; 2];
        self.reader.read_exact(&mut name_len)?;
        let mut name = vec![0; usize::from(u16::from_be_bytes(name_len))];
        self.reader.read_exact(&mut name)?;
        let mut len = [0; 8];
        self.reader.read_exact(&mut len)?;
        Ok(RecordHeader {
            tag,
            name: String::from_utf8(name)?,
            len: u64::from_be_bytes(len),
        })
    }

    /// Reads a record's data into memory.
    pub fn read_data(&mut self, record: &RecordHeader) -> anyhow::Result<Vec<u8>> {
        let mut data = Vec::new();
        self.reader
            .by_ref()
            .take(record.len)
            .read_to_end(&mut data)?;
        anyhow::ensure!(data.len() as u64 == record.len, "the backup ends early");
        Ok(data)
    }

    /// Copies a record's data into `out`.
    pub fn copy_data(&mut self, record: &RecordHeader, out: &mut impl Write) -> anyhow::Result<()> {
        let copied = std::io::copy(&mut self.reader.by_ref().take(record.len), out)?;
        anyhow::ensure!(copied == record.len, "the backup ends early");
        Ok(())
    }

    /// Checks that nothing follows the end record.
    pub fn finish(mut self) -> anyhow::Result<()> {
        let mut rest = [0; 1];
        anyhow::ensure!(
            self.reader.read(&mut rest)? == 0,
            "the backup has data after its end"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("kinlink-archive-{}-{name}", uuid::Uuid::now_v7()))
    }

    fn write(path: &Path, key: &SecretKey, big: &[u8]) -> anyhow::Result<()> {
        let mut writer =
            ArchiveWriter::new(File::create(path)?, key.clone(), uuid::Uuid::now_v7())?;
        writer.add(Tag::Manifest, "manifest.json", b"{}")?;
        writer.add(Tag::Media, "ab/cd", big)?;
        writer.finish()
    }

    #[test]
    fn records_come_back_and_tampering_fails() -> anyhow::Result<()> {
        let key = SecretKey::generate()?;
        let path = temp("ok");
        // Larger than two segments, so the stream has several.
        let big: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
        write(&path, &key, &big)?;
        let (mut reader, _) = ArchiveReader::open(&path, key.clone())?;
        let first = reader.next_record()?;
        assert_eq!(
            (first.tag, first.name.as_str()),
            (Tag::Manifest, "manifest.json")
        );
        assert_eq!(reader.read_data(&first)?, b"{}");
        let second = reader.next_record()?;
        assert_eq!(second.tag, Tag::Media);
        assert_eq!(reader.read_data(&second)?, big);
        assert_eq!(reader.next_record()?.tag, Tag::End);
        reader.finish()?;

        // Another key, a flipped byte and a cut file all fail.
        let (mut wrong, _) = ArchiveReader::open(&path, SecretKey::generate()?)?;
        assert!(wrong.next_record().is_err());
        let mut bytes = std::fs::read(&path)?;
        let middle = bytes.len() / 2;
        bytes[middle] ^= 1;
        std::fs::write(&path, &bytes)?;
        let (mut flipped, _) = ArchiveReader::open(&path, key.clone())?;
        let header = flipped.next_record()?;
        let _ = flipped.read_data(&header);
        assert!(
            flipped
                .next_record()
                .and_then(|h| flipped.read_data(&h))
                .is_err()
        );
        write(&path, &key, &big)?;
        let whole = std::fs::read(&path)?;
        std::fs::write(&path, &whole[..MAGIC.len() + 16 + SEALED_SEGMENT_LEN])?;
        let (mut cut, _) = ArchiveReader::open(&path, key)?;
        assert!(
            cut.next_record().is_err(),
            "a stream cut at a segment boundary"
        );
        std::fs::remove_file(&path)?;
        Ok(())
    }
}
