//! Turning a checked upload into the renditions a browser plays and shows.
//!
//! - Video becomes H.264 and AAC in an MP4 with the index at the front, no
//!   taller than the configured number of lines. The phone's display matrix
//!   is applied to the pixels and HDR is tone-mapped to 8-bit BT.709. The
//!   source timestamps are kept, so variable frame rate stays in sync with
//!   the sound. A poster frame goes with it.
//! - Audio becomes AAC in an M4A, its loudness brought to the target.
//! - Images are decoded and encoded again with their orientation applied,
//!   which leaves every metadata block (GPS included) behind, and get a
//!   thumbnail. HEIC goes through libheif.
//! - A PDF is served as uploaded. Its text, when it has any, becomes a
//!   text rendition for the letterbox's identifying-details check (see
//!   [`crate::text`]).
//!
//! Nothing read from the source's metadata is written to an output: each
//! output is made from decoded pixels and samples only.

mod av;
mod heif;
mod still;

use std::path::{Path, PathBuf};

use crate::MediaError;
use crate::kind::{Category, Kind};
use crate::probe::{self, Probe};

/// Settings for the outputs.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// Maximum lines (the shorter side) of an output video.
    pub max_video_lines: u32,
    /// Maximum pixels (width × height) of a decoded still picture.
    pub max_image_pixels: u64,
    /// Maximum duration of audio and video, in seconds: a small file of
    /// silence can otherwise cost hours of work and output.
    pub max_duration_seconds: u64,
    /// Maximum pixels (width × height) of an input video, as its decoder
    /// reports them. Containers whose headers the upload checks cannot read
    /// are held to the limit here.
    pub max_video_pixels: u64,
    /// Maximum long side of an output image.
    pub max_image_side: u32,
    /// Maximum long side of a thumbnail, in pixels. Posters get twice this.
    pub thumbnail_side: u32,
    /// Threads each decoder and encoder may use.
    pub threads: usize,
    /// The libx264 preset.
    pub x264_preset: String,
    /// The libx264 constant rate factor.
    pub x264_crf: u8,
    /// Maximum bytes of text kept from a document. The rest of a longer
    /// text is not read.
    pub max_text_bytes: usize,
    /// AAC bit rate per output, in bits per second.
    pub audio_bit_rate: usize,
    /// Integrated loudness of audio files, in LUFS.
    pub loudness_target: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_video_lines: 720,
            max_video_pixels: 16_777_216,
            max_image_pixels: 64_000_000,
            max_duration_seconds: 3 * 60 * 60,
            max_image_side: 4096,
            thumbnail_side: 320,
            threads: 2,
            x264_preset: "veryfast".to_owned(),
            x264_crf: 23,
            max_text_bytes: 1024 * 1024,
            audio_bit_rate: 128_000,
            loudness_target: -16.0,
        }
    }
}

/// The purpose of an output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The file shown or played in place of the original.
    Main,
    /// A still from a video.
    Poster,
    /// A small version of an image.
    Thumbnail,
    /// The whole text of a document, for checks only: never served.
    Text,
    /// The start of a document's text, when the rest could not be read
    /// (see [`crate::text::Extracted::complete`]); for checks only.
    PartialText,
}

impl Role {
    /// Returns the stored and published name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Main => "main",
            Role::Poster => "poster",
            Role::Thumbnail => "thumbnail",
            Role::Text => "text",
            Role::PartialText => "partial_text",
        }
    }
}

/// One file the pipeline wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct Rendition {
    pub role: Role,
    pub path: PathBuf,
    /// The media type it is served with.
    pub mime: &'static str,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: Option<u64>,
}

/// FFmpeg and libheif, initialised. libheif can load plugins as it starts,
/// so a media job loads both before its sandbox closes the file system,
/// and keeps this value until it ends.
pub struct Libraries {
    _heif: libheif_rs::LibHeif,
}

impl Libraries {
    /// Initialises both libraries.
    pub fn load() -> Result<Libraries, MediaError> {
        probe::init()?;
        Ok(Libraries {
            _heif: libheif_rs::LibHeif::new(),
        })
    }
}

