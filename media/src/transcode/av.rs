//! The audio and video pipeline: demux, decode, filter, encode, mux.
//!
//! Frames keep the timestamps the source gave them all the way to the
//! muxer, so a variable-frame-rate phone clip stays in step with its
//! sound. Streams are picked by the probe, by type; every other stream
//! (timecode, phone metadata, cover art) is read past and dropped.

use std::path::Path;

use ffmpeg::codec::{self, threading};
use ffmpeg::format::{self, Pixel, Sample};
use ffmpeg::util::color;
use ffmpeg::{
    ChannelLayout, Dictionary, Packet, Rational, Rescale, decoder, encoder, filter, frame,
};
use ffmpeg_next as ffmpeg;

use super::{Settings, ffmpeg_error, fit};
use crate::MediaError;
use crate::kind::Kind;
use crate::probe::{self, AudioStream, Probe, VideoStream};

/// The outputs of [`transcode`].
pub(crate) struct Written {
    /// The output picture's size, when there is video.
    pub video: Option<(u32, u32)>,
    pub duration_ms: u64,
    /// A frame for the poster, already turned upright and scaled.
    pub poster: Option<frame::Video>,
}

/// Decodes `input` and writes `output` as MP4 (video) or M4A (audio only).
pub(crate) fn transcode(
    input: &Path,
    kind: Kind,
    found: &Probe,
    output: &Path,
    settings: &Settings,
    progress: &mut dyn FnMut(f32),
) -> Result<Written, MediaError> {
    let audio_only = found.video.is_none();
    // An audio file is measured first so one gain brings it to the target.
    let gain_db = match (&found.audio, audio_only) {
        (Some(audio), true) => Some(loudness_gain(input, kind, audio, settings)?),
        _ => None,
    };
    let mut source = probe::open(input, kind)?;
    let duration_s = found.duration_ms.map(|ms| ms as f64 / 1000.0);
    let mut sink = format::output_as(output, "mp4").map_err(ffmpeg_error)?;
    let global_header = sink.format().flags().contains(format::Flags::GLOBAL_HEADER);

    let mut video = match &found.video {
        Some(stream) => Some(VideoLane::new(
            &source,
            stream,
            &mut sink,
            settings,
            global_header,
        )?),
        None => None,
    };
    let mut audio = match &found.audio {
        Some(stream) => Some(AudioLane::new(
            &source,
            stream,
            &mut sink,
            settings,
            global_header,
            gain_db,
        )?),
        None => None,
    };
    let mut options = Dictionary::new();
    options.set("movflags", "+faststart");
    // Leaves out the tag that names the muxer's version.
    options.set("fflags", "+bitexact");
    sink.write_header_with(options).map_err(ffmpeg_error)?;
    if let Some(lane) = video.as_mut() {
        lane.track.header_written(&sink);
    }
    if let Some(lane) = audio.as_mut() {
        lane.track.header_written(&sink);
    }

    let mut reported = 0.0f32;
    let mut reached_s = 0.0f64;
    loop {
        let mut packet = Packet::empty();
        match packet.read(&mut source) {
            Ok(()) => {}
            Err(ffmpeg::Error::Eof) => break,
            // A demuxer resyncs past a corrupt packet.
            Err(ffmpeg::Error::InvalidData) => continue,
            Err(error) => return Err(invalid(error)),
        }
        let index = packet.stream();
        let at = if let Some(lane) = video.as_mut().filter(|lane| lane.in_index == index) {
            lane.decode(&packet, &mut sink)?
        } else if let Some(lane) = audio.as_mut().filter(|lane| lane.in_index == index) {
            lane.decode(&packet, &mut sink)?
        } else {
            None
        };
        reached_s = reached_s.max(at.unwrap_or(0.0));
        // A container may understate its duration, so the decoded time
        // counts too.
        let limit = settings.max_duration_seconds;
        if reached_s > limit as f64 + 1.0 {
            return Err(MediaError::TooLong {
                seconds: reached_s as u64,
                limit,
            });
        }
        if let Some(total) = duration_s.filter(|total| *total > 0.0) {
            let share = (reached_s / total).clamp(0.0, 0.99) as f32;
            if share - reported >= 0.01 {
                reported = share;
                progress(share);
            }
        }
    }
    let mut poster = None;
    let mut size = None;
    if let Some(lane) = video.as_mut() {
        lane.finish(&mut sink)?;
        if lane.frames == 0 {
            return Err(MediaError::Invalid {
                reason: "no picture could be decoded".to_owned(),
            });
        }
        poster = lane.poster.take();
        size = Some((lane.width, lane.height));
    }
    if let Some(lane) = audio.as_mut() {
        lane.finish(&mut sink)?;
        if lane.frames == 0 && video.is_none() {
            return Err(MediaError::Invalid {
                reason: "no sound could be decoded".to_owned(),
            });
        }
    }
    sink.write_trailer().map_err(ffmpeg_error)?;
    // A file whose index promises far more than could be read was cut short.
    if let Some(total) = duration_s.filter(|total| *total > 2.0 && reached_s < total / 2.0) {
        return Err(MediaError::Invalid {
            reason: format!("the file ends after {reached_s:.1} s of the {total:.1} s it declares"),
        });
    }
    Ok(Written {
        video: size,
        duration_ms: (reached_s * 1000.0).round() as u64,
        poster,
    })
}

