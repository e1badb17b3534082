//! Reads WebSocket frame headers as the bytes arrive, so a frame that
//! declares more than the limit is refused at its header.
//!
//! actix-http's decoder reports an oversized frame only once the whole
//! declared payload has arrived, so a client could hold a connection open
//! by declaring 1 MiB and sending nothing. This guard sits between the
//! request payload and the decoder, and fails the stream as soon as such a
//! header is complete.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use futures_util::Stream;

/// The guard's position in the client's byte stream.
enum Position {
    /// Collecting a frame header, with the bytes seen so far.
    Header(Vec<u8>),
    /// Inside a payload with this many bytes left.
    Payload(u64),
}

/// A payload stream that fails with `PayloadError::Overflow` at the header
/// of any frame longer than `max_frame`.
pub struct FrameGuard<S> {
    inner: S,
    max_frame: u64,
    position: Position,
    failed: bool,
}

impl<S> FrameGuard<S> {
    /// Wraps a client-to-server WebSocket byte stream.
    pub fn new(inner: S, max_frame: usize) -> Self {
        Self {
            inner,
            max_frame: max_frame as u64,
            position: Position::Header(Vec::new()),
            failed: false,
        }
    }

    /// Advances over one chunk; returns false when a header declares too
    /// much.
    fn scan(&mut self, mut chunk: &[u8]) -> bool {
        while !chunk.is_empty() {
            match &mut self.position {
                Position::Payload(left) => {
                    let step = (*left).min(chunk.len() as u64);
                    *left -= step;
                    chunk = &chunk[step as usize..];
                    if *left == 0 {
                        self.position = Position::Header(Vec::new());
                    }
                }
                Position::Header(seen) => {
                    seen.push(chunk[0]);
                    chunk = &chunk[1..];
                    if let Some(length) = declared_length(seen) {
                        if length > self.max_frame {
                            return false;
                        }
                        self.position = if length == 0 {
                            Position::Header(Vec::new())
                        } else {
                            Position::Payload(length)
                        };
                    }
                }
            }
        }
        true
    }
}

/// Returns the payload length once `header` holds a complete header
/// (including its masking key), or `None` while more bytes are needed.
fn declared_length(header: &[u8]) -> Option<u64> {
    if header.len() < 2 {
        return None;
    }
    let masked = header[1] & 0x80 != 0;
    let short = u64::from(header[1] & 0x7f);
    let extended = match short {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let needed = 2 + extended + if masked { 4 } else { 0 };
    if header.len() < needed {
        return None;
    }
    Some(match extended {
        2 => u64::from(u16::from_be_bytes([header[2], header[3]])),
        8 => {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&header[2..10]);
            u64::from_be_bytes(bytes)
        }
        _ => short,
    })
}

impl<S> Stream for FrameGuard<S>
where
    S: Stream<Item = Result<Bytes, PayloadError>> + Unpin,
{
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.failed {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                if this.scan(&chunk) {
                    Poll::Ready(Some(Ok(chunk)))
                } else {
                    this.failed = true;
                    Poll::Ready(Some(Err(PayloadError::Overflow)))
                }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(length: u64) -> Vec<u8> {
        let mut bytes = vec![0x81];
        if length < 126 {
            bytes.push(0x80 | length as u8);
        } else if length <= 65535 {
            bytes.push(0x80 | 126);
            bytes.extend_from_slice(&(length as u16).to_be_bytes());
        } else {
            bytes.push(0x80 | 127);
            bytes.extend_from_slice(&length.to_be_bytes());
        }
        bytes.extend_from_slice(&[1, 2, 3, 4]);
        bytes
    }

    #[test]
    fn passes_frames_within_limit() {
        let mut guard = FrameGuard::new((), 100);
        let mut stream = header(5);
        stream.extend_from_slice(b"hello");
        stream.extend(header(100));
        stream.extend(vec![0; 100]);
        assert!(guard.scan(&stream));
    }

    #[test]
    fn refuses_large_header_before_payload() {
        let mut guard = FrameGuard::new((), 64 * 1024);
        assert!(!guard.scan(&header(1024 * 1024)));
    }

    #[test]
    fn finds_headers_split_across_chunks() {
        let mut guard = FrameGuard::new((), 1000);
        let mut stream = header(3);
        stream.extend_from_slice(b"abc");
        stream.extend(header(70_000));
        let (first, second) = stream.split_at(9);
        assert!(guard.scan(first));
        assert!(!guard.scan(second));
    }
}
