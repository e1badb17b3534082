//! The contents of an audio or video file, read with FFmpeg (through
//! ffmpeg-next) once the container's declared dimensions have passed the
//! pixel limit. A probe gives the streams by type, the video's size,
//! rotation and colour transfer, whether a picture is cover art, and the
//! duration.
//!
//! Streams are chosen by type, never by position, so a phone's extra
//! metadata or timecode track is ignored, and cover art in an audio file
//! (an attached picture) is not taken for video.

use std::path::Path;
use std::sync::Once;

use ffmpeg::codec::packet::side_data::Type as SideDataType;
use ffmpeg::format::stream::Disposition;
use ffmpeg::media::Type as MediaType;
use ffmpeg_next as ffmpeg;

use crate::MediaError;
use crate::kind::Kind;

/// A video stream's properties.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoStream {
    pub index: usize,
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// Clockwise degrees the picture must turn to be upright (0, 90, 180
    /// or 270), from the stream's display matrix.
    pub rotation: u32,
    /// Bits per colour component of the decoded pixel format.
    pub bit_depth: u8,
    /// True for HDR transfer functions (HLG, PQ).
    pub hdr: bool,
}

/// An audio stream's properties.
#[derive(Clone, Debug, PartialEq)]
pub struct AudioStream {
    pub index: usize,
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
}

/// The streams of a file that the pipeline uses.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// The first video stream that is not an attached picture.
    pub video: Option<VideoStream>,
    /// The first audio stream.
    pub audio: Option<AudioStream>,
    /// An attached picture (cover art) is present.
    pub cover_art: bool,
    /// Whole-file duration in milliseconds, when the container states it.
    pub duration_ms: Option<u64>,
}

/// Initialises FFmpeg once per process and silences its own logging,
/// which writes to standard error, bypasses the server's log format and
/// quotes text from inside uploaded files. Failures reach the caller as
/// errors instead.
pub fn init() -> Result<(), MediaError> {
    static INIT: Once = Once::new();
    let mut result = Ok(());
    INIT.call_once(|| {
        result = ffmpeg::init().map_err(|error| MediaError::Ffmpeg(error.to_string()));
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Quiet);
    });
    result
}

/// The decoders that may run while an audio file is opened.
const AUDIO_DECODERS: &str = "aac,aac_fixed,aac_latm,alac,mp3,mp3float,mp2,mp2float,\
    mp3adu,mp3adufloat,flac,vorbis,libvorbis,opus,libopus,ac3,ac3_fixed,eac3,amrnb,amrwb,\
    pcm_s16le,pcm_s16be,pcm_s24le,pcm_s24be,pcm_s32le,pcm_s32be,pcm_f32le,pcm_f32be,\
    pcm_f64le,pcm_u8,pcm_alaw,pcm_mulaw,adpcm_ima_wav,adpcm_ms,gsm_ms";

/// Opens a file of `kind` with FFmpeg, allowing only the demuxers of that
/// kind and only local file access.
pub fn open(path: &Path, kind: Kind) -> Result<ffmpeg::format::context::Input, MediaError> {
    init()?;
    let demuxers = kind.demuxers();
    if demuxers.is_empty() {
        return Err(MediaError::Ffmpeg(format!(
            "{} files are not opened with FFmpeg",
            kind.name()
        )));
    }
    // Opening reads stream parameters, which can decode a first picture
    // (cover art in a video file, or the first frame of a container whose
    // header the upload checks cannot read) before any pixel limit applies.
    // The media job's memory limit bounds that. For audio, only sound
    // decoders may run, so cover art and pictures in an audio container are
    // never decoded.
    let mut options = ffmpeg::Dictionary::new();
    options.set("format_whitelist", demuxers);
    if matches!(kind, Kind::Audio(_)) {
        options.set("codec_whitelist", AUDIO_DECODERS);
    }
    options.set("protocol_whitelist", "file");
    ffmpeg::format::input_with_dictionary(path, options).map_err(crate::transcode::read_error)
}