fn invalid(error: ffmpeg::Error) -> MediaError {
    super::read_error(error)
}

fn lost(end: &str) -> MediaError {
    MediaError::Ffmpeg(format!("the filter graph has no {end}"))
}

fn rational(value: Rational) -> String {
    format!("{}/{}", value.numerator(), value.denominator().max(1))
}

fn seconds(pts: i64, time_base: Rational) -> f64 {
    pts as f64 * f64::from(time_base.numerator()) / f64::from(time_base.denominator().max(1))
}

fn threading(settings: &Settings) -> threading::Config {
    threading::Config {
        kind: threading::Type::Frame,
        count: settings.threads,
        ..Default::default()
    }
}

/// An output stream: where an encoder's packets go and how their times
/// convert.
struct Track {
    index: usize,
    encoder_time_base: Rational,
    /// The muxer's time base, known once the header is written.
    muxer_time_base: Rational,
    /// One frame (a picture at the average rate, or one AAC frame), in the
    /// encoder's time base.
    frame_duration: i64,
}

impl Track {
    fn new(index: usize, encoder_time_base: Rational, frame_duration: i64) -> Self {
        Track {
            index,
            encoder_time_base,
            muxer_time_base: encoder_time_base,
            frame_duration,
        }
    }

    /// Reads the time base the muxer chose for this stream.
    fn header_written(&mut self, sink: &format::context::Output) {
        if let Some(stream) = sink.stream(self.index) {
            self.muxer_time_base = stream.time_base();
        }
    }

    /// Writes every packet the encoder has ready.
    fn drain(
        &self,
        encoder: &mut encoder::Encoder,
        sink: &mut format::context::Output,
    ) -> Result<(), MediaError> {
        let mut packet = Packet::empty();
        while encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(self.index);
            // The muxer sizes the last sample from its duration, so a packet
            // without one would end the picture a frame early.
            if packet.duration() == 0 {
                packet.set_duration(self.frame_duration);
            }
            packet.rescale_ts(self.encoder_time_base, self.muxer_time_base);
            packet.write_interleaved(sink).map_err(ffmpeg_error)?;
        }
        Ok(())
    }

    /// Sends the end of the stream to the encoder and writes what is left.
    fn finish(
        &self,
        encoder: &mut encoder::Encoder,
        sink: &mut format::context::Output,
    ) -> Result<(), MediaError> {
        encoder.send_eof().map_err(ffmpeg_error)?;
        self.drain(encoder, sink)
    }
}

/// Passes a decoded frame into a graph's `in` source.
pub(crate) fn push(graph: &mut filter::Graph, frame: &frame::Frame) -> Result<(), MediaError> {
    graph
        .get("in")
        .ok_or_else(|| lost("input"))?
        .source()
        .add(frame)
        .map_err(ffmpeg_error)
}

/// Tells a graph's `in` source that no more frames come.
pub(crate) fn close(graph: &mut filter::Graph) -> Result<(), MediaError> {
    graph
        .get("in")
        .ok_or_else(|| lost("input"))?
        .source()
        .flush()
        .map_err(ffmpeg_error)
}

