//! The transcoding pipeline on real files made by `scripts/make-test-media`,
//! each output checked with the `ffmpeg`, `ffprobe` and `exiftool` tools:
//! pictures upright by where the marker's pixels are, sound in step with
//! the picture, HDR brought to 8-bit SDR, loudness at the target, and no
//! location left anywhere.

// The helpers stop the test when a tool is missing or a file is unreadable.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use kinlink_media::MediaError;
use kinlink_media::kind::{Kind, detect};
use kinlink_media::transcode::{Rendition, Role, Settings, transcode};
use serde_json::Value;

use common::{ffmpeg_make, kind_of};

/// The folder of generated test media, made once per process. Its name
/// carries a hash of the script, so a changed script makes new files.
fn media(name: &str) -> PathBuf {
    static FOLDER: OnceLock<PathBuf> = OnceLock::new();
    let folder = FOLDER.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/make-test-media");
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(
            &std::fs::read(&script).expect("the script reads"),
            &mut hasher,
        );
        let folder = std::env::temp_dir().join(format!(
            "kinlink-test-media-{:016x}",
            std::hash::Hasher::finish(&hasher)
        ));
        let status = Command::new(script)
            .arg(&folder)
            .status()
            .expect("scripts/make-test-media runs");
        assert!(status.success(), "scripts/make-test-media failed");
        folder
    });
    folder.join(name)
}

fn run(name: &str) -> (tempfile::TempDir, Vec<Rendition>) {
    let input = media(name);
    let out = tempfile::tempdir().unwrap();
    let mut shares = Vec::new();
    let renditions = transcode(
        &input,
        kind_of(&input),
        out.path(),
        &Settings::default(),
        &mut |share| shares.push(share),
    )
    .unwrap_or_else(|error| panic!("{name} failed: {error}"));
    assert_eq!(shares.last(), Some(&1.0), "progress ends at 1.0 for {name}");
    assert!(
        shares.windows(2).all(|pair| pair[0] <= pair[1]),
        "progress goes backwards for {name}: {shares:?}"
    );
    (out, renditions)
}

fn role(renditions: &[Rendition], role: Role) -> &Rendition {
    renditions
        .iter()
        .find(|r| r.role == role)
        .unwrap_or_else(|| panic!("no {} rendition in {renditions:?}", role.as_str()))
}

fn ffprobe(path: &Path) -> Value {
    let output = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_streams",
            "-show_format",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("the ffprobe tool runs");
    assert!(output.status.success(), "ffprobe failed on {path:?}");
    serde_json::from_slice(&output.stdout).expect("ffprobe prints JSON")
}

fn streams<'a>(probe: &'a Value, kind: &str) -> Vec<&'a Value> {
    probe["streams"]
        .as_array()
        .expect("ffprobe lists streams")
        .iter()
        .filter(|s| s["codec_type"] == kind)
        .collect()
}

