//! Still pictures: photos, their thumbnails, and video posters.
//!
//! A picture is decoded to pixels, turned upright, scaled and encoded
//! again. The encoders write only a bare JFIF or PNG header, so nothing of
//! the source's EXIF, XMP or ICC blocks survives, GPS included.

use std::path::Path;

use ffmpeg::codec;
use ffmpeg::format::Pixel;
use ffmpeg::{Packet, Rational, encoder, frame};
use ffmpeg_next as ffmpeg;

use super::av::{close, graph, push, upright};
use super::{Rendition, Role, Settings, ffmpeg_error, fit, heif};
use crate::MediaError;
use crate::kind::Kind;

/// The output formats of still pictures.
#[derive(Clone, Copy)]
enum Still {
    Jpeg,
    Png,
}

impl Still {
    fn pixel_format(self) -> (Pixel, &'static str) {
        match self {
            Still::Jpeg => (Pixel::YUVJ420P, "yuvj420p"),
            Still::Png => (Pixel::RGBA, "rgba"),
        }
    }

    fn codec(self) -> codec::Id {
        match self {
            Still::Jpeg => codec::Id::MJPEG,
            Still::Png => codec::Id::PNG,
        }
    }
}

/// Makes an image's main rendition and thumbnail. JPEG and HEIC photos
/// become JPEG; PNG stays PNG so transparency and sharp edges survive.
pub(super) fn image(
    input: &Path,
    kind: Kind,
    out_dir: &Path,
    settings: &Settings,
) -> Result<Vec<Rendition>, MediaError> {
    // libheif applies a HEIF's own rotation and mirroring as it decodes.
    let (picture, orientation) = match kind {
        Kind::Heic => (heif::decode(input)?, 1),
        _ => decode(input, kind)?,
    };
    let (still, extension, mime) = match kind {
        Kind::Png => (Still::Png, "png", "image/png"),
        _ => (Still::Jpeg, "jpg", "image/jpeg"),
    };
    // The header was checked before, but a decoder may find another size.
    let pixels = u64::from(picture.width()) * u64::from(picture.height());
    if pixels > settings.max_image_pixels {
        return Err(MediaError::TooManyPixels {
            width: picture.width(),
            height: picture.height(),
            limit: settings.max_image_pixels,
        });
    }
    let (upright_w, upright_h) = if orientation >= 5 {
        (picture.height(), picture.width())
    } else {
        (picture.width(), picture.height())
    };
    let mut renditions = Vec::with_capacity(2);
    for (role, side) in [
        (Role::Main, settings.max_image_side),
        (Role::Thumbnail, settings.thumbnail_side),
    ] {
        let (width, height) = fit(upright_w, upright_h, side, side, false);
        let scaled = filter(&picture, orientation, width, height, still)?;
        let path = out_dir.join(format!("{}.{extension}", role.as_str()));
        encode(&scaled, still, &path)?;
        renditions.push(Rendition {
            role,
            path,
            mime,
            width: Some(width),
            height: Some(height),
            duration_ms: None,
        });
    }
    Ok(renditions)
}

/// Writes a video's poster as JPEG, no larger than a thumbnail on its
/// long side; returns its size.
pub(super) fn poster(
    picture: &frame::Video,
    path: &Path,
    settings: &Settings,
) -> Result<(u32, u32), MediaError> {
    let side = settings.thumbnail_side.saturating_mul(2);
    let (width, height) = fit(picture.width(), picture.height(), side, side, false);
    let scaled = filter(picture, 1, width, height, Still::Jpeg)?;
    encode(&scaled, Still::Jpeg, path)?;
    Ok((width, height))
}