/// Builds a one-input, one-output filter graph from `spec`.
pub(crate) fn graph(
    source_name: &str,
    source_args: &str,
    sink_name: &str,
    spec: &str,
) -> Result<filter::Graph, MediaError> {
    let mut graph = filter::Graph::new();
    let source = filter::find(source_name)
        .ok_or_else(|| MediaError::Ffmpeg(format!("FFmpeg lacks the {source_name} filter")))?;
    let sink = filter::find(sink_name)
        .ok_or_else(|| MediaError::Ffmpeg(format!("FFmpeg lacks the {sink_name} filter")))?;
    graph
        .add(&source, "in", source_args)
        .map_err(ffmpeg_error)?;
    graph.add(&sink, "out", "").map_err(ffmpeg_error)?;
    graph
        .output("in", 0)
        .and_then(|parser| parser.input("out", 0))
        .and_then(|parser| parser.parse(spec))
        .map_err(|error| MediaError::Ffmpeg(format!("filter graph `{spec}`: {error}")))?;
    graph.validate().map_err(ffmpeg_error)?;
    Ok(graph)
}

/// Returns the filters that apply an EXIF orientation (1 to 8) to a picture.
pub(crate) fn upright(orientation: u8) -> &'static str {
    match orientation {
        2 => "hflip,",
        3 => "hflip,vflip,",
        4 => "vflip,",
        5 => "transpose=cclock_flip,",
        6 => "transpose=clock,",
        7 => "transpose=clock_flip,",
        8 => "transpose=cclock,",
        _ => "",
    }
}

/// Returns the EXIF orientation of a clockwise quarter turn.
pub(crate) fn orientation_of_turn(turn: u32) -> u8 {
    match turn {
        90 => 6,
        180 => 3,
        270 => 8,
        _ => 1,
    }
}

struct VideoLane {
    in_index: usize,
    in_time_base: Rational,
    decoder: decoder::Video,
    graph: filter::Graph,
    encoder: encoder::Video,
    track: Track,
    /// Maximum pixels of a decoded picture.
    max_pixels: u64,
    width: u32,
    height: u32,
    frames: u64,
    poster: Option<frame::Video>,
    poster_at: f64,
}

