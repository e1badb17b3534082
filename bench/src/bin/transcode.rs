//! Transcodes one file through KinLink's media pipeline, on the same
//! worker pool the server uses, and prints the wall time as JSON. The
//! runner (`bench/run-transcode.py`) measures CPU time from outside, the
//! same way for this and for the `ffmpeg` tool.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use kinlink_media::kind::detect;
use kinlink_media::pool::Pool;
use kinlink_media::transcode::{Settings, transcode};

#[derive(Parser)]
struct Args {
    /// The file to transcode.
    #[arg(long)]
    input: PathBuf,
    /// The folder that receives the renditions.
    #[arg(long)]
    out_dir: PathBuf,
    /// Threads for the decoder and for the encoder.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Nice value of the worker thread.
    #[arg(long, default_value_t = 10)]
    nice: i32,
    /// The libx264 preset.
    #[arg(long, default_value = "veryfast")]
    preset: String,
    /// The libx264 constant rate factor.
    #[arg(long, default_value_t = 23)]
    crf: u8,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let head = std::fs::read(&args.input).context("reading the input")?;
    let kind = detect(&head[..head.len().min(4096)]).context("detecting the input's kind")?;
    let settings = Settings {
        threads: args.threads,
        x264_preset: args.preset.clone(),
        x264_crf: args.crf,
        ..Settings::default()
    };
    std::fs::create_dir_all(&args.out_dir)?;
    let pool = Pool::start(1, 1, args.nice)?;
    let (done, finished) = mpsc::channel();
    let started = Instant::now();
    let input = args.input.clone();
    let out_dir = args.out_dir.clone();
    pool.submit(move || {
        let result = transcode(&input, kind, &out_dir, &settings, &mut |_| {})
            .map(|renditions| renditions.len());
        let _closed = done.send(result);
    })
    .map_err(|busy| anyhow::anyhow!("{busy}"))?;
    let renditions = finished.recv().context("the job stopped")??;
    let wall = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({ "target": "pipeline", "wall_s": wall, "renditions": renditions })
    );
    Ok(())
}
