//! Media jobs in a process of their own.
//!
//! FFmpeg, libx264 and libheif parse what strangers send, so every job runs
//! in a child process started from the server's own executable with the
//! argument [`SUBCOMMAND`]. A crash there fails one file and leaves the
//! server running. A data-segment limit bounds what a file can make the
//! decoders allocate. The job runs under `SCHED_IDLE` (or at least at a
//! higher nice value), so it takes only the CPU time that conversations
//! leave, and a job past its time limit is killed.
//!
//! The child gets no environment, no keys and no open files but its three
//! standard streams. The server decrypts the upload into the job's folder
//! and seals what the job writes there. Before it reads the upload, the
//! child gives up, through Landlock, every file access but reading its
//! input and writing its output folder, every TCP connection, and signals
//! to processes outside itself. A child cannot leave core dumps of the
//! plaintext behind, and it dies with the server.
//!
//! The server writes one JSON request to the child's standard input and
//! closes it. The child writes JSON lines to standard output: any number
//! of progress lines, then one outcome line.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use rustix::process::{Pid, PidfdFlags, Signal};
use serde::{Deserialize, Serialize};

use crate::kind::Kind;
use crate::transcode::{self, Rendition, Role, Settings};
use crate::{FAILURE_CODES, MediaError};

/// The first argument that makes the server's executable run one job.
pub const SUBCOMMAND: &str = "media-job";

/// The maximum length of an output line of a job. A longer one is invalid.
const MAX_LINE: u64 = 64 * 1024;

/// Resource limits of a media job.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Limits {
    /// Heap and other private writable memory (`RLIMIT_DATA`), in bytes.
    pub memory_bytes: u64,
    /// The job's nice value.
    pub nice: i32,
    /// Whether the job runs under `SCHED_IDLE`: only when nothing else
    /// wants the CPU.
    pub idle_priority: bool,
}

/// Starts media jobs as child processes.
#[derive(Clone, Debug)]
pub struct Worker {
    /// The executable that runs [`SUBCOMMAND`].
    pub program: PathBuf,
    pub limits: Limits,
    /// Wall time after which a job is killed.
    pub time_limit: Duration,
}

/// A finished job.
#[derive(Debug)]
pub struct Finished {
    pub renditions: Vec<Rendition>,
    /// The job's peak resident memory, as the kernel counted it.
    pub peak_memory_kib: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct Request {
    input: PathBuf,
    kind: Kind,
    out_dir: PathBuf,
    settings: Settings,
    limits: Limits,
    /// The server's process id: a job whose parent is already gone stops.
    parent: i32,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Answer {
    Progress(f32),
    Done {
        renditions: Vec<Output>,
        peak_memory_kib: Option<u64>,
        /// Whether the kernel enforced the whole sandbox.
        sandboxed: bool,
    },
    Failed {
        code: String,
        message: String,
    },
}

#[derive(Serialize, Deserialize)]
struct Output {
    role: String,
    /// A plain name inside the output folder.
    file: String,
    mime: String,
    width: Option<u32>,
    height: Option<u32>,
    duration_ms: Option<u64>,
}

/// The media types a job may name, so every rendition is stored with a
/// type the server expects.
const MIME_TYPES: [&str; 5] = [
    "video/mp4",
    "audio/mp4",
    "image/jpeg",
    "image/png",
    crate::text::TEXT_MIME,
];

impl Worker {
    /// Makes the renditions of `input`, a file detected as `kind`, in
    /// `out_dir`, in a child process. `progress` receives the share done.
    pub fn run(
        &self,
        input: &Path,
        kind: Kind,
        out_dir: &Path,
        settings: &Settings,
        progress: &mut dyn FnMut(f32),
    ) -> Result<Finished, MediaError> {
        let mut child = Command::new(&self.program)
            .arg(SUBCOMMAND)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        // The child is not reaped before the watchdog is stopped, and a
        // pidfd never names another process, so the kill cannot go astray.
        let pidfd = rustix::process::pidfd_open(Pid::from_child(&child), PidfdFlags::empty())
            .map_err(std::io::Error::from)?;
        let (stop, timed_out) = watchdog(pidfd, self.time_limit);

        let request = Request {
            input: input.to_owned(),
            kind,
            out_dir: out_dir.to_owned(),
            settings: settings.clone(),
            limits: self.limits.clone(),
            parent: i32::try_from(std::process::id()).unwrap_or(0),
        };
        if let Some(mut stdin) = child.stdin.take() {
            // A child that died at once has closed its end, and its exit
            // status shows why.
            let _child_exited = serde_json::to_writer(&mut stdin, &request);
        }
        let mut outcome = None;
        let mut answer = None;
        if let Some(stdout) = child.stdout.take() {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            loop {
                line.clear();
                match (&mut reader).take(MAX_LINE).read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                match serde_json::from_str::<Answer>(&line) {
                    Ok(Answer::Progress(share)) => progress(share),
                    Ok(last) => answer = Some(last),
                    Err(_) => {
                        outcome = Some(Err(MediaError::JobStopped(
                            "the job wrote an invalid output line".to_owned(),
                        )));
                        let _exited = child.kill();
                        break;
                    }
                }
            }
        }
        let status = child.wait()?;
        drop(stop);
        // Checked once the job has exited, so nothing it named can change
        // under the check.
        if outcome.is_none() {
            outcome = answer.map(|answer| outcome_of(answer, out_dir));
        }
        if timed_out.load(Ordering::SeqCst) {
            return Err(MediaError::JobStopped(format!(
                "it ran past its time limit of {} s",
                self.time_limit.as_secs()
            )));
        }
        match outcome {
            Some(result) => result,
            None => Err(MediaError::JobStopped(match status.signal() {
                Some(signal) => format!("it ended on signal {signal}"),
                None => format!("it exited with {status} without an outcome"),
            })),
        }
    }
}

/// Kills the job behind `pidfd` once `limit` has passed, unless the
/// returned sender is dropped first. The flag records whether it did.
fn watchdog(pidfd: std::os::fd::OwnedFd, limit: Duration) -> (mpsc::Sender<()>, Arc<AtomicBool>) {
    let (stop, stopped) = mpsc::channel::<()>();
    let fired = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&fired);
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(limit) {
            flag.store(true, Ordering::SeqCst);
            let _ended = rustix::process::pidfd_send_signal(&pidfd, Signal::KILL);
        }
    });
    (stop, fired)
}