fn number(value: &Value) -> f64 {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .or_else(|| value.as_f64())
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

/// Returns the average colour of a region of the first picture, as RGB.
fn average_colour(path: &Path, x: &str, y: &str, side: u32) -> [u8; 3] {
    let filter = format!("crop={side}:{side}:{x}:{y},scale=1:1:flags=area");
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-vf",
            &filter,
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .expect("the ffmpeg tool runs");
    assert!(output.status.success(), "ffmpeg failed to sample {path:?}");
    [output.stdout[0], output.stdout[1], output.stdout[2]]
}

fn is_red([r, g, b]: [u8; 3]) -> bool {
    r > 180 && g < 80 && b < 80
}

fn is_blue([r, g, b]: [u8; 3]) -> bool {
    b > 180 && r < 80 && g < 80
}

/// Asserts that the red marker sits in the `expected` corner and the other
/// top corner is blue.
fn assert_marker_top(path: &Path, right: bool) {
    let left = average_colour(path, "0", "0", 40);
    let right_corner = average_colour(path, "iw-40", "0", 40);
    let (marker, other) = if right {
        (right_corner, left)
    } else {
        (left, right_corner)
    };
    assert!(
        is_red(marker),
        "no marker where expected in {path:?}: {marker:?}"
    );
    assert!(
        is_blue(other),
        "the other corner is not background: {other:?}"
    );
}

/// Asserts that no GPS or location tag is left, by `exiftool` and `ffprobe`.
fn assert_no_location(path: &Path) {
    let output = Command::new("exiftool")
        .args(["-a", "-G1", "-s"])
        .arg(path)
        .output()
        .expect("the exiftool tool runs");
    let text = String::from_utf8_lossy(&output.stdout).to_lowercase();
    for word in ["gps", "location", "xyz"] {
        assert!(!text.contains(word), "{word} left in {path:?}:\n{text}");
    }
    let probe = ffprobe(path);
    let mut tags = vec![&probe["format"]["tags"]];
    tags.extend(
        probe["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s["tags"]),
    );
    for found in tags.iter().filter_map(|t| t.as_object()) {
        for key in found.keys() {
            let key = key.to_lowercase();
            assert!(
                !key.contains("location") && !key.contains("gps") && !key.contains("xyz"),
                "{key} left in {path:?}"
            );
        }
    }
}

/// Asserts that `ffprobe` finds a location tag in a source, so the check
/// above can fail.
fn assert_has_location(path: &Path) {
    let probe = serde_json::to_string(&ffprobe(path)["format"]["tags"]).unwrap();
    assert!(
        probe.contains("location"),
        "no location in {path:?}: {probe}"
    );
}

fn faststart(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap();
    let find = |tag: &[u8]| bytes.windows(4).position(|w| w == tag);
    matches!((find(b"moov"), find(b"mdat")), (Some(moov), Some(mdat)) if moov < mdat)
}

#[test]
fn portrait_video_upright_h264() {
    let (_dir, renditions) = run("portrait.mov");
    let main = role(&renditions, Role::Main);
    assert_eq!(main.mime, "video/mp4");
    assert_eq!((main.width, main.height), (Some(720), Some(1280)));
    let probe = ffprobe(&main.path);
    let video = streams(&probe, "video");
    assert_eq!(video.len(), 1, "{probe}");
    assert_eq!(video[0]["codec_name"], "h264");
    assert_eq!(video[0]["pix_fmt"], "yuv420p");
    assert_eq!(
        (video[0]["width"].as_u64(), video[0]["height"].as_u64()),
        (Some(720), Some(1280))
    );
    assert!(
        video[0].get("side_data_list").is_none(),
        "a display matrix is left: {}",
        video[0]
    );
    assert_eq!(streams(&probe, "audio")[0]["codec_name"], "aac");
    assert_eq!(
        probe["streams"].as_array().unwrap().len(),
        2,
        "the timecode track was carried over"
    );
    assert!(faststart(&main.path), "the index is not at the front");
    assert!(
        probe["format"]["tags"].get("encoder").is_none(),
        "the muxer named itself: {}",
        probe["format"]
    );
    // The marker was in the stored top-left corner; a quarter turn clockwise
    // puts it top right.
    assert_marker_top(&main.path, true);
    assert_has_location(&media("portrait.mov"));
    assert_no_location(&main.path);
    let poster = role(&renditions, Role::Poster);
    assert_eq!(poster.mime, "image/jpeg");
    assert!(poster.height > poster.width, "{poster:?}");
    assert_marker_top(&poster.path, true);
}

#[test]
fn variable_rate_video_in_sync() {
    let (_dir, renditions) = run("variable-rate.mp4");
    let main = role(&renditions, Role::Main);
    let probe = ffprobe(&main.path);
    let end = |stream: &Value| number(&stream["start_time"]) + number(&stream["duration"]);
    let video_end = end(streams(&probe, "video")[0]);
    let audio_end = end(streams(&probe, "audio")[0]);
    assert!(
        (video_end - audio_end).abs() <= 0.040,
        "video ends at {video_end:.3} s, audio at {audio_end:.3} s"
    );
    let source = ffprobe(&media("variable-rate.mp4"));
    assert_eq!(
        streams(&probe, "video")[0]["nb_frames"],
        streams(&source, "video")[0]["nb_frames"],
        "frames were dropped or duplicated"
    );
}

/// Measures integrated loudness with the tool's `ebur128` filter.
fn loudness(path: &Path) -> f64 {
    let output = Command::new("ffmpeg")
        .args(["-nostats", "-hide_banner", "-i"])
        .arg(path)
        .args(["-af", "ebur128", "-f", "null", "-"])
        .output()
        .expect("the ffmpeg tool runs");
    let text = String::from_utf8_lossy(&output.stderr);
    let summary = text.rsplit("Summary:").next().unwrap_or_default();
    summary
        .lines()
        .find_map(|line| line.trim().strip_prefix("I:"))
        .and_then(|rest| rest.trim().trim_end_matches("LUFS").trim().parse().ok())
        .unwrap_or_else(|| panic!("no loudness summary:\n{text}"))
}

#[test]
fn audio_normalised_cover_art_ignored() {
    let source = loudness(&media("cover-art.m4a"));
    assert!(source < -25.0, "the source is already loud: {source}");
    let (_dir, renditions) = run("cover-art.m4a");
    assert_eq!(renditions.len(), 1, "{renditions:?}");
    let main = role(&renditions, Role::Main);
    assert_eq!(main.mime, "audio/mp4");
    let probe = ffprobe(&main.path);
    assert!(streams(&probe, "video").is_empty(), "{probe}");
    assert_eq!(streams(&probe, "audio")[0]["codec_name"], "aac");
    let level = loudness(&main.path);
    assert!((level + 16.0).abs() <= 1.0, "loudness {level} LUFS");
    assert!(faststart(&main.path));
}

#[test]
fn silent_video_has_no_audio() {
    let (_dir, renditions) = run("no-audio.mp4");
    let probe = ffprobe(&role(&renditions, Role::Main).path);
    assert!(streams(&probe, "audio").is_empty(), "{probe}");
    assert_eq!(streams(&probe, "video").len(), 1);
    role(&renditions, Role::Poster);
}

/// Mean luma of the first frame, as 8-bit.
fn mean_luma(path: &Path, filter: &str) -> f64 {
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-vf",
            filter,
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ])
        .output()
        .expect("the ffmpeg tool runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout.iter().map(|&v| f64::from(v)).sum::<f64>() / output.stdout.len() as f64
}

#[test]
fn hdr_video_tone_mapped() {
    let (_dir, renditions) = run("hlg.mp4");
    let main = role(&renditions, Role::Main);
    let probe = ffprobe(&main.path);
    let video = streams(&probe, "video")[0];
    assert_eq!(video["pix_fmt"], "yuv420p");
    assert_eq!(video["color_transfer"], "bt709");
    let reference = mean_luma(
        &media("hlg.mp4"),
        "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,\
         tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p",
    );
    let ours = mean_luma(&main.path, "null");
    let untouched = mean_luma(&media("hlg.mp4"), "format=yuv420p");
    assert!(
        (ours - reference).abs() <= 4.0,
        "mean luma {ours:.1} against the tool's SDR reference {reference:.1}"
    );
    assert!(
        (untouched - reference).abs() > 8.0,
        "the reference cannot tell tone mapping apart: {untouched:.1} against {reference:.1}"
    );
}

#[test]
fn jpeg_turned_and_stripped() {
    let (_dir, renditions) = run("photo.jpg");
    let main = role(&renditions, Role::Main);
    assert_eq!(main.mime, "image/jpeg");
    assert_eq!((main.width, main.height), (Some(900), Some(1200)));
    assert_marker_top(&main.path, true);
    assert_no_location(&main.path);
    let exif = Command::new("exiftool")
        .args(["-EXIF:all", "-s"])
        .arg(&main.path)
        .output()
        .unwrap();
    assert!(
        exif.stdout.is_empty(),
        "EXIF left: {}",
        String::from_utf8_lossy(&exif.stdout)
    );
    let all = Command::new("exiftool").arg(&main.path).output().unwrap();
    let all = String::from_utf8_lossy(&all.stdout).to_lowercase();
    assert!(!all.contains("lavc"), "the encoder named itself:\n{all}");
    let thumbnail = role(&renditions, Role::Thumbnail);
    assert_eq!((thumbnail.width, thumbnail.height), (Some(240), Some(320)));
    assert_marker_top(&thumbnail.path, true);
    assert_no_location(&thumbnail.path);
    let source = Command::new("exiftool")
        .arg(media("photo.jpg"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&source.stdout).contains("GPS"),
        "the source photo has no GPS to remove"
    );
}

#[test]
fn heic_decoded_and_stripped() {
    let (_dir, renditions) = run("photo.heic");
    let main = role(&renditions, Role::Main);
    assert_eq!(main.mime, "image/jpeg");
    assert_eq!((main.width, main.height), (Some(640), Some(480)));
    assert_marker_top(&main.path, false);
    assert_no_location(&main.path);
    assert_no_location(&role(&renditions, Role::Thumbnail).path);
}

fn rejected(bytes: &[u8], name: &str) -> MediaError {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join(name);
    std::fs::write(&input, bytes).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let kind = detect(&bytes[..bytes.len().min(4096)])
        .unwrap_or(Kind::Video(kinlink_media::kind::Container::IsoBmff));
    transcode(&input, kind, &out, &Settings::default(), &mut |_| {})
        .expect_err("a broken file was accepted")
}

#[test]
fn truncated_video_invalid() {
    // The index is at the front, so the file opens and then runs out.
    let source = std::fs::read(media("variable-rate.mp4")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(media("variable-rate.mp4"))
        .args(["-c", "copy", "-movflags", "+faststart"])
        .arg(&whole)
        .status()
        .unwrap();
    assert!(status.success());
    let front = std::fs::read(&whole).unwrap();
    for (bytes, what) in [
        (&source, "index at the end"),
        (&front, "index at the front"),
    ] {
        let error = rejected(&bytes[..bytes.len() / 2], "half.mp4");
        assert!(
            matches!(error, MediaError::Invalid { .. }),
            "{what}: {error:?}"
        );
    }
}

#[test]
fn text_as_video_invalid() {
    let error = rejected(b"this is a letter, not a video\n", "letter.mp4");
    assert!(matches!(error, MediaError::Invalid { .. }), "{error:?}");
}

/// Transcodes a file as its bytes are detected, into a folder beside it.
fn transcode_as_detected(input: &Path) -> Result<Vec<Rendition>, MediaError> {
    let out = input.with_extension("out");
    std::fs::create_dir_all(&out).unwrap();
    transcode(
        input,
        kind_of(input),
        &out,
        &Settings::default(),
        &mut |_| {},
    )
}

#[test]
fn playlist_behind_id3_rejected() {
    // An ID3 tag passes as MP3, and FFmpeg would skip it and open an HLS
    // playlist that reads another file on the server.
    let dir = tempfile::tempdir().unwrap();
    let secret = ffmpeg_make(
        dir.path(),
        "secret.ts",
        &["-f", "lavfi", "-i", "testsrc2=size=320x240:duration=2"],
    );
    let mut bytes = b"ID3\x04\x00\x00\x00\x00\x00\x10".to_vec();
    bytes.extend_from_slice(&[0; 16]);
    let playlist = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n\
         #EXTINF:2.0,\nfile://{}\n#EXT-X-ENDLIST\n",
        secret.display()
    );
    bytes.extend_from_slice(playlist.as_bytes());
    let input = dir.path().join("song.mp3");
    std::fs::write(&input, &bytes).unwrap();
    assert!(matches!(kind_of(&input), Kind::Audio(_)));
    let result = transcode_as_detected(&input);
    assert!(
        matches!(result, Err(MediaError::Invalid { .. })),
        "the playlist was opened: {result:?}"
    );
}

#[test]
fn audio_container_gives_sound_only() {
    // Ogg passes as audio, so its Theora picture must not become video.
    let dir = tempfile::tempdir().unwrap();
    let input = ffmpeg_make(
        dir.path(),
        "clip.ogg",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:duration=2",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=2",
            "-c:v",
            "libtheora",
            "-c:a",
            "libvorbis",
        ],
    );
    let renditions = transcode_as_detected(&input).unwrap();
    assert_eq!(renditions.len(), 1, "{renditions:?}");
    assert_eq!(renditions[0].mime, "audio/mp4");
    let probe = ffprobe(&renditions[0].path);
    assert!(streams(&probe, "video").is_empty(), "{probe}");
}

