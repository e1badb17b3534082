//! Media processing of checked uploads: the job that turns an upload into
//! its renditions on the worker pool, and the task that records each job's
//! outcome and publishes its progress to the conversation. Photos and
//! videos in family-finding profiles go through the same pool. Their
//! outcome is recorded with the profile, and their progress is not
//! published.
//!
//! A job decrypts the upload into its own folder under the private working
//! folder, has a media job process (see [`kinlink_media::worker`]) make the
//! renditions there, seals each rendition into the blob store under the
//! file's key, and removes the folder whatever happens. The key never
//! leaves this process. The original upload of a picture, sound or video is
//! deleted once its renditions are recorded, because only the renditions
//! are free of the metadata (GPS included) that phones write. A PDF is
//! served as uploaded and keeps its original, and its job only reads its
//! text into a text rendition. The working folder is emptied at start, so
//! a crash leaves no plaintext behind for long.
//!
//! A media job that crashes, runs out of memory or out of time fails its
//! file once, and the file is not retried. A PDF is the exception: a
//! failed job leaves it ready without text, and its job has a shorter time
//! limit. A job cut off by a stopped server is resumed when a member next
//! requests the file's status, for a limited number of attempts: only a
//! member's session can open the file key.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use kinlink_actors::events::Event;
use kinlink_core::crypto::SecretKey;
use kinlink_core::crypto::segments::Layout;
use kinlink_core::{ConversationId, UserId};
use kinlink_media::MediaError;
use kinlink_media::blob::{self, BlobStore};
use kinlink_media::kind::{Category, Kind};
use kinlink_media::pool::{Busy, Pool};
use kinlink_media::transcode::Settings;
use kinlink_media::worker::{Finished, Limits, Worker};
use kinlink_store::entity::{case_media_rendition, community_image_rendition, file_rendition};
use kinlink_store::files::FileStatus;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use crate::config::Config;
use crate::state::AppState;

/// Processing attempts a file gets before it fails for good.
pub const MAX_ATTEMPTS: i32 = 3;

/// A file left in `processing` without news for this long is taken to be
/// cut off (its server stopped), and the next status request resumes it.
pub const STALLED_AFTER: Duration = Duration::from_secs(120);

/// How often this node refreshes `updated_at` of every file it has queued
/// or is processing, so none of them looks stalled to another request.
const HEARTBEAT: Duration = Duration::from_secs(20);

/// Maximum run time of a PDF's text extraction, when the configured media
/// job time limit is longer. Reading the text of an ordinary letter takes
/// well under a second, and a file that keeps the parser busy this long
/// gets no text rather than holding a worker for hours.
const DOCUMENT_TIME_LIMIT: Duration = Duration::from_secs(10 * 60);

/// The pool, its settings and the channel jobs report on.
pub struct Processing {
    pool: Pool,
    /// Files queued or being processed on this node.
    active: Arc<std::sync::Mutex<std::collections::HashSet<uuid::Uuid>>>,
    /// Maximum number of active files: the workers plus the queue.
    capacity: usize,
    work_root: PathBuf,
    settings: Settings,
    worker: Worker,
    reports: mpsc::UnboundedSender<Report>,
}

/// What an upload belongs to, which decides where its outcome is recorded
/// and who hears of its progress.
#[derive(Clone, Copy, Debug)]
pub enum Owner {
    /// A file in a conversation: recorded in `files`, announced to members.
    Conversation(ConversationId),
    /// A photo or video in a family-finding profile: recorded in
    /// `case_media`; the case page polls its state.
    Case(uuid::Uuid),
    /// An image for a community post or profile: recorded in
    /// `community_images`; the page polls its state.
    CommunityImage,
}

/// A file to process.
pub struct Job {
    pub file_id: uuid::Uuid,
    pub owner: Owner,
    pub kind: Kind,
    pub layout: Layout,
    pub key: SecretKey,
}

/// News from a job.
enum Report {
    Progress {
        file_id: uuid::Uuid,
        owner: Owner,
        percent: u8,
    },
    Done {
        file_id: uuid::Uuid,
        owner: Owner,
        /// Whether the upload itself stays the served file, as a PDF does.
        keep_original: bool,
        outcome: Result<Vec<file_rendition::Model>, &'static str>,
    },
}

