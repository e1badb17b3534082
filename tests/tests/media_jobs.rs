//! Media jobs run in a child process of the real server. These tests
//! inspect that process while it works, kill it, and let it run out of
//! memory and out of time. Each time the server fails the one file and
//! goes on.

use std::time::{Duration, Instant};

use kinlink_tests::uploads::{follow, upload};
use kinlink_tests::{AppOptions, Client, Socket, TestApp, test_media};

/// Waits for the server's media job to start and returns its process id.
async fn media_job(app: &TestApp) -> anyhow::Result<u32> {
    let server = app.pid().ok_or_else(|| anyhow::anyhow!("server exited"))?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        for entry in std::fs::read_dir("/proc")? {
            let Ok(pid) = entry?.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let (Ok(stat), Ok(command)) = (
                std::fs::read_to_string(format!("/proc/{pid}/stat")),
                std::fs::read(format!("/proc/{pid}/cmdline")),
            ) else {
                continue;
            };
            if stat_field(&stat, 4) == Some(server.to_string().as_str())
                && command.split(|b| *b == 0).any(|arg| arg == b"media-job")
            {
                return Ok(pid);
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("no media job started")
}

/// Returns field `number` (1-based, as in proc(5)) of a `/proc/PID/stat` line.
fn stat_field(stat: &str, number: usize) -> Option<&str> {
    let (_, after_name) = stat.rsplit_once(')')?;
    after_name.split_whitespace().nth(number.checked_sub(3)?)
}

/// Returns the soft limit from a `/proc/PID/limits` row.
fn soft_limit(limits: &str, name: &str) -> Option<String> {
    let row = limits.lines().find(|line| line.starts_with(name))?;
    row[name.len()..]
        .split_whitespace()
        .next()
        .map(str::to_owned)
}

async fn signed_in(app: &TestApp) -> anyhow::Result<(Client, String, Socket)> {
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut socket = alex.socket().await?;
    socket.subscribe(&link, 0).await?;
    Ok((alex, link, socket))
}

/// Reads a test file. Tests read theirs before they sign in: making the
/// set can take long enough for the server to close an idle connection
/// that the client would then reuse.
fn media(name: &str) -> anyhow::Result<Vec<u8>> {
    Ok(std::fs::read(test_media::path(name)?)?)
}

async fn start_long_video(alex: &Client, link: &str, source: &[u8]) -> anyhow::Result<String> {
    let view = upload(alex, link, "long.mp4", source).await?;
    anyhow::ensure!(view["status"] == "processing", "{view}");
    Ok(view["id"].as_str().unwrap_or_default().to_owned())
}

async fn app_with(env: &[(&str, &str)]) -> anyhow::Result<TestApp> {
    TestApp::spawn_with(AppOptions {
        env: env
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        ..AppOptions::default()
    })
    .await
}

#[tokio::test]
async fn media_job_runs_confined() -> anyhow::Result<()> {
    let video = media("long-1080p.mp4")?;
    let app = app_with(&[("KINLINK__MEDIA__JOB_MEMORY_MIB", "1536")]).await?;
    let (alex, link, mut socket) = signed_in(&app).await?;
    let id = start_long_video(&alex, &link, &video).await?;

    // A progress report comes from the job once its limits are in place.
    socket
        .expect_where_within(
            |f| {
                f["type"] == "file"
                    && f["file_id"] == id.as_str()
                    && f["progress"].as_u64() > Some(0)
            },
            "the job's first progress",
            Duration::from_secs(60),
        )
        .await?;
    let job = media_job(&app).await?;
    let limits = std::fs::read_to_string(format!("/proc/{job}/limits"))?;
    assert_eq!(
        soft_limit(&limits, "Max data size").as_deref(),
        Some("1610612736"),
        "{limits}"
    );
    assert_eq!(
        soft_limit(&limits, "Max core file size").as_deref(),
        Some("0")
    );
    // Policy 5 is SCHED_IDLE, and every thread the job starts inherits it.
    for task in std::fs::read_dir(format!("/proc/{job}/task"))? {
        let stat = std::fs::read_to_string(task?.path().join("stat"))?;
        assert_eq!(stat_field(&stat, 41), Some("5"), "{stat}");
    }
    // Landlock's sandbox requires it, and the job cannot gain privileges.
    let status = std::fs::read_to_string(format!("/proc/{job}/status"))?;
    assert!(
        status
            .lines()
            .any(|line| line.split_whitespace().eq(["NoNewPrivs:", "1"])),
        "{status}"
    );
    let environment = std::fs::read(format!("/proc/{job}/environ"))?;
    assert!(
        environment.is_empty(),
        "the job inherited {} bytes of environment",
        environment.len()
    );
    let open: Vec<_> = std::fs::read_dir(format!("/proc/{job}/fd"))?
        .filter_map(Result::ok)
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter(|target| {
            let target = target.to_string_lossy();
            target.ends_with(".db") || target.ends_with(".db-wal") || target.starts_with("socket:")
        })
        .collect();
    // Its pipes are `pipe:` links. The server's database and sockets stay
    // with the server.
    assert!(open.is_empty(), "the job holds {open:?}");

    // The job's output so far is readable by the server's user alone.
    let out = app.data_dir.path().join("work").join(&id).join("out");
    let written: Vec<_> = std::fs::read_dir(&out)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    assert!(!written.is_empty(), "nothing written in {}", out.display());
    for path in written {
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path)?.permissions());
        assert_eq!(mode & 0o077, 0, "{} has mode {mode:o}", path.display());
    }

    let (last, _) = follow(&mut socket, &id).await?;
    assert_eq!(last["status"], "ready", "{last}");
    Ok(())
}

