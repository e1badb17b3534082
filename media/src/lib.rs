//! Uploaded files. This crate decides a file's kind from its bytes, never
//! its name, and makes the cheap checks that come before any decoding. It
//! also cleans the name kept as metadata, builds the `Content-Disposition`
//! of a download, and stores files encrypted in sealed segments that open
//! one at a time. A media job also reads the text of PDFs for the
//! letterbox's identifying-details check. Its SFU forwards the media of
//! live calls.

pub mod blob;
pub mod container;
pub mod disposition;
pub mod filename;
pub mod header;
pub mod kind;
pub mod pool;
pub mod probe;
pub mod sfu;
pub mod text;
pub mod transcode;
pub mod worker;

/// A reason a file was rejected or could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// The bytes match no accepted kind.
    #[error(
        "unsupported file type: the content is not a PDF, JPEG, PNG, HEIC, audio or video file"
    )]
    Unsupported,
    /// The kind is known but this conversation does not accept it.
    #[error("{kind} files are not accepted here")]
    NotAllowed {
        /// The kind's display name.
        kind: &'static str,
    },
    /// The header declares more pixels than allowed.
    #[error("the picture is {width}×{height} pixels, more than the limit of {limit} pixels")]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    /// The sound or video runs longer than allowed.
    #[error("the recording runs for {seconds} s, more than the limit of {limit} s")]
    TooLong { seconds: u64, limit: u64 },
    /// The header is cut short or inconsistent.
    #[error("invalid or truncated {kind} header")]
    InvalidHeader {
        /// The kind whose header failed to parse.
        kind: &'static str,
    },
    /// FFmpeg could not read the file: it is truncated or not media.
    #[error("invalid or truncated media file: {reason}")]
    Invalid {
        /// FFmpeg's description of the failure.
        reason: String,
    },
    /// FFmpeg failed for a reason unrelated to the file's content.
    #[error("media processing failed: {0}")]
    Ffmpeg(String),
    /// Reading or writing stored data failed.
    #[error("storage failed")]
    Io(#[from] std::io::Error),
    /// A stored segment failed to open or to seal.
    #[error("stored file failed to open")]
    Crypto(#[from] kinlink_core::crypto::CryptoError),
    /// A byte range outside the file was asked for.
    #[error("range {start}-{end} is outside a file of {len} bytes")]
    RangeNotSatisfiable { start: u64, end: u64, len: u64 },
    /// Processing the file needed more memory than a media job may use.
    #[error("processing the file needs more memory than a media job may use")]
    MemoryLimit,
    /// The media job process ended without an outcome: it crashed, was
    /// killed or ran past its time limit.
    #[error("the media job stopped: {0}")]
    JobStopped(String),
    /// A failure that the media job process reported, under its code.
    #[error("{message}")]
    Reported {
        /// One of [`FAILURE_CODES`].
        code: &'static str,
        message: String,
    },
}

/// Every code [`MediaError::code`] returns.
pub const FAILURE_CODES: [&str; 8] = [
    "media.empty",
    "media.unsupported",
    "media.not_allowed",
    "media.too_many_pixels",
    "media.too_long",
    "media.invalid",
    "media.over_memory_limit",
    "media.failed",
];

impl MediaError {
    /// Returns the code shown to the uploader: a failure caused by the file
    /// names what is wrong with it, anything else is `media.failed`.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::Empty => "media.empty",
            MediaError::Unsupported => "media.unsupported",
            MediaError::NotAllowed { .. } => "media.not_allowed",
            MediaError::TooManyPixels { .. } => "media.too_many_pixels",
            MediaError::TooLong { .. } => "media.too_long",
            MediaError::InvalidHeader { .. } | MediaError::Invalid { .. } => "media.invalid",
            MediaError::MemoryLimit => "media.over_memory_limit",
            MediaError::Reported { code, .. } => code,
            MediaError::Ffmpeg(_)
            | MediaError::Io(_)
            | MediaError::Crypto(_)
            | MediaError::RangeNotSatisfiable { .. }
            | MediaError::JobStopped(_) => "media.failed",
        }
    }
}