impl Processing {
    /// Empties the working folder and starts the worker pool. The returned
    /// receiver goes to [`supervise`].
    pub fn start(config: &Config) -> anyhow::Result<(Processing, Reports)> {
        let work_root = config.media_work_dir();
        empty_work_folder(&work_root)?;
        let media = &config.media;
        let pool = Pool::start(media.workers, media.queue, media.worker_nice)?;
        let capacity = pool.workers() + pool.queue();
        let settings = Settings {
            max_video_lines: media.max_video_lines,
            max_video_pixels: media.max_video_pixels,
            max_image_pixels: media.max_image_pixels,
            max_duration_seconds: media.max_duration_minutes.saturating_mul(60),
            threads: media.threads_per_job,
            x264_preset: media.x264_preset.clone(),
            ..Settings::default()
        };
        let worker = Worker {
            // The running executable itself, even if a newer one has been
            // installed under its name since it started.
            program: PathBuf::from("/proc/self/exe"),
            limits: Limits {
                memory_bytes: media.job_memory_mib.saturating_mul(1024 * 1024),
                nice: media.worker_nice,
                idle_priority: media.worker_idle_priority,
            },
            time_limit: Duration::from_secs(media.job_time_limit_seconds),
        };
        let (reports, receiver) = mpsc::unbounded_channel();
        Ok((
            Processing {
                pool,
                active: Arc::default(),
                capacity,
                work_root,
                settings,
                worker,
                reports,
            },
            Reports(receiver),
        ))
    }

    /// Queues a job, or returns [`Busy`] when the queue is full. A file
    /// already queued or being processed on this node is not queued twice.
    pub fn submit(&self, job: Job, blobs: Arc<dyn BlobStore>) -> Result<(), Busy> {
        let file_id = job.file_id;
        {
            let mut active = self.lock_active();
            if active.contains(&file_id) {
                return Ok(());
            }
            if active.len() >= self.capacity {
                return Err(Busy);
            }
            active.insert(file_id);
        }
        let work_root = self.work_root.clone();
        let settings = self.settings.clone();
        let worker = self.worker.clone();
        let reports = self.reports.clone();
        let submitted = self.pool.submit(move || {
            run(job, blobs.as_ref(), &work_root, &settings, &worker, reports);
        });
        if submitted.is_err() {
            self.lock_active().remove(&file_id);
        }
        submitted
    }

    /// Returns whether a file is queued or being processed on this node.
    pub fn is_active(&self, file_id: uuid::Uuid) -> bool {
        self.lock_active().contains(&file_id)
    }

    /// Returns whether a job would be queued now.
    pub fn has_room(&self) -> bool {
        self.lock_active().len() < self.capacity
    }

    fn lock_active(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<uuid::Uuid>> {
        // The set contains plain ids, so a panic elsewhere cannot leave it
        // inconsistent.
        self.active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The receiving end of the jobs' reports.
pub struct Reports(mpsc::UnboundedReceiver<Report>);

/// Removes whatever an earlier run left in the working folder, and makes
/// the folder readable by the server's user only.
fn empty_work_folder(root: &Path) -> anyhow::Result<()> {
    if root.exists() {
        for entry in std::fs::read_dir(root)? {
            let path = entry?.path();
            if path.is_dir() {
                std::fs::remove_dir_all(&path)?;
            } else {
                std::fs::remove_file(&path)?;
            }
        }
    } else {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)?;
    }
    std::fs::set_permissions(root, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    Ok(())
}

/// Removes a job's folder and the blobs it wrote unless the job completes,
/// and reports a failure when dropped without an outcome, as a panicking
/// job is.
struct Cleanup<'a> {
    folder: PathBuf,
    blobs: &'a dyn BlobStore,
    written: Vec<uuid::Uuid>,
    reports: mpsc::UnboundedSender<Report>,
    file_id: uuid::Uuid,
    owner: Owner,
    keep_original: bool,
    reported: bool,
}

impl Cleanup<'_> {
    fn report(&mut self, outcome: Result<Vec<file_rendition::Model>, &'static str>) {
        if outcome.is_ok() {
            self.written.clear();
        }
        self.reported = true;
        let _closed = self.reports.send(Report::Done {
            file_id: self.file_id,
            owner: self.owner,
            keep_original: self.keep_original,
            outcome,
        });
    }
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        if let Err(cause) = std::fs::remove_dir_all(&self.folder)
            && cause.kind() != std::io::ErrorKind::NotFound
        {
            error!(file = %self.file_id, %cause, "removing a processing folder failed");
        }
        for id in self.written.drain(..) {
            if let Err(cause) = self.blobs.delete(id) {
                warn!(file = %self.file_id, rendition = %id, error = %cause, "deleting an unused rendition failed");
            }
        }
        if !self.reported {
            error!(file = %self.file_id, "a processing job stopped without an outcome");
            self.reported = true;
            let _closed = self.reports.send(Report::Done {
                file_id: self.file_id,
                owner: self.owner,
                keep_original: self.keep_original,
                outcome: Err("media.failed"),
            });
        }
    }
}