#[tokio::test]
async fn killed_media_job_fails_its_file() -> anyhow::Result<()> {
    let video = media("long-1080p.mp4")?;
    let photo = media("photo.jpg")?;
    let app = TestApp::spawn().await?;
    let (alex, link, mut socket) = signed_in(&app).await?;
    let id = start_long_video(&alex, &link, &video).await?;

    let job = media_job(&app).await?;
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &job.to_string()])
        .status()?;
    assert!(killed.success());
    let (last, _) = follow(&mut socket, &id).await?;
    assert_eq!(last["status"], "failed", "{last}");
    assert_eq!(last["failure"], "media.failed");
    assert!(
        app.logs().contains("it ended on signal 9"),
        "{}",
        app.logs()
    );

    let view = upload(&alex, &link, "photo.jpg", &photo).await?;
    let (last, _) = follow(&mut socket, view["id"].as_str().unwrap_or_default()).await?;
    assert_eq!(last["status"], "ready", "{last}");
    Ok(())
}

#[tokio::test]
async fn media_job_past_its_time_limit_is_stopped() -> anyhow::Result<()> {
    let video = media("long-1080p.mp4")?;
    let app = app_with(&[("KINLINK__MEDIA__JOB_TIME_LIMIT_SECONDS", "1")]).await?;
    let (alex, link, mut socket) = signed_in(&app).await?;
    let id = start_long_video(&alex, &link, &video).await?;
    let (last, _) = follow(&mut socket, &id).await?;
    assert_eq!(last["status"], "failed", "{last}");
    assert_eq!(last["failure"], "media.failed");
    assert!(app.logs().contains("time limit of 1 s"), "{}", app.logs());
    Ok(())
}

/// Rewrites the width and height in a HEIF file's `ispe` box.
fn declare_size(heif: &mut [u8], width: u32, height: u32) -> anyhow::Result<()> {
    let at = heif
        .windows(4)
        .position(|window| window == b"ispe")
        .ok_or_else(|| anyhow::anyhow!("no ispe box"))?;
    // Type, then version and flags, then the two sizes.
    let sizes = at + 8;
    anyhow::ensure!(heif.len() >= sizes + 8, "ispe box cut short");
    heif[sizes..sizes + 4].copy_from_slice(&width.to_be_bytes());
    heif[sizes + 4..sizes + 8].copy_from_slice(&height.to_be_bytes());
    Ok(())
}