/// Makes the renditions of `input`, a file already detected as `kind`,
/// in `out_dir`. `progress` receives the share done, from 0.0 to 1.0, as
/// work goes on. A PDF gets at most a text rendition: it is served as
/// uploaded.
pub fn transcode(
    input: &Path,
    kind: Kind,
    out_dir: &Path,
    settings: &Settings,
    progress: &mut dyn FnMut(f32),
) -> Result<Vec<Rendition>, MediaError> {
    probe::init()?;
    let renditions = match kind.category() {
        Category::Document => crate::text::pdf_text(input, out_dir, settings.max_text_bytes)?,
        Category::Image => still::image(input, kind, out_dir, settings)?,
        Category::Audio | Category::Video => {
            let mut found = probe::probe(input, kind)?;
            if kind.category() == Category::Audio {
                // A file that passed as audio gives sound only, so a
                // conversation that accepts audio alone never shows video.
                found.video = None;
            }
            if let Some(video) = &found.video {
                let pixels = u64::from(video.width) * u64::from(video.height);
                if pixels > settings.max_video_pixels {
                    return Err(MediaError::TooManyPixels {
                        width: video.width,
                        height: video.height,
                        limit: settings.max_video_pixels,
                    });
                }
            }
            let seconds = found.duration_ms.unwrap_or(0) / 1000;
            if seconds > settings.max_duration_seconds {
                return Err(MediaError::TooLong {
                    seconds,
                    limit: settings.max_duration_seconds,
                });
            }
            media(input, kind, &found, out_dir, settings, progress)?
        }
    };
    progress(1.0);
    Ok(renditions)
}

fn media(
    input: &Path,
    kind: Kind,
    found: &Probe,
    out_dir: &Path,
    settings: &Settings,
    progress: &mut dyn FnMut(f32),
) -> Result<Vec<Rendition>, MediaError> {
    if found.video.is_none() && found.audio.is_none() {
        return Err(MediaError::Invalid {
            reason: "the file contains no audio or video stream".to_owned(),
        });
    }
    let main = out_dir.join(if found.video.is_some() {
        "main.mp4"
    } else {
        "main.m4a"
    });
    let written = av::transcode(input, kind, found, &main, settings, progress)?;
    let mut renditions = vec![Rendition {
        role: Role::Main,
        mime: if written.video.is_some() {
            "video/mp4"
        } else {
            "audio/mp4"
        },
        path: main,
        width: written.video.map(|(width, _)| width),
        height: written.video.map(|(_, height)| height),
        duration_ms: Some(written.duration_ms),
    }];
    if let Some(frame) = written.poster {
        let path = out_dir.join("poster.jpg");
        let (width, height) = still::poster(&frame, &path, settings)?;
        renditions.push(Rendition {
            role: Role::Poster,
            path,
            mime: "image/jpeg",
            width: Some(width),
            height: Some(height),
            duration_ms: None,
        });
    }
    Ok(renditions)
}

/// Returns the size that fits `width`×`height` inside `box_long`×`box_short`
/// (long side, short side) keeping the aspect ratio, never enlarging, with
/// both sides rounded down to even numbers when `even` is set.
pub(crate) fn fit(width: u32, height: u32, long: u32, short: u32, even: bool) -> (u32, u32) {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let (limit_w, limit_h) = if width >= height {
        (f64::from(long), f64::from(short))
    } else {
        (f64::from(short), f64::from(long))
    };
    let scale = (limit_w / w).min(limit_h / h).min(1.0);
    let round = |value: f64| {
        let value = (value * scale).round().max(2.0) as u32;
        if even { value & !1 } else { value }
    };
    (round(w), round(h))
}

/// Maps an FFmpeg error outside reading the file: ours, unless memory ran
/// out, which the file's demands caused.
pub(crate) fn ffmpeg_error(error: ffmpeg_next::Error) -> MediaError {
    if out_of_memory(error) {
        return MediaError::MemoryLimit;
    }
    MediaError::Ffmpeg(error.to_string())
}

/// Maps an FFmpeg error while reading or decoding the file: the file's
/// fault, whether it is cut short, not media, or needs too much memory.
pub(crate) fn read_error(error: ffmpeg_next::Error) -> MediaError {
    if out_of_memory(error) {
        return MediaError::MemoryLimit;
    }
    MediaError::Invalid {
        reason: error.to_string(),
    }
}

fn out_of_memory(error: ffmpeg_next::Error) -> bool {
    error
        == ffmpeg_next::Error::Other {
            errno: ffmpeg_next::error::ENOMEM,
        }
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn fit_keeps_small_pictures() {
        assert_eq!(fit(640, 360, 1280, 720, true), (640, 360));
    }

    #[test]
    fn fit_limits_the_short_side_of_portrait_video() {
        assert_eq!(fit(1080, 1920, 1280, 720, true), (720, 1280));
        assert_eq!(fit(1920, 1080, 1280, 720, true), (1280, 720));
    }

    #[test]
    fn fit_rounds_to_even_sides_when_asked() {
        assert_eq!(fit(641, 361, 1280, 720, true), (640, 360));
        assert_eq!(fit(641, 361, 1280, 720, false), (641, 361));
    }

    #[test]
    fn fit_limits_wide_pictures_by_their_long_side() {
        assert_eq!(fit(4000, 1000, 1280, 720, true), (1280, 320));
        assert_eq!(fit(8000, 6000, 320, 320, false), (320, 240));
    }
}