/// Runs one job from a worker thread.
fn run(
    job: Job,
    blobs: &dyn BlobStore,
    work_root: &Path,
    settings: &Settings,
    worker: &Worker,
    reports: mpsc::UnboundedSender<Report>,
) {
    let started = Instant::now();
    let mut cleanup = Cleanup {
        folder: work_root.join(job.file_id.to_string()),
        blobs,
        written: Vec::new(),
        reports: reports.clone(),
        file_id: job.file_id,
        owner: job.owner,
        keep_original: job.kind.category() == Category::Document,
        reported: false,
    };
    let outcome = process(&job, blobs, &mut cleanup, settings, worker, &reports);
    match outcome {
        Ok((renditions, peak_memory_kib)) => {
            info!(file = %job.file_id, renditions = renditions.len(), millis = started.elapsed().as_millis() as u64, peak_memory_kib, "file processed");
            cleanup.report(Ok(renditions));
        }
        Err(cause) => {
            let code = cause.code();
            if code == "media.failed" {
                error!(file = %job.file_id, error = %kinlink_actors::Causes(&cause), "processing a file failed");
            } else {
                info!(file = %job.file_id, code, error = %cause, "file rejected by processing");
            }
            cleanup.report(Err(code));
        }
    }
}

fn process(
    job: &Job,
    blobs: &dyn BlobStore,
    cleanup: &mut Cleanup<'_>,
    settings: &Settings,
    worker: &Worker,
    reports: &mpsc::UnboundedSender<Report>,
) -> Result<(Vec<file_rendition::Model>, Option<u64>), MediaError> {
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&cleanup.folder)?;
    let source = cleanup.folder.join("source");
    blob::open_to_file(blobs, &job.key, job.file_id, job.layout, &source)?;
    let out = cleanup.folder.join("out");
    std::fs::DirBuilder::new().mode(0o700).create(&out)?;

    let mut last = (0u8, Instant::now());
    let mut progress = |share: f32| {
        let percent = (share * 100.0).clamp(0.0, 100.0) as u8;
        if percent > last.0 && (percent == 100 || last.1.elapsed() >= Duration::from_millis(250)) {
            last = (percent, Instant::now());
            let _closed = reports.send(Report::Progress {
                file_id: job.file_id,
                owner: job.owner,
                percent,
            });
        }
    };
    let finished = if job.kind.category() == Category::Document {
        document_text(job, worker, &source, &out, settings, &mut progress)
    } else {
        worker.run(&source, job.kind, &out, settings, &mut progress)?
    };

    let mut renditions = Vec::with_capacity(finished.renditions.len());
    for rendition in finished.renditions {
        let id = uuid::Uuid::now_v7();
        cleanup.written.push(id);
        let size = blob::seal_file(blobs, &job.key, id, &rendition.path)?;
        renditions.push(file_rendition::Model {
            id,
            file_id: job.file_id,
            role: rendition.role.as_str().to_owned(),
            mime: rendition.mime.to_owned(),
            size: i64::try_from(size).unwrap_or(i64::MAX),
            width: rendition.width.and_then(|w| i32::try_from(w).ok()),
            height: rendition.height.and_then(|h| i32::try_from(h).ok()),
            duration_ms: rendition.duration_ms.and_then(|d| i64::try_from(d).ok()),
        });
    }
    Ok((renditions, finished.peak_memory_kib))
}

/// Reads a document's text in a media job. A job that fails, whatever the
/// reason, leaves the document without text rather than failing it,
/// because the document is served as uploaded either way. The letterbox
/// check then asks a person to look at it.
fn document_text(
    job: &Job,
    worker: &Worker,
    source: &Path,
    out: &Path,
    settings: &Settings,
    progress: &mut dyn FnMut(f32),
) -> Finished {
    let worker = Worker {
        time_limit: worker.time_limit.min(DOCUMENT_TIME_LIMIT),
        ..worker.clone()
    };
    match worker.run(source, job.kind, out, settings, progress) {
        Ok(finished) => finished,
        Err(cause) => {
            warn!(file = %job.file_id, error = %kinlink_actors::Causes(&cause), "reading a document's text failed, so it is ready without text");
            Finished {
                renditions: Vec::new(),
                peak_memory_kib: None,
            }
        }
    }
}