/// Decodes the first picture of a JPEG or PNG file. Returns it with its
/// EXIF orientation (1 when it has none).
fn decode(input: &Path, kind: Kind) -> Result<(frame::Video, u8), MediaError> {
    let invalid = super::read_error;
    let mut source = crate::probe::open(input, kind)?;
    let stream = source
        .streams()
        .best(ffmpeg::media::Type::Video)
        .ok_or_else(|| MediaError::Invalid {
            reason: "no picture in the file".to_owned(),
        })?;
    let index = stream.index();
    let mut decoder = codec::Context::from_parameters(stream.parameters())
        .map_err(ffmpeg_error)?
        .decoder()
        .video()
        .map_err(invalid)?;
    let mut picture = frame::Video::empty();
    loop {
        let mut packet = Packet::empty();
        match packet.read(&mut source) {
            Ok(()) if packet.stream() == index => {
                decoder.send_packet(&packet).map_err(invalid)?;
            }
            Ok(()) => continue,
            Err(ffmpeg::Error::Eof) => decoder.send_eof().map_err(ffmpeg_error)?,
            Err(error) => return Err(invalid(error)),
        }
        match decoder.receive_frame(&mut picture) {
            Ok(()) => break,
            Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {}
            Err(error) => return Err(invalid(error)),
        }
    }
    let orientation = picture
        .metadata()
        .get("Orientation")
        .and_then(|value| value.trim().parse::<u8>().ok())
        .filter(|value| (1..=8).contains(value))
        .unwrap_or(1);
    Ok((picture, orientation))
}

/// Turns, scales and converts one picture through a filter graph.
fn filter(
    picture: &frame::Video,
    orientation: u8,
    width: u32,
    height: u32,
    still: Still,
) -> Result<frame::Video, MediaError> {
    let (pixel, pixel_name) = still.pixel_format();
    let args = format!(
        "video_size={}x{}:pix_fmt={}:time_base=1/25:pixel_aspect=1/1",
        picture.width(),
        picture.height(),
        ffmpeg::ffi::AVPixelFormat::from(picture.format()) as i32,
    );
    let spec = format!(
        "{}scale={width}:{height}:flags=lanczos,format={pixel_name}",
        upright(orientation)
    );
    let mut graph = graph("buffer", &args, "buffersink", &spec)?;
    let mut input = picture.clone();
    input.set_pts(Some(0));
    push(&mut graph, &input)?;
    close(&mut graph)?;

    let mut output = frame::Video::empty();
    graph
        .get("out")
        .ok_or_else(|| MediaError::Ffmpeg("the filter graph has no output".to_owned()))?
        .sink()
        .frame(&mut output)
        .map_err(ffmpeg_error)?;
    if output.format() != pixel {
        return Err(MediaError::Ffmpeg(format!(
            "the filter graph gave {:?}, not {pixel_name}",
            output.format()
        )));
    }
    Ok(output)
}

/// Encodes one picture into a file of its own: a JPEG or PNG encoder gives
/// the whole file as one packet.
fn encode(picture: &frame::Video, still: Still, path: &Path) -> Result<(), MediaError> {
    let codec = encoder::find(still.codec())
        .ok_or_else(|| MediaError::Ffmpeg("FFmpeg lacks a still picture encoder".to_owned()))?;
    let mut encoder = codec::Context::new_with_codec(codec)
        .encoder()
        .video()
        .map_err(ffmpeg_error)?;
    encoder.set_width(picture.width());
    encoder.set_height(picture.height());
    encoder.set_format(still.pixel_format().0);
    encoder.set_time_base(Rational::new(1, 25));
    // Without this the JPEG encoder writes a comment naming its version.
    encoder.set_flags(codec::Flags::BITEXACT);
    if matches!(still, Still::Jpeg) {
        // Quantiser 2 to 3: photo quality without rate control guessing.
        encoder.set_qmin(2);
        encoder.set_qmax(3);
        encoder.set_bit_rate(100_000_000);
    }
    let mut encoder = encoder.open_as(codec).map_err(ffmpeg_error)?;
    let mut input = picture.clone();
    input.set_pts(Some(0));
    encoder.send_frame(&input).map_err(ffmpeg_error)?;
    encoder.send_eof().map_err(ffmpeg_error)?;
    let mut bytes = Vec::new();
    let mut packet = Packet::empty();
    while encoder.receive_packet(&mut packet).is_ok() {
        bytes.extend_from_slice(packet.data().unwrap_or_default());
    }
    if bytes.is_empty() {
        return Err(MediaError::Ffmpeg("the encoder gave no picture".to_owned()));
    }
    std::fs::write(path, bytes)?;
    Ok(())
}