/// Probes a file on disk that was detected as `kind`. A file FFmpeg cannot
/// read (truncated, not media at all, or not of that kind) fails with
/// [`MediaError::Invalid`].
pub fn probe(path: &Path, kind: Kind) -> Result<Probe, MediaError> {
    let input = open(path, kind)?;
    let mut found = Probe {
        video: None,
        audio: None,
        cover_art: false,
        duration_ms: u64::try_from(input.duration())
            .ok()
            .map(|micros| micros / 1000),
    };
    for stream in input.streams() {
        let parameters = stream.parameters();
        match parameters.medium() {
            MediaType::Video if stream.disposition().contains(Disposition::ATTACHED_PIC) => {
                found.cover_art = true;
            }
            MediaType::Video if found.video.is_none() => {
                let context = ffmpeg::codec::Context::from_parameters(parameters)
                    .map_err(|error| MediaError::Ffmpeg(error.to_string()))?;
                let decoder = context
                    .decoder()
                    .video()
                    .map_err(|error| MediaError::Ffmpeg(error.to_string()))?;
                let rotation = stream
                    .side_data()
                    .find(|data| data.kind() == SideDataType::DisplayMatrix)
                    .map_or(0, |data| rotation_from_display_matrix(data.data()));
                let bit_depth = bit_depth_of(decoder.format().descriptor().map(|d| d.name()));
                use ffmpeg::util::color::TransferCharacteristic as Transfer;
                let hdr = matches!(
                    decoder.color_transfer_characteristic(),
                    Transfer::ARIB_STD_B67 | Transfer::SMPTE2084
                );
                found.video = Some(VideoStream {
                    index: stream.index(),
                    codec: decoder.id().name().to_owned(),
                    width: decoder.width(),
                    height: decoder.height(),
                    rotation,
                    bit_depth,
                    hdr,
                });
            }
            MediaType::Audio if found.audio.is_none() => {
                let context = ffmpeg::codec::Context::from_parameters(parameters)
                    .map_err(|error| MediaError::Ffmpeg(error.to_string()))?;
                let decoder = context
                    .decoder()
                    .audio()
                    .map_err(|error| MediaError::Ffmpeg(error.to_string()))?;
                found.audio = Some(AudioStream {
                    index: stream.index(),
                    codec: decoder.id().name().to_owned(),
                    sample_rate: decoder.rate(),
                    channels: decoder.channels(),
                });
            }
            _ => {}
        }
    }
    Ok(found)
}

/// Returns the bits per component of a pixel format from its FFmpeg name
/// (`yuv420p10le` and `p010le` are 10-bit, `yuv420p` 8-bit).
fn bit_depth_of(name: Option<&str>) -> u8 {
    let Some(name) = name else { return 8 };
    for depth in [16u8, 14, 12, 10, 9] {
        if name.contains(&format!("p{depth}")) || name.contains(&format!("p0{depth}")) {
            return depth;
        }
    }
    8
}

/// Reads the rotation from a display matrix (nine 32-bit integers, the
/// first two columns in 16.16 fixed point), as FFmpeg's
/// `av_display_rotation_get` does, and turns it into the clockwise turn
/// that makes the picture upright, rounded to a quarter turn.
pub fn rotation_from_display_matrix(matrix: &[u8]) -> u32 {
    let value = |index: usize| {
        matrix.get(index * 4..index * 4 + 4).map_or(0.0, |b| {
            f64::from(i32::from_le_bytes([b[0], b[1], b[2], b[3]])) / 65536.0
        })
    };
    let (a, b, c, d) = (value(0), value(1), value(3), value(4));
    let scale_x = a.hypot(c);
    let scale_y = b.hypot(d);
    if scale_x == 0.0 || scale_y == 0.0 {
        return 0;
    }
    // FFmpeg's counter-clockwise angle is -atan2(b, a); the picture turns
    // clockwise by the opposite.
    let counter_clockwise = -(b / scale_y).atan2(a / scale_x).to_degrees();
    let clockwise = (-counter_clockwise).rem_euclid(360.0);
    ((clockwise / 90.0).round() as u32 % 4) * 90
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(a: i32, b: i32, c: i32, d: i32) -> Vec<u8> {
        let values = [a, b, 0, c, d, 0, 0, 0, 1 << 30];
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn identity_needs_no_turn() {
        assert_eq!(rotation_from_display_matrix(&matrix(65536, 0, 0, 65536)), 0);
    }

    #[test]
    fn quarter_turns_are_recognised() {
        let one = 65536;
        let turns: Vec<u32> = [
            matrix(0, one, -one, 0),
            matrix(-one, 0, 0, -one),
            matrix(0, -one, one, 0),
        ]
        .iter()
        .map(|m| rotation_from_display_matrix(m))
        .collect();
        let mut sorted = turns.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, vec![90, 180, 270], "{turns:?}");
        assert_eq!(turns[1], 180);
    }

    #[test]
    fn bit_depth_comes_from_the_format_name() {
        assert_eq!(bit_depth_of(Some("yuv420p")), 8);
        assert_eq!(bit_depth_of(Some("yuv420p10le")), 10);
        assert_eq!(bit_depth_of(Some("p010le")), 10);
        assert_eq!(bit_depth_of(Some("yuv444p12le")), 12);
        assert_eq!(bit_depth_of(None), 8);
    }

    #[test]
    fn empty_matrix_is_no_turn() {
        assert_eq!(rotation_from_display_matrix(&[]), 0);
    }
}
