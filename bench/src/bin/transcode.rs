//! Transcodes one file through KinLink's media pipeline the way the server
//! does: from a thread of the worker pool, in a media job process started
//! from the server's executable. Prints the wall time as JSON. The runner
//! (`bench/run-transcode.py`) measures CPU time from outside, the same way
//! for this and for the `ffmpeg` tool. The job process's time counts,
//! because this program waits for it.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use kinlink_media::kind::detect;
use kinlink_media::pool::Pool;
use kinlink_media::transcode::Settings;
use kinlink_media::worker::{Limits, Worker};

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
    /// Nice value of the worker thread and of the media job.
    #[arg(long, default_value_t = 10)]
    nice: i32,
    /// The server executable, which runs the media job.
    #[arg(long)]
    server: PathBuf,
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
    let worker = Worker {
        program: args.server.clone(),
        limits: Limits {
            memory_bytes: 2048 * 1024 * 1024,
            nice: args.nice,
            // The tool runs at the nice value alone; on an otherwise idle
            // machine the policy changes nothing but would differ.
            idle_priority: false,
        },
        time_limit: std::time::Duration::from_secs(3600),
    };
    let pool = Pool::start(1, 1, args.nice)?;
    let (done, finished) = mpsc::channel();
    let started = Instant::now();
    let input = args.input.clone();
    let out_dir = args.out_dir.clone();
    pool.submit(move || {
        let result = worker
            .run(&input, kind, &out_dir, &settings, &mut |_| {})
            .map(|finished| finished.renditions.len());
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