/// Records every job's outcome and passes its progress to the conversation,
/// and keeps the files this node has in hand from looking stalled, for as
/// long as the server runs.
pub fn supervise(state: AppState, reports: Reports) {
    let Reports(mut receiver) = reports;
    let heartbeat = state.clone();
    actix_web::rt::spawn(async move {
        let mut interval = tokio::time::interval(HEARTBEAT);
        loop {
            interval.tick().await;
            let ids: Vec<uuid::Uuid> = heartbeat.processing.lock_active().iter().copied().collect();
            if ids.is_empty() {
                continue;
            }
            let now = Utc::now();
            if let Err(cause) = heartbeat.store.touch_files(&ids, now).await {
                warn!(files = ids.len(), error = %kinlink_actors::Causes(&cause), "refreshing files in processing failed");
            }
            if let Err(cause) = heartbeat.store.touch_case_media(&ids, now).await {
                warn!(files = ids.len(), error = %kinlink_actors::Causes(&cause), "refreshing profile media in processing failed");
            }
            if let Err(cause) = heartbeat.store.touch_community_images(&ids, now).await {
                warn!(files = ids.len(), error = %kinlink_actors::Causes(&cause), "refreshing community images in processing failed");
            }
        }
    });
    actix_web::rt::spawn(async move {
        while let Some(report) = receiver.recv().await {
            match report {
                Report::Progress {
                    file_id,
                    owner: Owner::Conversation(conversation_id),
                    percent,
                } => {
                    publish(
                        &state,
                        conversation_id,
                        file_id,
                        FileStatus::Processing,
                        Some(percent),
                        None,
                    )
                    .await;
                }
                // The case and community pages poll an item's state, so its
                // progress is not published.
                Report::Progress {
                    owner: Owner::Case(_) | Owner::CommunityImage,
                    ..
                } => {}
                Report::Done {
                    file_id,
                    owner,
                    keep_original,
                    outcome,
                } => {
                    state.processing.lock_active().remove(&file_id);
                    let recorded = match owner {
                        Owner::Conversation(conversation_id) => {
                            record(&state, file_id, conversation_id, keep_original, outcome).await
                        }
                        Owner::Case(case_id) => {
                            record_case_media(&state, case_id, file_id, outcome).await
                        }
                        Owner::CommunityImage => {
                            record_community_image(&state, file_id, outcome).await
                        }
                    };
                    if let Err(cause) = recorded {
                        error!(file = %file_id, error = %kinlink_actors::Causes(cause.as_ref()), "recording a processed file failed");
                    }
                }
            }
        }
    });
}

async fn record(
    state: &AppState,
    file_id: uuid::Uuid,
    conversation_id: ConversationId,
    keep_original: bool,
    outcome: Result<Vec<file_rendition::Model>, &'static str>,
) -> anyhow::Result<()> {
    match outcome {
        Ok(renditions) => {
            let ids: Vec<uuid::Uuid> = renditions.iter().map(|r| r.id).collect();
            if state
                .store
                .finish_processing(file_id, renditions, Utc::now())
                .await?
            {
                if !keep_original {
                    // Only the renditions are served from now on.
                    delete_blobs(state, vec![file_id]).await?;
                }
                publish(
                    state,
                    conversation_id,
                    file_id,
                    FileStatus::Ready,
                    None,
                    None,
                )
                .await;
            } else {
                info!(file = %file_id, "file went away while it was processed");
                delete_blobs(state, ids).await?;
            }
        }
        Err(code) => {
            fail(state, file_id, conversation_id, code).await?;
        }
    }
    Ok(())
}

/// Records the outcome of a profile item's processing. Only the renditions
/// are kept: an image or video upload carries the phone's metadata.
async fn record_case_media(
    state: &AppState,
    case_id: uuid::Uuid,
    media_id: uuid::Uuid,
    outcome: Result<Vec<file_rendition::Model>, &'static str>,
) -> anyhow::Result<()> {
    let now = Utc::now();
    match outcome {
        Ok(renditions) => {
            let ids: Vec<uuid::Uuid> = renditions.iter().map(|r| r.id).collect();
            let rows = renditions
                .into_iter()
                .map(|rendition| case_media_rendition::Model {
                    id: rendition.id,
                    media_id,
                    role: rendition.role,
                    mime: rendition.mime,
                    size: rendition.size,
                    width: rendition.width,
                    height: rendition.height,
                    duration_ms: rendition.duration_ms,
                })
                .collect();
            if state.store.finish_case_media(media_id, rows, now).await? {
                delete_blobs(state, vec![media_id]).await?;
                info!(case = %case_id, media = %media_id, "profile item ready");
            } else {
                info!(case = %case_id, media = %media_id, "profile item went away while it was processed");
                delete_blobs(state, ids).await?;
            }
        }
        Err(code) => fail_case_media(state, media_id, code).await?,
    }
    Ok(())
}

