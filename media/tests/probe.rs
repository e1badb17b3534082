//! Probing real files made by the `ffmpeg` tool: streams chosen by type,
//! rotation read as `ffprobe` reads it, cover art distinguished from video,
//! 10-bit HLG recognised, and bad files rejected before FFmpeg decodes.

// The helpers stop the test with a reason when a tool is missing.
#![allow(clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use kinlink_media::MediaError;
use kinlink_media::container::video_dimensions;
use kinlink_media::kind::{Container, Kind, detect};
use kinlink_media::probe::probe;

use common::{ffmpeg_make, kind_of};

/// Returns the rotation `ffprobe` reports for the first video stream
/// (counter-clockwise degrees, as FFmpeg's display-matrix helpers use).
fn ffprobe_rotation(path: &Path) -> i64 {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_streams",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("the ffprobe tool runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let parsed: serde_json::Value = serde_json::from_str(&text).expect("ffprobe prints JSON");
    parsed["streams"][0]["side_data_list"]
        .as_array()
        .and_then(|list| list.iter().find_map(|item| item["rotation"].as_i64()))
        .unwrap_or(0)
}

const SHORT_VIDEO: [&str; 8] = [
    "-f",
    "lavfi",
    "-i",
    "testsrc2=size=320x240:rate=30:duration=1",
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:duration=1",
];

#[test]
fn phone_rotation_matches_ffprobe() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = SHORT_VIDEO.to_vec();
    args.extend(["-c:v", "libx264", "-c:a", "aac"]);
    let upright = ffmpeg_make(dir.path(), "landscape.mp4", &args);
    // FFmpeg 5.1 writes a display matrix from the `rotate` tag only when it
    // copies streams; 270 gives the -90° matrix of a portrait phone video.
    let upright_arg = upright.to_string_lossy().into_owned();
    let path = ffmpeg_make(
        dir.path(),
        "portrait.mp4",
        &[
            "-i",
            &upright_arg,
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=270",
        ],
    );

    let probed = probe(&path, kind_of(&path)).unwrap();
    let video = probed.video.expect("a video stream");
    assert_eq!((video.width, video.height), (320, 240));
    let from_ffprobe = ffprobe_rotation(&path);
    assert_eq!(from_ffprobe, -90, "the tool wrote a phone's display matrix");
    assert_eq!(i64::from(video.rotation), (-from_ffprobe).rem_euclid(360));
    assert_eq!(video.rotation, 90);
    assert!(probed.audio.is_some());
    assert!(!probed.cover_art);
}

#[test]
fn cover_art_is_not_video() {
    let dir = tempfile::tempdir().unwrap();
    let path = ffmpeg_make(
        dir.path(),
        "song.m4a",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=330:duration=1",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:size=64x64:duration=1",
            "-map",
            "0",
            "-map",
            "1",
            "-frames:v",
            "1",
            "-c:a",
            "aac",
            "-c:v",
            "mjpeg",
            "-disposition:v:0",
            "attached_pic",
        ],
    );
    let head = std::fs::read(&path).unwrap();
    assert_eq!(detect(&head).unwrap(), Kind::Audio(Container::IsoBmff));
    let probed = probe(&path, kind_of(&path)).unwrap();
    assert!(probed.video.is_none());
    assert!(probed.cover_art);
    assert!(probed.audio.is_some());
}

#[test]
fn video_without_audio_has_no_audio_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = ffmpeg_make(
        dir.path(),
        "silent.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=1",
            "-c:v",
            "libx264",
        ],
    );
    let probed = probe(&path, kind_of(&path)).unwrap();
    assert!(probed.video.is_some());
    assert!(probed.audio.is_none());
    let duration = probed.duration_ms.expect("a duration");
    assert!((900..=1100).contains(&duration), "{duration} ms");
}

#[test]
fn ten_bit_hlg_is_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let path = ffmpeg_make(
        dir.path(),
        "hlg.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=1",
            "-c:v",
            "libx265",
            "-x265-params",
            "log-level=error",
            "-pix_fmt",
            "yuv420p10le",
            "-color_primaries",
            "bt2020",
            "-color_trc",
            "arib-std-b67",
            "-colorspace",
            "bt2020nc",
            "-tag:v",
            "hvc1",
        ],
    );
    let video = probe(&path, kind_of(&path))
        .unwrap()
        .video
        .expect("a video stream");
    assert_eq!(video.codec, "hevc");
    assert_eq!(video.bit_depth, 10);
    assert!(video.hdr);
}

#[test]
fn declared_huge_picture_is_found_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let path = ffmpeg_make(
        dir.path(),
        "small.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=1",
            "-c:v",
            "libx264",
        ],
    );
    // Rewrite the track header to declare 16384×16384, as a hostile file
    // would.
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.windows(4).position(|w| w == b"tkhd").unwrap() - 4;
    let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let huge = (16384u32 << 16).to_be_bytes();
    bytes[at + size - 8..at + size - 4].copy_from_slice(&huge);
    bytes[at + size - 4..at + size].copy_from_slice(&huge);

    let kind = detect(&bytes).unwrap();
    let dims = video_dimensions(kind, &mut std::io::Cursor::new(&bytes))
        .unwrap()
        .unwrap();
    assert_eq!((dims.width, dims.height), (16384, 16384));
    let error = dims.check(8_294_400).unwrap_err();
    assert!(matches!(error, MediaError::TooManyPixels { .. }));
}

#[test]
fn truncated_mp4_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = SHORT_VIDEO.to_vec();
    args.extend(["-c:v", "libx264", "-c:a", "aac"]);
    let path = ffmpeg_make(dir.path(), "whole.mp4", &args);
    let bytes = std::fs::read(&path).unwrap();
    let half = &bytes[..bytes.len() / 2];
    let kind = detect(half).unwrap();
    // The index (`moov`) is written last, so half a file has none.
    let result = video_dimensions(kind, &mut std::io::Cursor::new(half));
    assert!(
        matches!(result, Err(MediaError::InvalidHeader { .. })),
        "{result:?}"
    );

    let cut = dir.path().join("cut.mp4");
    std::fs::write(&cut, half).unwrap();
    assert!(matches!(probe(&cut, kind), Err(MediaError::Invalid { .. })));
}

#[test]
fn text_renamed_as_mp4_is_not_media() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("letter.mp4");
    std::fs::write(&path, "Dear Sam, this is a letter and not a video.\n").unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert!(matches!(detect(&bytes), Err(MediaError::Unsupported)));
    // Even opened as an MP4, it is not one.
    let as_mp4 = Kind::Video(Container::IsoBmff);
    assert!(matches!(
        probe(&path, as_mp4),
        Err(MediaError::Invalid { .. })
    ));
}