impl VideoLane {
    fn new(
        source: &format::context::Input,
        stream: &VideoStream,
        sink: &mut format::context::Output,
        settings: &Settings,
        global_header: bool,
    ) -> Result<Self, MediaError> {
        let input = source
            .stream(stream.index)
            .ok_or_else(|| MediaError::Ffmpeg("the probed video stream is gone".to_owned()))?;
        let in_time_base = input.time_base();
        let mut context = codec::Context::from_parameters(input.parameters()).map_err(invalid)?;
        context.set_threading(threading(settings));
        let decoder = context.decoder().video().map_err(invalid)?;
        if decoder.format() == Pixel::None || decoder.width() == 0 || decoder.height() == 0 {
            return Err(MediaError::Invalid {
                reason: "the picture's format or size is unknown".to_owned(),
            });
        }

        let (upright_w, upright_h) = if stream.rotation % 180 == 90 {
            (stream.height, stream.width)
        } else {
            (stream.width, stream.height)
        };
        let short = settings.max_video_lines;
        let long = short.saturating_mul(16) / 9;
        let (width, height) = fit(upright_w, upright_h, long, short, true);
        let aspect = decoder.aspect_ratio();
        let aspect = if aspect.numerator() > 0 {
            aspect
        } else {
            Rational::new(1, 1)
        };
        let args = format!(
            "video_size={}x{}:pix_fmt={}:time_base={}:pixel_aspect={}",
            decoder.width(),
            decoder.height(),
            ffmpeg::ffi::AVPixelFormat::from(decoder.format()) as i32,
            rational(in_time_base),
            rational(aspect),
        );
        let tone_map = if stream.hdr {
            "zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,\
             tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p,"
        } else {
            ""
        };
        let spec = format!(
            "{}{tone_map}scale={width}:{height}:flags=bicubic,setsar=1,format=yuv420p",
            upright(orientation_of_turn(stream.rotation))
        );
        let mut graph = graph("buffer", &args, "buffersink", &spec)?;
        let sink_time_base = graph
            .get("out")
            .map_or(in_time_base, |mut out| out.sink().time_base());

        let codec = encoder::find_by_name("libx264")
            .ok_or_else(|| MediaError::Ffmpeg("FFmpeg lacks libx264".to_owned()))?;
        let mut output = sink.add_stream(codec).map_err(ffmpeg_error)?;
        let out_index = output.index();
        let mut context = codec::Context::new_with_codec(codec);
        context.set_threading(threading::Config {
            kind: threading::Type::Frame,
            count: settings.threads,
            ..Default::default()
        });
        let mut encoder = context.encoder().video().map_err(ffmpeg_error)?;
        encoder.set_width(width);
        encoder.set_height(height);
        encoder.set_format(Pixel::YUV420P);
        encoder.set_time_base(sink_time_base);
        encoder.set_aspect_ratio(Rational::new(1, 1));
        let rate = input.avg_frame_rate();
        let frame_duration = if rate.numerator() > 0 {
            encoder.set_frame_rate(Some(rate));
            1i64.rescale(rate.invert(), sink_time_base).max(1)
        } else {
            1i64.rescale(Rational::new(1, 30), sink_time_base).max(1)
        };
        if stream.hdr {
            encoder.set_colorspace(color::Space::BT709);
            encoder.set_color_primaries(color::Primaries::BT709);
            encoder.set_color_transfer_characteristic(color::TransferCharacteristic::BT709);
            encoder.set_color_range(color::Range::MPEG);
        } else {
            encoder.set_colorspace(decoder.color_space());
            encoder.set_color_primaries(decoder.color_primaries());
            encoder.set_color_transfer_characteristic(decoder.color_transfer_characteristic());
            encoder.set_color_range(decoder.color_range());
        }
        if global_header {
            encoder.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut options = Dictionary::new();
        options.set("preset", &settings.x264_preset);
        options.set("crf", &settings.x264_crf.to_string());
        options.set("threads", &settings.threads.to_string());
        let encoder = encoder.open_with(options).map_err(ffmpeg_error)?;
        output.set_parameters(&encoder);
        output.set_time_base(sink_time_base);
        Ok(VideoLane {
            in_index: stream.index,
            in_time_base,
            decoder,
            graph,
            encoder,
            track: Track::new(out_index, sink_time_base, frame_duration),
            max_pixels: settings.max_video_pixels,
            width,
            height,
            frames: 0,
            poster: None,
            poster_at: 1.0,
        })
    }

    /// Decodes one packet and encodes what it gives; returns the time
    /// reached, in seconds.
    fn decode(
        &mut self,
        packet: &Packet,
        sink: &mut format::context::Output,
    ) -> Result<Option<f64>, MediaError> {
        match self.decoder.send_packet(packet) {
            Ok(()) => {}
            // One damaged packet costs its frames, not the file.
            Err(ffmpeg::Error::InvalidData) => return Ok(None),
            Err(error) => return Err(invalid(error)),
        }
        self.pull(sink)
    }

    fn pull(&mut self, sink: &mut format::context::Output) -> Result<Option<f64>, MediaError> {
        let mut decoded = frame::Video::empty();
        let mut reached = None;
        while self.decoder.receive_frame(&mut decoded).is_ok() {
            // A stream may change its picture size part way through.
            let pixels = u64::from(decoded.width()) * u64::from(decoded.height());
            if pixels > self.max_pixels {
                return Err(MediaError::TooManyPixels {
                    width: decoded.width(),
                    height: decoded.height(),
                    limit: self.max_pixels,
                });
            }
            let timestamp = decoded.timestamp();
            decoded.set_pts(timestamp);
            if let Some(pts) = timestamp {
                reached = Some(seconds(pts, self.in_time_base));
            }
            push(&mut self.graph, &decoded)?;
            self.filtered(sink)?;
        }
        Ok(reached)
    }

    fn filtered(&mut self, sink: &mut format::context::Output) -> Result<(), MediaError> {
        let mut filtered = frame::Video::empty();
        loop {
            let mut out = self.graph.get("out").ok_or_else(|| lost("output"))?;
            if out.sink().frame(&mut filtered).is_err() {
                return Ok(());
            }
            self.frames += 1;
            if let Some(pts) = filtered.pts() {
                let at = seconds(pts, self.track.encoder_time_base);
                // The poster is the last picture at or before its time,
                // or the first one when the clip starts later.
                if self.poster.is_none() || at <= self.poster_at {
                    self.poster = Some(filtered.clone());
                }
            }
            filtered.set_kind(ffmpeg::picture::Type::None);
            self.encoder.send_frame(&filtered).map_err(ffmpeg_error)?;
            self.track.drain(&mut self.encoder, sink)?;
        }
    }

    fn finish(&mut self, sink: &mut format::context::Output) -> Result<(), MediaError> {
        self.decoder.send_eof().map_err(invalid)?;
        self.pull(sink)?;
        close(&mut self.graph)?;
        self.filtered(sink)?;
        self.track.finish(&mut self.encoder, sink)
    }
}

/// Opens an audio decoder and returns it with its stream's time base and
/// the `abuffer` arguments that describe its frames.
fn audio_decoder(
    source: &format::context::Input,
    stream: &AudioStream,
) -> Result<(decoder::Audio, Rational, String), MediaError> {
    let input = source
        .stream(stream.index)
        .ok_or_else(|| MediaError::Ffmpeg("the probed audio stream is gone".to_owned()))?;
    let time_base = input.time_base();
    let decoder = codec::Context::from_parameters(input.parameters())
        .map_err(invalid)?
        .decoder()
        .audio()
        .map_err(invalid)?;
    if decoder.rate() == 0 || decoder.channels() == 0 {
        return Err(MediaError::Invalid {
            reason: "the sound's rate or channels are unknown".to_owned(),
        });
    }
    let mut layout = decoder.channel_layout();
    if layout.bits() == 0 {
        layout = if decoder.channels() == 1 {
            ChannelLayout::MONO
        } else {
            ChannelLayout::STEREO
        };
    }
    let args = format!(
        "time_base={}:sample_rate={}:sample_fmt={}:channel_layout=0x{:x}",
        rational(time_base),
        decoder.rate(),
        decoder.format().name(),
        layout.bits()
    );
    Ok((decoder, time_base, args))
}

/// Measures an audio file's integrated loudness (EBU R 128) and returns the
/// gain, in dB, that brings it to the target. Silence gets no gain.
fn loudness_gain(
    input: &Path,
    kind: Kind,
    stream: &AudioStream,
    settings: &Settings,
) -> Result<f64, MediaError> {
    let mut source = probe::open(input, kind)?;
    let (mut decoder, time_base, args) = audio_decoder(&source, stream)?;
    let mut graph = graph(
        "abuffer",
        &args,
        "abuffersink",
        "aresample=48000,ebur128=metadata=1",
    )?;
    let mut integrated = None;
    let mut decoded = frame::Audio::empty();
    let mut measured = frame::Audio::empty();
    let mut collect = |graph: &mut filter::Graph, integrated: &mut Option<f64>| {
        if let Some(mut out) = graph.get("out") {
            while out.sink().frame(&mut measured).is_ok() {
                if let Some(value) = measured.metadata().get("lavfi.r128.I") {
                    *integrated = value.trim().parse::<f64>().ok();
                }
            }
        }
    };
    let mut feed = |decoder: &mut decoder::Audio,
                    graph: &mut filter::Graph,
                    integrated: &mut Option<f64>|
     -> Result<(), MediaError> {
        while decoder.receive_frame(&mut decoded).is_ok() {
            let timestamp = decoded.timestamp();
            decoded.set_pts(timestamp);
            push(graph, &decoded)?;
            collect(graph, integrated);
        }
        Ok(())
    };
    loop {
        let mut packet = Packet::empty();
        match packet.read(&mut source) {
            Ok(()) => {}
            Err(ffmpeg::Error::Eof) => break,
            Err(ffmpeg::Error::InvalidData) => continue,
            Err(error) => return Err(invalid(error)),
        }
        if packet.stream() != stream.index {
            continue;
        }
        // The container may understate the duration, so this pass stops at
        // the limit as the transcode does.
        if let Some(pts) = packet.pts() {
            let at = seconds(pts, time_base);
            if at > settings.max_duration_seconds as f64 + 1.0 {
                return Err(MediaError::TooLong {
                    seconds: at as u64,
                    limit: settings.max_duration_seconds,
                });
            }
        }
        match decoder.send_packet(&packet) {
            Ok(()) | Err(ffmpeg::Error::InvalidData) => {}
            Err(error) => return Err(invalid(error)),
        }
        feed(&mut decoder, &mut graph, &mut integrated)?;
    }
    decoder.send_eof().map_err(ffmpeg_error)?;
    feed(&mut decoder, &mut graph, &mut integrated)?;
    close(&mut graph)?;
    let mut out = graph.get("out").ok_or_else(|| lost("output"))?;
    while out.sink().frame(&mut measured).is_ok() {
        if let Some(value) = measured.metadata().get("lavfi.r128.I") {
            integrated = value.trim().parse::<f64>().ok();
        }
    }
    Ok(match integrated {
        Some(level) if level.is_finite() && level > -60.0 => {
            (settings.loudness_target - level).clamp(-30.0, 30.0)
        }
        _ => 0.0,
    })
}

struct AudioLane {
    in_index: usize,
    in_time_base: Rational,
    decoder: decoder::Audio,
    graph: filter::Graph,
    encoder: encoder::Audio,
    track: Track,
    frames: u64,
}

impl AudioLane {
    fn new(
        source: &format::context::Input,
        stream: &AudioStream,
        sink: &mut format::context::Output,
        settings: &Settings,
        global_header: bool,
        gain_db: Option<f64>,
    ) -> Result<Self, MediaError> {
        const RATE: i32 = 48_000;
        let (decoder, in_time_base, args) = audio_decoder(source, stream)?;
        let (layout, layout_name) = if decoder.channels() == 1 {
            (ChannelLayout::MONO, "mono")
        } else {
            (ChannelLayout::STEREO, "stereo")
        };
        // The limiter catches the peaks that a raised gain would clip. It
        // changes only those peaks, so the loudness stays at the target.
        let gain = gain_db
            .map(|gain| format!("volume={gain:.2}dB,alimiter=limit=0.891:level=0,"))
            .unwrap_or_default();
        let spec = format!(
            "aresample={RATE},{gain}aformat=sample_fmts=fltp:sample_rates={RATE}:channel_layouts={layout_name}"
        );
        let mut graph = graph("abuffer", &args, "abuffersink", &spec)?;

        let codec = encoder::find(codec::Id::AAC)
            .ok_or_else(|| MediaError::Ffmpeg("FFmpeg lacks an AAC encoder".to_owned()))?;
        let mut output = sink.add_stream(codec).map_err(ffmpeg_error)?;
        let out_index = output.index();
        let mut encoder = codec::Context::new_with_codec(codec)
            .encoder()
            .audio()
            .map_err(ffmpeg_error)?;
        let time_base = Rational::new(1, RATE);
        encoder.set_rate(RATE);
        encoder.set_channel_layout(layout);
        encoder.set_channels(layout.channels());
        encoder.set_format(Sample::F32(format::sample::Type::Planar));
        encoder.set_bit_rate(settings.audio_bit_rate);
        encoder.set_time_base(time_base);
        if global_header {
            encoder.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let encoder = encoder.open_as(codec).map_err(ffmpeg_error)?;
        output.set_parameters(&encoder);
        output.set_time_base(time_base);
        graph
            .get("out")
            .ok_or_else(|| lost("output"))?
            .sink()
            .set_frame_size(encoder.frame_size());
        let frame_duration = i64::from(encoder.frame_size());
        Ok(AudioLane {
            in_index: stream.index,
            in_time_base,
            decoder,
            graph,
            encoder,
            track: Track::new(out_index, time_base, frame_duration),
            frames: 0,
        })
    }

    fn decode(
        &mut self,
        packet: &Packet,
        sink: &mut format::context::Output,
    ) -> Result<Option<f64>, MediaError> {
        match self.decoder.send_packet(packet) {
            Ok(()) => {}
            Err(ffmpeg::Error::InvalidData) => return Ok(None),
            Err(error) => return Err(invalid(error)),
        }
        self.pull(sink)
    }

    fn pull(&mut self, sink: &mut format::context::Output) -> Result<Option<f64>, MediaError> {
        let mut decoded = frame::Audio::empty();
        let mut reached = None;
        while self.decoder.receive_frame(&mut decoded).is_ok() {
            let timestamp = decoded.timestamp();
            decoded.set_pts(timestamp);
            if let Some(pts) = timestamp {
                reached = Some(
                    seconds(pts, self.in_time_base)
                        + decoded.samples() as f64 / f64::from(decoded.rate().max(1)),
                );
            }
            push(&mut self.graph, &decoded)?;
            self.filtered(sink)?;
        }
        Ok(reached)
    }

    fn filtered(&mut self, sink: &mut format::context::Output) -> Result<(), MediaError> {
        let mut filtered = frame::Audio::empty();
        loop {
            let mut out = self.graph.get("out").ok_or_else(|| lost("output"))?;
            if out.sink().frame(&mut filtered).is_err() {
                return Ok(());
            }
            self.frames += 1;
            self.encoder.send_frame(&filtered).map_err(ffmpeg_error)?;
            self.track.drain(&mut self.encoder, sink)?;
        }
    }

    fn finish(&mut self, sink: &mut format::context::Output) -> Result<(), MediaError> {
        self.decoder.send_eof().map_err(invalid)?;
        self.pull(sink)?;
        close(&mut self.graph)?;
        self.filtered(sink)?;
        self.track.finish(&mut self.encoder, sink)
    }
}