/// Turns the job's outcome line into renditions, trusting none of it: each
/// file must be a regular file directly in `out_dir`.
fn outcome_of(answer: Answer, out_dir: &Path) -> Result<Finished, MediaError> {
    match answer {
        Answer::Progress(_) => Err(MediaError::JobStopped(
            "the job sent progress as its outcome".to_owned(),
        )),
        Answer::Failed { code, message } => Err(MediaError::Reported {
            code: FAILURE_CODES
                .into_iter()
                .find(|known| *known == code)
                .unwrap_or("media.failed"),
            message,
        }),
        Answer::Done {
            renditions,
            peak_memory_kib,
            sandboxed,
        } => {
            if !sandboxed {
                tracing::warn!(
                    "a media job ran without the whole Landlock sandbox: the kernel lacks some of it"
                );
            }
            let renditions = renditions
                .into_iter()
                .map(|output| rendition(output, out_dir))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Finished {
                renditions,
                peak_memory_kib,
            })
        }
    }
}

fn rendition(output: Output, out_dir: &Path) -> Result<Rendition, MediaError> {
    let rejected = |what: &str| MediaError::JobStopped(format!("the job named {what}"));
    let mut components = Path::new(&output.file).components();
    let plain = matches!(
        (components.next(), components.next()),
        (Some(Component::Normal(_)), None)
    );
    if !plain {
        return Err(rejected("a file outside its folder"));
    }
    let path = out_dir.join(&output.file);
    if !std::fs::symlink_metadata(&path)?.file_type().is_file() {
        return Err(rejected("something other than a regular file"));
    }
    let role = [
        Role::Main,
        Role::Poster,
        Role::Thumbnail,
        Role::Text,
        Role::PartialText,
    ]
    .into_iter()
    .find(|role| role.as_str() == output.role)
    .ok_or_else(|| rejected("an unknown rendition"))?;
    let mime = MIME_TYPES
        .into_iter()
        .find(|known| *known == output.mime)
        .ok_or_else(|| rejected("an unknown media type"))?;
    Ok(Rendition {
        role,
        path,
        mime,
        width: output.width,
        height: output.height,
        duration_ms: output.duration_ms,
    })
}

/// Runs one job in this process: the child's side. Reads the request from
/// standard input and writes its output lines to standard output. Fails
/// only when the outcome cannot be written.
pub fn child_main() -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let answer = match job(&mut out) {
        Ok(answer) => answer,
        Err(error) => Answer::Failed {
            code: error.code().to_owned(),
            message: error.to_string(),
        },
    };
    send(&mut out, &answer)
}

fn send(out: &mut impl Write, answer: &Answer) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, answer)?;
    out.write_all(b"\n")?;
    out.flush()
}

