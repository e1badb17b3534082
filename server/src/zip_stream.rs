//! A ZIP archive written front to back, for a response body that streams
//! while it is made.
//!
//! Entries are stored without compression: the files it carries are
//! photos, audio and video that are compressed already. Each entry's size
//! and CRC-32 follow its data in a data descriptor, so an entry of any
//! length streams without being held in memory. Every entry and the end
//! of the archive use the ZIP64 records, so neither an entry nor the whole
//! archive is limited to 4 GiB.

use chrono::{DateTime, Datelike, Timelike, Utc};

const LOCAL_HEADER: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const ZIP64_END: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const END: u32 = 0x0605_4b50;
/// ZIP 4.5: the first version with ZIP64.
const VERSION: u16 = 45;
/// Made on Unix, so readers take the permissions from the external
/// attributes.
const MADE_BY: u16 = (3 << 8) | VERSION;
/// Sizes follow the data (bit 3); names are UTF-8 (bit 11).
const FLAGS: u16 = (1 << 3) | (1 << 11);
const ZIP64_EXTRA: u16 = 0x0001;
/// A regular file readable and writable by its owner only.
const FILE_MODE: u32 = 0o100_600;

struct Entry {
    name: String,
    offset: u64,
    crc: u32,
    size: u64,
}

/// Makes the bytes of an archive in order. Each method returns the bytes
/// to send next.
pub struct ZipEncoder {
    time: u16,
    date: u16,
    offset: u64,
    entries: Vec<Entry>,
    current: Option<(Entry, crc32fast::Hasher)>,
}

impl ZipEncoder {
    /// Starts an archive whose entries are dated `modified`.
    pub fn new(modified: DateTime<Utc>) -> Self {
        let (time, date) = dos_time(modified);
        Self {
            time,
            date,
            offset: 0,
            entries: Vec::new(),
            current: None,
        }
    }

    /// Starts an entry named `name`, ending the one before.
    pub fn start(&mut self, name: &str) -> Vec<u8> {
        let mut out = self.end_entry();
        let name_bytes = name.as_bytes();
        let mut header = Vec::with_capacity(30 + name_bytes.len() + 20);
        put32(&mut header, LOCAL_HEADER);
        put16(&mut header, VERSION);
        put16(&mut header, FLAGS);
        put16(&mut header, 0); // stored
        put16(&mut header, self.time);
        put16(&mut header, self.date);
        put32(&mut header, 0); // CRC-32, in the data descriptor
        put32(&mut header, u32::MAX); // sizes, in the ZIP64 fields
        put32(&mut header, u32::MAX);
        put16(&mut header, name_len(name_bytes));
        put16(&mut header, 20);
        header.extend_from_slice(name_bytes);
        put16(&mut header, ZIP64_EXTRA);
        put16(&mut header, 16);
        put64(&mut header, 0);
        put64(&mut header, 0);
        let entry = Entry {
            name: name.to_owned(),
            offset: self.offset,
            crc: 0,
            size: 0,
        };
        self.offset += header.len() as u64;
        self.current = Some((entry, crc32fast::Hasher::new()));
        out.extend_from_slice(&header);
        out
    }

    /// Counts `data` into the current entry; the caller sends it as it is.
    /// Data with no entry started is a caller's error and is not counted.
    pub fn data(&mut self, data: &[u8]) {
        if let Some((entry, hasher)) = &mut self.current {
            hasher.update(data);
            entry.size += data.len() as u64;
            self.offset += data.len() as u64;
        }
    }

    fn end_entry(&mut self) -> Vec<u8> {
        let Some((mut entry, hasher)) = self.current.take() else {
            return Vec::new();
        };
        entry.crc = hasher.finalize();
        let mut out = Vec::with_capacity(24);
        put32(&mut out, DATA_DESCRIPTOR);
        put32(&mut out, entry.crc);
        put64(&mut out, entry.size);
        put64(&mut out, entry.size);
        self.offset += out.len() as u64;
        self.entries.push(entry);
        out
    }