#[test]
fn oversized_avi_rejected_by_pixels() {
    // AVI headers are not read before FFmpeg, so the decoder's size counts.
    let dir = tempfile::tempdir().unwrap();
    let input = ffmpeg_make(
        dir.path(),
        "big.avi",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=blue:s=5000x4000",
            "-frames:v",
            "1",
            "-c:v",
            "mjpeg",
        ],
    );
    let result = transcode_as_detected(&input);
    assert!(
        matches!(
            result,
            Err(MediaError::TooManyPixels {
                width: 5000,
                height: 4000,
                ..
            })
        ),
        "{result:?}"
    );
}

#[test]
fn long_recording_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let input = ffmpeg_make(
        dir.path(),
        "long.flac",
        &["-f", "lavfi", "-i", "anullsrc=duration=12"],
    );
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let settings = Settings {
        max_duration_seconds: 10,
        ..Settings::default()
    };
    let result = transcode(&input, kind_of(&input), &out, &settings, &mut |_| {});
    assert!(
        matches!(
            result,
            Err(MediaError::TooLong {
                seconds: 12,
                limit: 10
            })
        ),
        "{result:?}"
    );
}

#[test]
fn growing_picture_rejected_by_pixels() {
    // Small frames first, then one over the limit. The probe reads only the
    // first size, so each decoded picture is checked.
    let dir = tempfile::tempdir().unwrap();
    let small = ffmpeg_make(
        dir.path(),
        "small.mjpeg",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=blue:s=320x240:r=10:d=1",
            "-c:v",
            "mjpeg",
            "-f",
            "mjpeg",
        ],
    );
    let big = ffmpeg_make(
        dir.path(),
        "big.jpg",
        &[
            "-f",
            "lavfi",
            "-i",
            "color=c=blue:s=5000x4000",
            "-frames:v",
            "1",
        ],
    );
    let mut joined = std::fs::read(&small).unwrap();
    joined.extend(std::fs::read(&big).unwrap());
    let stream = dir.path().join("joined.mjpeg");
    std::fs::write(&stream, joined).unwrap();
    let stream_arg = stream.to_string_lossy().into_owned();
    let input = ffmpeg_make(
        dir.path(),
        "growing.mkv",
        &[
            "-f",
            "mjpeg",
            "-framerate",
            "10",
            "-i",
            &stream_arg,
            "-c",
            "copy",
        ],
    );
    let result = transcode_as_detected(&input);
    assert!(
        matches!(
            result,
            Err(MediaError::TooManyPixels {
                width: 5000,
                height: 4000,
                ..
            })
        ),
        "{result:?}"
    );
}