fn job(out: &mut impl Write) -> Result<Answer, MediaError> {
    let request: Request = serde_json::from_reader(std::io::stdin().lock())
        .map_err(|error| MediaError::JobStopped(format!("invalid request: {error}")))?;
    confine(&request)?;

    // Everything that opens files of its own does so before the sandbox.
    let _libraries = transcode::Libraries::load()?;
    let mut status = std::fs::File::open("/proc/self/status").ok();
    let sandboxed = sandbox(&request.input, &request.out_dir)?;
    if request.kind == Kind::Pdf {
        // The PDF parser panics on much malformed input, with messages that
        // can quote the file, and this process's standard error goes to
        // the server's log. The text module catches those panics.
        std::panic::set_hook(Box::new(|_panic| {}));
    }

    let mut last = None;
    let mut progress = |share: f32| {
        let percent = (share * 100.0).clamp(0.0, 100.0) as u8;
        if last != Some(percent) {
            last = Some(percent);
            // The server reads until the outcome, so a lost progress line
            // only makes the bar jump.
            let _lost = send(out, &Answer::Progress(share));
        }
    };
    let renditions = catch_unwind(AssertUnwindSafe(|| {
        transcode::transcode(
            &request.input,
            request.kind,
            &request.out_dir,
            &request.settings,
            &mut progress,
        )
    }))
    .map_err(|_payload| MediaError::JobStopped("the transcoder panicked".to_owned()))??;

    let renditions = renditions
        .into_iter()
        .map(|rendition| Output {
            role: rendition.role.as_str().to_owned(),
            file: rendition
                .path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            mime: rendition.mime.to_owned(),
            width: rendition.width,
            height: rendition.height,
            duration_ms: rendition.duration_ms,
        })
        .collect();
    Ok(Answer::Done {
        renditions,
        peak_memory_kib: status.as_mut().and_then(peak_memory_kib),
        sandboxed,
    })
}

/// Restricts this thread, and the threads it starts, to reading `input`
/// and to working in `out_dir`: no other file, no TCP connection or
/// listening port, no abstract Unix socket or signal outside the sandbox.
/// Returns whether the kernel enforced all of it. An older kernel enforces
/// the parts it supports.
fn sandbox(input: &Path, out_dir: &Path) -> Result<bool, MediaError> {
    use landlock::{
        ABI, Access, AccessFs, AccessNet, Ruleset, RulesetAttr, RulesetCreatedAttr, RulesetStatus,
        Scope, path_beneath_rules,
    };
    let abi = ABI::V6;
    let failed = |error: landlock::RulesetError| {
        MediaError::JobStopped(format!("setting up the sandbox failed: {error}"))
    };
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|rules| rules.handle_access(AccessNet::from_all(abi)))
        .and_then(|rules| rules.scope(Scope::from_all(abi)))
        .and_then(|rules| rules.create())
        .and_then(|rules| rules.add_rules(path_beneath_rules([input], AccessFs::from_read(abi))))
        .and_then(|rules| rules.add_rules(path_beneath_rules([out_dir], AccessFs::from_all(abi))))
        .and_then(|rules| rules.restrict_self())
        .map_err(failed)?;
    Ok(status.ruleset == RulesetStatus::FullyEnforced)
}

/// Applies the request's limits to this process before any file is read.
fn confine(request: &Request) -> Result<(), MediaError> {
    use rustix::process::{DumpableBehavior, Resource, Rlimit};
    let failed = |what: &str, errno: rustix::io::Errno| {
        MediaError::JobStopped(format!("{what} failed: {}", std::io::Error::from(errno)))
    };
    rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
        .map_err(|errno| failed("asking to end with the server", errno))?;
    let parent = rustix::process::getppid().map_or(0, |pid| pid.as_raw_nonzero().get());
    if parent != request.parent {
        return Err(MediaError::JobStopped("the server has stopped".to_owned()));
    }

    // No core file may hold the plaintext, and no other process of the
    // same user may attach to this one.
    rustix::process::set_dumpable_behavior(DumpableBehavior::NotDumpable)
        .map_err(|errno| failed("turning off core dumps", errno))?;
    let none = Rlimit {
        current: Some(0),
        maximum: Some(0),
    };
    rustix::process::setrlimit(Resource::Core, none)
        .map_err(|errno| failed("turning off core dumps", errno))?;
    let memory = Some(request.limits.memory_bytes);
    rustix::process::setrlimit(
        Resource::Data,
        Rlimit {
            current: memory,
            maximum: memory,
        },
    )
    .map_err(|errno| failed("setting the memory limit", errno))?;

    // What the job writes is for the server's user alone, like the folder
    // it is in.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    // Threads that FFmpeg and libx264 start later inherit both settings.
    if request.limits.nice != 0 {
        rustix::process::setpriority_process(None, request.limits.nice)
            .map_err(|errno| failed("setting the nice value", errno))?;
    }
    if request.limits.idle_priority {
        use thread_priority::unix::{
            NormalThreadSchedulePolicy, ThreadSchedulePolicy, set_thread_priority_and_policy,
            thread_native_id,
        };
        set_thread_priority_and_policy(
            thread_native_id(),
            thread_priority::ThreadPriority::Min,
            ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Idle),
        )
        .map_err(|error| MediaError::JobStopped(format!("moving to SCHED_IDLE failed: {error}")))?;
    }
    Ok(())
}

