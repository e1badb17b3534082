//! HEIC photos, decoded by libheif. Debian 12's FFmpeg cannot assemble the
//! tiled pictures that phones write, so HEIC never goes through FFmpeg's
//! demuxer. The decoded pixels then take the same path as any other photo.

use std::path::Path;

use ffmpeg::format::Pixel;
use ffmpeg::frame;
use ffmpeg_next as ffmpeg;
use libheif_rs::{ColorSpace, HeifContext, LibHeif, RgbChroma};

use crate::MediaError;

fn invalid(error: libheif_rs::HeifError) -> MediaError {
    if matches!(error.code, libheif_rs::HeifErrorCode::MemoryAllocationError) {
        return MediaError::MemoryLimit;
    }
    MediaError::Invalid {
        reason: format!("HEIF: {}", error.message),
    }
}

/// Decodes the primary picture of a HEIF file to RGB, with the file's own
/// rotation and mirroring already applied by libheif.
pub(super) fn decode(input: &Path) -> Result<frame::Video, MediaError> {
    let name = input.to_str().ok_or_else(|| MediaError::Invalid {
        reason: "the working path is not UTF-8".to_owned(),
    })?;
    let library = LibHeif::new();
    let context = HeifContext::read_from_file(name).map_err(invalid)?;
    let handle = context.primary_image_handle().map_err(invalid)?;
    // The pixel limit is checked from the `ispe` box before this, and again
    // on the decoded picture after it, but libheif 1.15 decodes the stream
    // at its coded size whatever `ispe` declares. The media job's memory
    // limit is what bounds this call.
    let image = library
        .decode(&handle, ColorSpace::Rgb(RgbChroma::Rgb), None)
        .map_err(invalid)?;
    let planes = image.planes();
    let plane = planes.interleaved.ok_or_else(|| MediaError::Invalid {
        reason: "HEIF: the picture decoded without pixels".to_owned(),
    })?;
    let mut picture = frame::Video::new(Pixel::RGB24, plane.width, plane.height);
    let row = plane.width as usize * 3;
    let stride = picture.stride(0);
    let target = picture.data_mut(0);
    for y in 0..plane.height as usize {
        let from = plane
            .data
            .get(y * plane.stride..y * plane.stride + row)
            .ok_or_else(|| MediaError::Invalid {
                reason: "HEIF: a row of pixels is missing".to_owned(),
            })?;
        let to = target
            .get_mut(y * stride..y * stride + row)
            .ok_or_else(|| MediaError::Ffmpeg("the picture buffer is too small".to_owned()))?;
        to.copy_from_slice(from);
    }
    Ok(picture)
}