#[tokio::test]
async fn photo_over_memory_limit_fails_cleanly() -> anyhow::Result<()> {
    // 7900×7900 is within the pixel limit, but decoding and turning it
    // needs more than 256 MiB.
    let large = media("large.jpg")?;
    let photos = [
        ("photo.jpg", media("photo.jpg")?),
        ("photo.heic", media("photo.heic")?),
    ];
    let app = app_with(&[("KINLINK__MEDIA__JOB_MEMORY_MIB", "256")]).await?;
    let (alex, link, mut socket) = signed_in(&app).await?;
    let view = upload(&alex, &link, "large.jpg", &large).await?;
    assert_eq!(view["status"], "processing", "{view}");
    let (last, _) = follow(&mut socket, view["id"].as_str().unwrap_or_default()).await?;
    assert_eq!(last["status"], "failed", "{last}");
    assert_eq!(
        last["failure"],
        "media.over_memory_limit",
        "{last}\n{}",
        app.logs()
    );

    // The same limit leaves room for ordinary phone photos.
    for (name, photo) in photos {
        let view = upload(&alex, &link, name, &photo).await?;
        let (last, _) = follow(&mut socket, view["id"].as_str().unwrap_or_default()).await?;
        assert_eq!(last["status"], "ready", "{name}: {last}");
    }
    Ok(())
}

/// Uploads `bytes` as a HEIC photo and returns its failure code.
async fn heic_failure(app: &TestApp, bytes: &[u8]) -> anyhow::Result<String> {
    let (alex, link, mut socket) = signed_in(app).await?;
    let view = upload(&alex, &link, "large.heic", bytes).await?;
    anyhow::ensure!(view["status"] == "processing", "{view}");
    let (last, _) = follow(&mut socket, view["id"].as_str().unwrap_or_default()).await?;
    anyhow::ensure!(last["status"] == "failed", "{last}");
    Ok(last["failure"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn lying_heic_bounded_by_memory_limit() -> anyhow::Result<()> {
    // Coded at 9000×9000 (81 megapixels, over the limit of 64), declared
    // as 900×900, so the check before decoding passes it.
    let mut lying = media("large.heic")?;
    declare_size(&mut lying, 900, 900)?;

    // With room enough, libheif decodes the whole coded picture and the
    // check after decoding rejects it.
    let roomy = app_with(&[("KINLINK__MEDIA__JOB_MEMORY_MIB", "2048")]).await?;
    assert_eq!(heic_failure(&roomy, &lying).await?, "media.too_many_pixels");

    // Under a tight limit the decoder fails before it gets that far. libheif
    // 1.15 reports it as a decoder error, not as lack of memory.
    let tight = app_with(&[("KINLINK__MEDIA__JOB_MEMORY_MIB", "256")]).await?;
    let failure = heic_failure(&tight, &lying).await?;
    assert!(
        ["media.invalid", "media.over_memory_limit"].contains(&failure.as_str()),
        "{failure}\n{}",
        tight.logs()
    );
    Ok(())
}

#[tokio::test]
async fn every_test_medium_processes_in_sandbox() -> anyhow::Result<()> {
    let names = [
        "portrait.mov",
        "variable-rate.mp4",
        "cover-art.m4a",
        "no-audio.mp4",
        "hlg.mp4",
        "photo.jpg",
        "photo.heic",
    ];
    let files = names
        .iter()
        .map(|name| Ok((*name, media(name)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let app = TestApp::spawn().await?;
    let (alex, link, mut socket) = signed_in(&app).await?;
    for (name, bytes) in files {
        let view = upload(&alex, &link, name, &bytes).await?;
        let (last, _) = follow(&mut socket, view["id"].as_str().unwrap_or_default()).await?;
        assert_eq!(last["status"], "ready", "{name}: {last}\n{}", app.logs());
    }
    assert!(
        !app.logs().contains("without the whole Landlock sandbox"),
        "{}",
        app.logs()
    );
    Ok(())
}
