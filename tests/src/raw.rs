//! A WebSocket client that writes frames byte by byte, for tests of what a
//! well-behaved library would never send.

use anyhow::Context;
use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Text frame opcode.
pub const TEXT: u8 = 0x1;
/// Continuation frame opcode.
pub const CONTINUATION: u8 = 0x0;
/// Close frame opcode.
pub const CLOSE: u8 = 0x8;

/// A raw, already upgraded connection.
pub struct RawSocket {
    pub stream: TcpStream,
}

/// The reading half of a split connection.
pub struct RawReader {
    stream: tokio::net::tcp::OwnedReadHalf,
}

/// The writing half of a split connection.
pub struct RawWriter {
    stream: tokio::net::tcp::OwnedWriteHalf,
}

impl RawWriter {
    /// Writes one masked frame.
    pub async fn frame(&mut self, fin: bool, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
        let bytes = encode(fin, opcode, payload.len() as u64, payload);
        self.stream.write_all(&bytes).await
    }
}

impl RawReader {
    /// Reads frames until a close frame or the end of the connection.
    pub async fn read_until_close(&mut self) -> anyhow::Result<(Option<u16>, Vec<String>)> {
        read_until_close(&mut self.stream).await
    }
}

impl RawSocket {
    /// Opens a TCP connection and performs the upgrade handshake.
    pub async fn connect(address: &str, token: &str) -> anyhow::Result<Self> {
        let host = address.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).await?;
        let key = base64::engine::general_purpose::STANDARD.encode(uuid::Uuid::new_v4().as_bytes());
        let request = format!(
            "GET /api/v1/ws HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {address}\r\n\
             Cookie: kinlink_session={token}\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        let mut byte = [0u8; 1];
        while !response.ends_with(b"\r\n\r\n") {
            let read = stream.read(&mut byte).await?;
            anyhow::ensure!(read == 1, "connection closed during the handshake");
            response.push(byte[0]);
            anyhow::ensure!(response.len() < 8192, "handshake response too long");
        }
        let head = String::from_utf8_lossy(&response);
        anyhow::ensure!(head.starts_with("HTTP/1.1 101"), "upgrade refused: {head}");
        Ok(Self { stream })
    }

    /// Splits the connection so one task can write while another reads.
    pub fn split(self) -> (RawReader, RawWriter) {
        let (read, write) = self.stream.into_split();
        (RawReader { stream: read }, RawWriter { stream: write })
    }

    /// Writes one masked frame header and payload.
    pub async fn frame(&mut self, fin: bool, opcode: u8, payload: &[u8]) -> std::io::Result<()> {
        let bytes = encode(fin, opcode, payload.len() as u64, payload);
        self.stream.write_all(&bytes).await
    }

    /// Writes only a frame header that declares `length` bytes.
    pub async fn header_only(&mut self, opcode: u8, length: u64) -> std::io::Result<()> {
        let mut bytes = encode(true, opcode, length, &[]);
        bytes.truncate(header_len(length));
        self.stream.write_all(&bytes).await
    }

    /// Reads frames until a close frame arrives or the connection ends;
    /// returns the close code, if one came, and the text frames before it.
    pub async fn read_until_close(&mut self) -> anyhow::Result<(Option<u16>, Vec<String>)> {
        read_until_close(&mut self.stream).await
    }
}

async fn read_until_close(
    stream: &mut (impl AsyncReadExt + Unpin),
) -> anyhow::Result<(Option<u16>, Vec<String>)> {
    {
        let mut texts = Vec::new();
        loop {
            let mut head = [0u8; 2];
            if stream.read_exact(&mut head).await.is_err() {
                return Ok((None, texts));
            }
            let opcode = head[0] & 0x0f;
            let mut length = u64::from(head[1] & 0x7f);
            if length == 126 {
                let mut extended = [0u8; 2];
                stream.read_exact(&mut extended).await?;
                length = u64::from(u16::from_be_bytes(extended));
            } else if length == 127 {
                let mut extended = [0u8; 8];
                stream.read_exact(&mut extended).await?;
                length = u64::from_be_bytes(extended);
            }
            let mut payload = vec![0u8; usize::try_from(length).context("frame length")?];
            stream.read_exact(&mut payload).await?;
            match opcode {
                CLOSE => {
                    let code =
                        (payload.len() >= 2).then(|| u16::from_be_bytes([payload[0], payload[1]]));
                    return Ok((code, texts));
                }
                TEXT => texts.push(String::from_utf8_lossy(&payload).into_owned()),
                _ => {}
            }
        }
    }
}

fn header_len(length: u64) -> usize {
    let extended = if length < 126 {
        0
    } else if length <= u64::from(u16::MAX) {
        2
    } else {
        8
    };
    2 + extended + 4
}

fn encode(fin: bool, opcode: u8, length: u64, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(header_len(length) + payload.len());
    bytes.push(if fin { 0x80 } else { 0 } | opcode);
    if length < 126 {
        bytes.push(0x80 | length as u8);
    } else if length <= u64::from(u16::MAX) {
        bytes.push(0x80 | 126);
        bytes.extend_from_slice(&(length as u16).to_be_bytes());
    } else {
        bytes.push(0x80 | 127);
        bytes.extend_from_slice(&length.to_be_bytes());
    }
    let mask = [0x5a, 0x17, 0xc3, 0x9e];
    bytes.extend_from_slice(&mask);
    bytes.extend(
        payload
            .iter()
            .enumerate()
            .map(|(index, byte)| byte ^ mask[index % 4]),
    );
    bytes
}