    /// Ends the last entry and writes the central directory and the end
    /// records.
    pub fn finish(mut self) -> Vec<u8> {
        let mut out = self.end_entry();
        let directory_start = self.offset;
        let descriptor_len = out.len();

        for entry in &self.entries {
            let name = entry.name.as_bytes();
            put32(&mut out, CENTRAL_HEADER);
            put16(&mut out, MADE_BY);
            put16(&mut out, VERSION);
            put16(&mut out, FLAGS);
            put16(&mut out, 0);
            put16(&mut out, self.time);
            put16(&mut out, self.date);
            put32(&mut out, entry.crc);
            put32(&mut out, u32::MAX);
            put32(&mut out, u32::MAX);
            put16(&mut out, name_len(name));
            put16(&mut out, 28);
            put16(&mut out, 0); // comment
            put16(&mut out, 0); // disk
            put16(&mut out, 0); // internal attributes
            put32(&mut out, FILE_MODE << 16);
            put32(&mut out, u32::MAX);
            out.extend_from_slice(name);
            put16(&mut out, ZIP64_EXTRA);
            put16(&mut out, 24);
            put64(&mut out, entry.size);
            put64(&mut out, entry.size);
            put64(&mut out, entry.offset);
        }

        let directory_len = (out.len() - descriptor_len) as u64;
        let zip64_end = directory_start + directory_len;
        let count = self.entries.len() as u64;
        put32(&mut out, ZIP64_END);
        put64(&mut out, 44);
        put16(&mut out, MADE_BY);
        put16(&mut out, VERSION);
        put32(&mut out, 0);
        put32(&mut out, 0);
        put64(&mut out, count);
        put64(&mut out, count);
        put64(&mut out, directory_len);
        put64(&mut out, directory_start);

        put32(&mut out, ZIP64_LOCATOR);
        put32(&mut out, 0);
        put64(&mut out, zip64_end);
        put32(&mut out, 1);

        put32(&mut out, END);
        put16(&mut out, 0);
        put16(&mut out, 0);
        put16(&mut out, u16::MAX);
        put16(&mut out, u16::MAX);
        put32(&mut out, u32::MAX);
        put32(&mut out, u32::MAX);
        put16(&mut out, 0);
        out
    }
}

/// Returns the length field of an entry name. The server builds names
/// far shorter than the format's 65,535 bytes, so the cap only stops a
/// silent wrap.
fn name_len(name: &[u8]) -> u16 {
    u16::try_from(name.len()).unwrap_or(u16::MAX)
}

/// Returns the MS-DOS time and date of `at`, to the even second. The
/// format starts in 1980, so earlier times become 1980.
fn dos_time(at: DateTime<Utc>) -> (u16, u16) {
    let year = at.year().clamp(1980, 2107);
    let time = (at.hour() << 11) | (at.minute() << 5) | (at.second() / 2);
    let date = ((year as u32 - 1980) << 9) | (at.month() << 5) | at.day();
    (time as u16, date as u16)
}

fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn put64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(&value.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(bytes: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([bytes[at], bytes[at + 1]])
    }

    fn u32_at(bytes: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
    }

    fn u64_at(bytes: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
    }

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let at = DateTime::parse_from_rfc3339("2026-12-06T13:45:30Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut encoder = ZipEncoder::new(at);
        let mut out = Vec::new();
        for (name, data) in entries {
            out.extend(encoder.start(name));
            encoder.data(data);
            out.extend_from_slice(data);
        }
        out.extend(encoder.finish());
        out
    }

    #[test]
    fn central_directory_points_at_each_entry() {
        let out = archive(&[("export.json", b"{}"), ("files/a.txt", b"hello")]);
        let end = out.len() - 22;
        assert_eq!(u32_at(&out, end), END);
        let locator = end - 20;
        assert_eq!(u32_at(&out, locator), ZIP64_LOCATOR);
        let zip64_end = u64_at(&out, locator + 8) as usize;
        assert_eq!(u32_at(&out, zip64_end), ZIP64_END);
        // Readers find the directory from its size, counting back from
        // the end records.
        let directory_len = u64_at(&out, zip64_end + 40) as usize;
        let directory_start = u64_at(&out, zip64_end + 48) as usize;
        assert_eq!(directory_start + directory_len, zip64_end);
        assert_eq!(u64_at(&out, zip64_end + 32), 2);
        let mut at = u64_at(&out, zip64_end + 48) as usize;
        let mut found = Vec::new();
        for _ in 0..2 {
            assert_eq!(u32_at(&out, at), CENTRAL_HEADER);
            let crc = u32_at(&out, at + 16);
            let name_len = u16_at(&out, at + 28) as usize;
            let name = std::str::from_utf8(&out[at + 46..at + 46 + name_len]).unwrap();
            let extra = at + 46 + name_len;
            let size = u64_at(&out, extra + 4);
            let offset = u64_at(&out, extra + 20) as usize;
            assert_eq!(u32_at(&out, offset), LOCAL_HEADER);
            let data_start = offset + 30 + name_len + 20;
            let data = &out[data_start..data_start + size as usize];
            assert_eq!(crc, crc32fast::hash(data));
            assert_eq!(u32_at(&out, data_start + size as usize), DATA_DESCRIPTOR);
            found.push((name.to_owned(), data.to_vec()));
            at = extra + 28;
        }
        assert_eq!(
            found,
            vec![
                ("export.json".to_owned(), b"{}".to_vec()),
                ("files/a.txt".to_owned(), b"hello".to_vec()),
            ]
        );
    }

    #[test]
    fn dos_time_counts_from_1980_in_even_seconds() {
        let at = DateTime::parse_from_rfc3339("2026-12-06T13:45:31Z")
            .unwrap()
            .with_timezone(&Utc);
        let (time, date) = dos_time(at);
        assert_eq!(time, (13 << 11) | (45 << 5) | 15);
        assert_eq!(date, (46 << 9) | (12 << 5) | 6);
    }
}