/// Reads this process's peak resident memory from its `/proc` status,
/// opened before the sandbox closed `/proc`.
fn peak_memory_kib(file: &mut std::fs::File) -> Option<u64> {
    use std::io::Seek;
    file.rewind().ok()?;
    let mut status = String::new();
    file.read_to_string(&mut status).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn done(file: &str, role: &str, mime: &str) -> Answer {
        Answer::Done {
            renditions: vec![Output {
                role: role.to_owned(),
                file: file.to_owned(),
                mime: mime.to_owned(),
                width: Some(2),
                height: Some(2),
                duration_ms: None,
            }],
            peak_memory_kib: None,
            sandboxed: true,
        }
    }

    #[test]
    fn outcome_accepts_a_regular_file_in_the_folder() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("main.jpg"), b"x").unwrap();
        let finished = outcome_of(done("main.jpg", "main", "image/jpeg"), folder.path()).unwrap();
        assert_eq!(finished.renditions[0].path, folder.path().join("main.jpg"));
        assert_eq!(finished.renditions[0].role, Role::Main);
    }

    #[test]
    fn outcome_refuses_paths_outside_the_folder() {
        let folder = tempfile::tempdir().unwrap();
        for file in ["../main.jpg", "/etc/passwd", "a/b.jpg", "..", ""] {
            let rejected = outcome_of(done(file, "main", "image/jpeg"), folder.path());
            assert!(
                matches!(rejected, Err(MediaError::JobStopped(_))),
                "{file:?} was accepted"
            );
        }
    }

    #[test]
    fn outcome_accepts_document_text() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("text.txt"), b"Dear Jordan").unwrap();
        for (role, expected) in [("text", Role::Text), ("partial_text", Role::PartialText)] {
            let answer = done("text.txt", role, crate::text::TEXT_MIME);
            let finished = outcome_of(answer, folder.path()).unwrap();
            assert_eq!(finished.renditions[0].role, expected);
        }
    }

    #[test]
    fn outcome_refuses_a_link_to_another_file() {
        let folder = tempfile::tempdir().unwrap();
        let secret = folder.path().join("secret");
        std::fs::write(&secret, b"key").unwrap();
        let out = folder.path().join("out");
        std::fs::create_dir(&out).unwrap();
        std::os::unix::fs::symlink(&secret, out.join("main.jpg")).unwrap();
        let rejected = outcome_of(done("main.jpg", "main", "image/jpeg"), &out);
        assert!(matches!(rejected, Err(MediaError::JobStopped(_))));
    }

    #[test]
    fn outcome_refuses_unknown_roles_and_types() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("main.jpg"), b"x").unwrap();
        assert!(outcome_of(done("main.jpg", "original", "image/jpeg"), folder.path()).is_err());
        assert!(outcome_of(done("main.jpg", "main", "text/html"), folder.path()).is_err());
    }

    #[test]
    fn sandbox_allows_input_and_output_only() {
        let folder = tempfile::tempdir().unwrap();
        let input = folder.path().join("source");
        std::fs::write(&input, b"upload").unwrap();
        let out = folder.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let neighbour = folder.path().join("key");
        std::fs::write(&neighbour, b"secret").unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();

        // Landlock restricts the calling thread and what it starts, so the
        // rest of the test process stays free.
        let checked = std::thread::spawn(move || {
            assert!(sandbox(&input, &out).unwrap(), "the kernel lacks Landlock");
            assert_eq!(std::fs::read(&input).unwrap(), b"upload");
            std::fs::write(out.join("main.jpg"), b"x").unwrap();
            assert_eq!(std::fs::read(out.join("main.jpg")).unwrap(), b"x");
            for outside in [neighbour.as_path(), Path::new("/etc/hostname")] {
                let error = std::fs::read(outside).unwrap_err();
                assert_eq!(
                    error.kind(),
                    std::io::ErrorKind::PermissionDenied,
                    "{outside:?}"
                );
            }
            let error = std::fs::write(folder.path().join("new"), b"x").unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::PermissionDenied);
            let error = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::PermissionDenied);
        });
        checked.join().unwrap();
    }

    #[test]
    fn reported_failures_keep_known_codes_only() {
        let folder = tempfile::tempdir().unwrap();
        let failed = |code: &str| {
            let answer = Answer::Failed {
                code: code.to_owned(),
                message: "m".to_owned(),
            };
            match outcome_of(answer, folder.path()) {
                Err(error) => error.code(),
                Ok(_) => "accepted",
            }
        };
        assert_eq!(failed("media.too_long"), "media.too_long");
        assert_eq!(failed("media.over_memory_limit"), "media.over_memory_limit");
        assert_eq!(failed("server.internal"), "media.failed");
    }
}
