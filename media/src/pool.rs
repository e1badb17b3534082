//! A fixed set of worker threads for blocking media work, fed through a
//! bounded queue.
//!
//! A full queue refuses a job at once ([`Busy`]) rather than growing a
//! backlog. A job that panics is caught: the worker logs it and takes the
//! next job, and the job is not run again. The code waiting for the job's
//! result finds its channel closed and decides what that means.
//!
//! Workers run at a lower scheduling priority (a higher nice value) than
//! the threads that answer requests, so a long transcode takes the spare
//! CPU and conversations stay quick. Threads that FFmpeg and libx264 start
//! from a worker inherit its nice value.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;

use tracing::{error, warn};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The queue is full: the caller should try again later.
#[derive(Debug, thiserror::Error)]
#[error("media processing is busy; try again later")]
pub struct Busy;

/// The worker threads and the queue in front of them.
pub struct Pool {
    sender: SyncSender<Job>,
    workers: usize,
    queue: usize,
}

impl Pool {
    /// Starts `workers` threads at nice value `nice`, behind a queue that
    /// accepts at most `queue` waiting jobs.
    pub fn start(workers: usize, queue: usize, nice: i32) -> std::io::Result<Pool> {
        let (sender, receiver) = sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        for number in 0..workers.max(1) {
            let receiver = Arc::clone(&receiver);
            thread::Builder::new()
                .name(format!("media-worker-{number}"))
                .spawn(move || work(&receiver, nice))?;
        }
        Ok(Pool {
            sender,
            workers: workers.max(1),
            queue,
        })
    }

    /// Queues a job, or refuses it when the queue is full.
    pub fn submit(&self, job: impl FnOnce() + Send + 'static) -> Result<(), Busy> {
        match self.sender.try_send(Box::new(job)) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Busy),
        }
    }

    /// Returns the number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Returns the maximum number of waiting jobs.
    pub fn queue(&self) -> usize {
        self.queue
    }
}

fn work(receiver: &Mutex<Receiver<Job>>, nice: i32) {
    if nice != 0 {
        // On Linux the calling thread is the "process" a zero id names.
        if let Err(cause) = rustix::process::setpriority_process(None, nice) {
            warn!(%cause, nice, "media worker keeps its scheduling priority");
        }
    }
    loop {
        let next = match receiver.lock() {
            Ok(guard) => guard.recv(),
            Err(poisoned) => poisoned.into_inner().recv(),
        };
        let Ok(job) = next else { return };
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            error!("a media job crashed; the worker goes on with the next one");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;
    use std::time::Duration;

    #[test]
    fn full_queue_rejects_at_once() {
        let pool = Pool::start(1, 1, 0).unwrap();
        let (release, wait) = channel::<()>();
        let (started, running) = channel::<()>();
        pool.submit(move || {
            started.send(()).unwrap();
            let _ = wait.recv();
        })
        .unwrap();
        running.recv_timeout(Duration::from_secs(5)).unwrap();
        pool.submit(|| {}).unwrap();
        assert!(pool.submit(|| {}).is_err(), "a third job found room");
        release.send(()).unwrap();
    }

    #[test]
    fn crashed_job_not_retried() {
        let pool = Pool::start(1, 4, 0).unwrap();
        let (sender, results) = channel::<u32>();
        let runs = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counted = Arc::clone(&runs);
        let crashing = sender.clone();
        pool.submit(move || {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _keep = crashing;
            panic!("a job fails hard");
        })
        .unwrap();
        pool.submit(move || sender.send(7).unwrap()).unwrap();
        assert_eq!(results.recv_timeout(Duration::from_secs(5)).unwrap(), 7);
        assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn workers_run_at_nice_value() {
        let pool = Pool::start(1, 1, 7).unwrap();
        let (sender, results) = channel();
        pool.submit(move || {
            sender
                .send(rustix::process::getpriority_process(None).unwrap())
                .unwrap();
        })
        .unwrap();
        assert_eq!(results.recv_timeout(Duration::from_secs(5)).unwrap(), 7);
    }
}