/// Records the outcome of a community image's processing. Only the
/// renditions are kept, without the upload's metadata.
async fn record_community_image(
    state: &AppState,
    image_id: uuid::Uuid,
    outcome: Result<Vec<file_rendition::Model>, &'static str>,
) -> anyhow::Result<()> {
    match outcome {
        Ok(renditions) => {
            let ids: Vec<uuid::Uuid> = renditions.iter().map(|r| r.id).collect();
            let rows = renditions
                .into_iter()
                .map(|rendition| community_image_rendition::Model {
                    id: rendition.id,
                    image_id,
                    role: rendition.role,
                    mime: rendition.mime,
                    size: rendition.size,
                    width: rendition.width,
                    height: rendition.height,
                })
                .collect();
            if state
                .store
                .finish_community_image(image_id, rows, Utc::now())
                .await?
            {
                delete_blobs(state, vec![image_id]).await?;
                info!(image = %image_id, "community image ready");
            } else {
                info!(image = %image_id, "community image went away while it was processed");
                delete_blobs(state, ids).await?;
            }
        }
        Err(code) => fail_community_image(state, image_id, code).await?,
    }
    Ok(())
}

/// Marks a community image failed with `code` and deletes its upload.
pub async fn fail_community_image(
    state: &AppState,
    image_id: uuid::Uuid,
    code: &'static str,
) -> anyhow::Result<()> {
    if state
        .store
        .fail_community_image(image_id, code, Utc::now())
        .await?
    {
        delete_blobs(state, vec![image_id]).await?;
        info!(image = %image_id, code, "community image failed");
    }
    Ok(())
}

/// Marks a profile item failed with `code` and deletes its upload.
pub async fn fail_case_media(
    state: &AppState,
    media_id: uuid::Uuid,
    code: &'static str,
) -> anyhow::Result<()> {
    if state
        .store
        .fail_case_media(media_id, code, Utc::now())
        .await?
    {
        delete_blobs(state, vec![media_id]).await?;
        info!(media = %media_id, code, "profile item failed");
    }
    Ok(())
}

/// Marks a file failed with `code`, deletes its content and publishes
/// the failure to the conversation.
pub async fn fail(
    state: &AppState,
    file_id: uuid::Uuid,
    conversation_id: ConversationId,
    code: &'static str,
) -> anyhow::Result<()> {
    // Only a file still in progress fails. A second job for a file that
    // another job finished (two members resumed it at once) changes nothing.
    if !state.store.fail_file(file_id, code, Utc::now()).await? {
        info!(file = %file_id, code, "a processing job failed for a file that is no longer processing");
        return Ok(());
    }
    delete_blobs(state, vec![file_id]).await?;
    publish(
        state,
        conversation_id,
        file_id,
        FileStatus::Failed,
        None,
        Some(code),
    )
    .await;
    Ok(())
}

pub(crate) async fn delete_blobs(state: &AppState, ids: Vec<uuid::Uuid>) -> anyhow::Result<()> {
    let blobs = Arc::clone(&state.blobs);
    tokio::task::spawn_blocking(move || ids.into_iter().try_for_each(|id| blobs.delete(id)))
        .await??;
    Ok(())
}

/// Publishes a file's status to the members following the conversation
/// who may see the file.
pub async fn publish(
    state: &AppState,
    conversation_id: ConversationId,
    file_id: uuid::Uuid,
    status: FileStatus,
    progress: Option<u8>,
    failure: Option<&str>,
) {
    // A file that cannot be read back is announced to staff only.
    let (uploader_id, shared) = match state.store.file(file_id).await {
        Ok(Some(row)) => (UserId(row.uploader_id), row.shared_at.is_some()),
        Ok(None) => (UserId(uuid::Uuid::nil()), false),
        Err(error) => {
            warn!(error = %error, file = %file_id, "reading a file to announce its status failed");
            (UserId(uuid::Uuid::nil()), false)
        }
    };
    state
        .broker
        .publish(Event::File {
            conversation_id,
            file_id,
            uploader_id,
            shared,
            status: status.as_str().to_owned(),
            progress,
            failure: failure.map(str::to_owned),
        })
        .await;
}
