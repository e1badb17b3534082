//! The selective forwarding unit (SFU) of live video calls, on webrtc-rs.
//!
//! Each participant publishes their camera and microphone once, on a
//! connection of their own, and watches each other participant on one
//! connection per publisher. The SFU forwards the publisher's RTP
//! unchanged to every viewer: only the SSRC, the payload type (each
//! viewer's connection negotiates its own) and the header extensions are
//! rewritten. Media is DTLS-SRTP, and webrtc-rs checks the browser's
//! certificate against the fingerprint in its SDP.
//!
//! The SFU enforces what the supervisor decides: a paused participant's
//! media reaches nobody and nothing reaches them, and a muted
//! participant's sound (or picture) is not forwarded, whatever their
//! browser sends. A slow or failed viewer only loses its own packets.
//!
//! Calls run on a runtime of their own, so a busy web worker never delays
//! media, and nothing of the media is stored.

pub mod client;
mod forward;
pub mod keyframes;
mod peer;
mod ports;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rtc::rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RtpCodecKind};
use tokio::sync::{Notify, broadcast, mpsc, oneshot};
use tracing::{debug, info, warn};
use uuid::Uuid;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::PeerConnection;

use ports::Ports;

/// How long a viewer's offer waits for the publisher's first packets.
const TRACK_WAIT: Duration = Duration::from_secs(10);
/// Packets of one published track waiting for its slowest viewer; a viewer
/// further behind loses packets, and nobody else waits for it.
const FANOUT_CAPACITY: usize = 512;
/// At most one key-frame request per publisher in this time.
const KEYFRAME_INTERVAL: Duration = Duration::from_millis(500);

/// The SFU's listening addresses and ports, and the address it announces.
#[derive(Clone, Debug)]
pub struct SfuConfig {
    /// The address each connection binds.
    pub bind_address: IpAddr,
    /// The address announced to browsers instead, behind a one-to-one NAT.
    pub public_address: Option<IpAddr>,
    /// The UDP ports connections bind, both ends included.
    pub port_min: u16,
    pub port_max: u16,
}

/// The reasons a media request fails.
#[derive(Debug, thiserror::Error)]
pub enum SfuError {
    #[error("the session description is not valid SDP: {0}")]
    InvalidSdp(String),
    #[error("no free UDP port between {min} and {max}")]
    NoPort { min: u16, max: u16 },
    #[error("the participant is not in this call")]
    UnknownParticipant,
    #[error("the publisher sends no media yet")]
    NothingPublished,
    #[error("gathering the SFU's own network addresses did not finish")]
    Gathering,
    #[error("WebRTC: {0}")]
    WebRtc(String),
    #[error("the SFU has stopped")]
    Stopped,
}

/// Something the owner of a call needs to hear about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SfuEvent {
    /// A media connection failed: its consent checks went unanswered, or
    /// its DTLS handshake failed. The owner closes it with
    /// [`Sfu::close_failed`] and decides what the call shows.
    ConnectionFailed {
        call: Uuid,
        participant: Uuid,
        /// For a viewing connection, whose media it carried.
        publisher: Option<Uuid>,
    },
    /// A connection's DTLS handshake failed after ICE had connected: the
    /// certificate did not match the fingerprint in the participant's
    /// offer, or the handshake was not DTLS at all. A security event.
    HandshakeFailed {
        call: Uuid,
        participant: Uuid,
        publisher: Option<Uuid>,
    },
}

/// The two kinds of a participant's media.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaKind {
    Audio,
    Video,
}

/// Counters of one call, for tests and benchmarks.
#[derive(Default, Debug)]
pub struct CallCounters {
    /// RTP packets received from publishers.
    pub received: AtomicU64,
    /// RTP packets written to viewers.
    pub forwarded: AtomicU64,
    /// RTP packets not forwarded because a participant was paused or muted.
    pub held_back: AtomicU64,
    /// Key-frame requests sent to publishers.
    pub keyframe_requests: AtomicU64,
}

/// The SFU: cheap to clone, one per node.
#[derive(Clone)]
pub struct Sfu {
    shared: Arc<Shared>,
}

struct Shared {
    config: SfuConfig,
    ports: Ports,
    runtime: tokio::runtime::Handle,
    calls: Mutex<HashMap<Uuid, Arc<Call>>>,
    events: mpsc::UnboundedSender<SfuEvent>,
    _stop: Mutex<Option<oneshot::Sender<()>>>,
}

struct Call {
    id: Uuid,
    participants: Mutex<HashMap<Uuid, Arc<Participant>>>,
    counters: Arc<CallCounters>,
}

/// One person in a call, as the SFU tracks them.
pub(crate) struct Participant {
    id: Uuid,
    paused: AtomicBool,
    audio_muted: AtomicBool,
    video_muted: AtomicBool,
    publishing: Mutex<Option<Arc<dyn PeerConnection>>>,
    tracks: Mutex<Vec<Arc<PublishedTrack>>>,
    tracks_changed: Notify,
    /// Viewing connections, by the publisher they carry.
    viewing: Mutex<HashMap<Uuid, Arc<dyn PeerConnection>>>,
    last_keyframe_request: Mutex<Option<Instant>>,
    counters: Arc<CallCounters>,
}

/// One track a participant publishes.
pub(crate) struct PublishedTrack {
    kind: RtpCodecKind,
    codec: RTCRtpCodec,
    ssrc: u32,
    remote: Arc<dyn TrackRemote>,
    fanout: broadcast::Sender<rtc::rtp::Packet>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Sfu {
    /// Starts the SFU's runtime on threads of its own. Events about calls
    /// go to `events`.
    pub fn start(
        config: SfuConfig,
        events: mpsc::UnboundedSender<SfuEvent>,
    ) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("sfu")
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("sfu-runtime".to_owned())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        let ports = Ports::new(config.port_min, config.port_max);
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                ports,
                runtime: handle,
                calls: Mutex::new(HashMap::new()),
                events,
                _stop: Mutex::new(Some(stop)),
            }),
        })
    }

    /// Runs `work` on the SFU's runtime.
    async fn run<T, F>(&self, work: F) -> Result<T, SfuError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, SfuError>> + Send + 'static,
    {
        self.shared
            .runtime
            .spawn(work)
            .await
            .map_err(|_stopped| SfuError::Stopped)?
    }

    fn call(&self, call: Uuid) -> Arc<Call> {
        lock(&self.shared.calls)
            .entry(call)
            .or_insert_with(|| {
                Arc::new(Call {
                    id: call,
                    participants: Mutex::new(HashMap::new()),
                    counters: Arc::new(CallCounters::default()),
                })
            })
            .clone()
    }

    fn existing_call(&self, call: Uuid) -> Option<Arc<Call>> {
        lock(&self.shared.calls).get(&call).cloned()
    }

    /// Takes a participant's offer to publish and returns the SFU's answer.
    /// A participant who publishes again (after a reconnect) replaces
    /// their earlier connection.
    pub async fn publish(
        &self,
        call: Uuid,
        participant: Uuid,
        offer: String,
    ) -> Result<String, SfuError> {
        let call = self.call(call);
        let shared = self.shared.clone();
        self.run(async move {
            let person = call.participant(participant);
            let role = peer::Role {
                call: call.id,
                participant,
                publisher: None,
                publishing: Some(person.clone()),
            };
            let (connection, mut watchers) = peer::build(&shared, role, false).await?;
            let answer = match peer::answer(&connection, &offer, &mut watchers).await {
                Ok(answer) => answer,
                Err(error) => {
                    // A bad offer leaves the connection that works alone.
                    let _ = connection.close().await;
                    return Err(error);
                }
            };
            // Removed, or the call ended, while the connection was made:
            // it must not outlive them.
            if !shared.is_current(&call, &person) {
                let _ = connection.close().await;
                return Err(SfuError::UnknownParticipant);
            }
            // The new connection's tracks arrive only once the browser
            // has the answer, so the earlier tracks can go now.
            lock(&person.tracks).clear();
            let earlier = lock(&person.publishing).replace(connection);
            if let Some(earlier) = earlier {
                let _ = earlier.close().await;
            }
            info!(call = %call.id, %participant, "participant publishes");
            Ok(answer)
        })
        .await
    }

    /// Takes a viewer's offer to receive one publisher's media and returns
    /// the SFU's answer. Waits a little for the publisher's first packets.
    pub async fn view(
        &self,
        call: Uuid,
        viewer: Uuid,
        publisher: Uuid,
        offer: String,
    ) -> Result<String, SfuError> {
        let Some(call) = self.existing_call(call) else {
            return Err(SfuError::UnknownParticipant);
        };
        let shared = self.shared.clone();
        self.run(async move {
            let source = call.find(publisher).ok_or(SfuError::UnknownParticipant)?;
            let watcher = call.participant(viewer);
            let wanted = offered_kinds(&offer);
            let tracks = source.wait_for_tracks(&wanted).await?;
            forward::view(&shared, &call, &watcher, &source, tracks, &offer).await
        })
        .await
    }

    /// Pauses or resumes a participant: while paused, their media reaches
    /// nobody and nobody's media reaches them.
    pub fn set_paused(&self, call: Uuid, participant: Uuid, paused: bool) {
        let Some(call) = self.existing_call(call) else {
            return;
        };
        let Some(person) = call.find(participant) else {
            return;
        };
        person.paused.store(paused, Ordering::Relaxed);
        if !paused {
            // Everyone starts again from a key frame.
            let everyone: Vec<Arc<Participant>> =
                lock(&call.participants).values().cloned().collect();
            self.shared.runtime.spawn(async move {
                for publisher in everyone {
                    publisher.request_keyframe().await;
                }
            });
        }
    }

    /// Mutes or unmutes one kind of a participant's media for everyone.
    pub fn set_muted(&self, call: Uuid, participant: Uuid, kind: MediaKind, muted: bool) {
        let Some(person) = self
            .existing_call(call)
            .and_then(|call| call.find(participant))
        else {
            return;
        };
        match kind {
            MediaKind::Audio => person.audio_muted.store(muted, Ordering::Relaxed),
            MediaKind::Video => {
                person.video_muted.store(muted, Ordering::Relaxed);
                if !muted {
                    self.shared.runtime.spawn(async move {
                        person.request_keyframe().await;
                    });
                }
            }
        }
    }

    /// Takes a participant out of the call: their connections close, and
    /// so do the others' connections that carried their media.
    pub async fn remove(&self, call: Uuid, participant: Uuid) {
        let Some(call) = self.existing_call(call) else {
            return;
        };
        let _ = self
            .run(async move {
                let removed = lock(&call.participants).remove(&participant);
                let mut closing = Vec::new();
                if let Some(person) = removed {
                    closing.extend(lock(&person.publishing).take());
                    closing.extend(lock(&person.viewing).drain().map(|(_, c)| c));
                }
                for other in lock(&call.participants).values() {
                    closing.extend(lock(&other.viewing).remove(&participant));
                }
                for connection in closing {
                    let _ = connection.close().await;
                }
                info!(call = %call.id, %participant, "participant's media closed");
                Ok(())
            })
            .await;
    }

    /// Ends a call: every connection of it closes.
    pub async fn end(&self, call: Uuid) {
        let Some(call) = lock(&self.shared.calls).remove(&call) else {
            return;
        };
        let _ = self
            .run(async move {
                let people: Vec<Arc<Participant>> =
                    lock(&call.participants).drain().map(|(_, p)| p).collect();
                for person in people {
                    let mut closing: Vec<Arc<dyn PeerConnection>> = Vec::new();
                    closing.extend(lock(&person.publishing).take());
                    closing.extend(lock(&person.viewing).drain().map(|(_, c)| c));
                    for connection in closing {
                        let _ = connection.close().await;
                    }
                }
                info!(call = %call.id, "call's media ended");
                Ok(())
            })
            .await;
    }

    /// Closes one failed connection, after a [`SfuEvent::ConnectionFailed`].
    pub async fn close_failed(&self, call: Uuid, participant: Uuid, publisher: Option<Uuid>) {
        let Some(person) = self
            .existing_call(call)
            .and_then(|call| call.find(participant))
        else {
            return;
        };
        let _ = self
            .run(async move {
                let connection = match publisher {
                    Some(publisher) => lock(&person.viewing).remove(&publisher),
                    None => lock(&person.publishing).take(),
                };
                if let Some(connection) = connection {
                    let _ = connection.close().await;
                }
                Ok(())
            })
            .await;
    }

    /// Returns the counters of a call, while it has media.
    pub fn counters(&self, call: Uuid) -> Option<Arc<CallCounters>> {
        self.existing_call(call).map(|call| call.counters.clone())
    }
}

impl Shared {
    /// Returns whether `person` is still in `call` and `call` still runs.
    fn is_current(&self, call: &Arc<Call>, person: &Arc<Participant>) -> bool {
        let live = lock(&self.calls)
            .get(&call.id)
            .is_some_and(|running| Arc::ptr_eq(running, call));
        live && call
            .find(person.id)
            .is_some_and(|current| Arc::ptr_eq(&current, person))
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Some(stop) = lock(&self._stop).take() {
            let _ = stop.send(());
        }
    }
}

impl Call {
    fn find(&self, participant: Uuid) -> Option<Arc<Participant>> {
        lock(&self.participants).get(&participant).cloned()
    }

    fn participant(&self, participant: Uuid) -> Arc<Participant> {
        lock(&self.participants)
            .entry(participant)
            .or_insert_with(|| {
                Arc::new(Participant {
                    id: participant,
                    paused: AtomicBool::new(false),
                    audio_muted: AtomicBool::new(false),
                    video_muted: AtomicBool::new(false),
                    publishing: Mutex::new(None),
                    tracks: Mutex::new(Vec::new()),
                    tracks_changed: Notify::new(),
                    viewing: Mutex::new(HashMap::new()),
                    last_keyframe_request: Mutex::new(None),
                    counters: self.counters.clone(),
                })
            })
            .clone()
    }
}

impl Participant {
    /// Returns whether this participant's media of `kind` may be forwarded now.
    fn sends(&self, kind: RtpCodecKind) -> bool {
        let muted = match kind {
            RtpCodecKind::Audio => &self.audio_muted,
            _ => &self.video_muted,
        };
        !self.paused.load(Ordering::Relaxed) && !muted.load(Ordering::Relaxed)
    }

    /// Returns whether this participant may receive media now.
    fn receives(&self) -> bool {
        !self.paused.load(Ordering::Relaxed)
    }

    /// Takes a new track from the publishing connection and starts reading
    /// its packets.
    async fn add_track(self: &Arc<Self>, call: Uuid, remote: Arc<dyn TrackRemote>) {
        let kind = remote.kind().await;
        let Some(&ssrc) = remote.ssrcs().await.first() else {
            warn!(%call, participant = %self.id, "published track without an SSRC");
            return;
        };
        let Some(codec) = remote.codec(ssrc).await else {
            warn!(%call, participant = %self.id, "published track without a codec");
            return;
        };
        debug!(%call, participant = %self.id, %kind, mime = %codec.mime_type, "track published");
        let (fanout, _) = broadcast::channel(FANOUT_CAPACITY);
        let track = Arc::new(PublishedTrack {
            kind,
            codec,
            ssrc,
            remote,
            fanout,
        });
        lock(&self.tracks).push(track.clone());
        self.tracks_changed.notify_waiters();
        let counters = self.counters.clone();
        tokio::spawn(async move {
            while let Some(event) = track.remote.poll().await {
                match event {
                    TrackRemoteEvent::OnRtpPacket(packet) => {
                        counters.received.fetch_add(1, Ordering::Relaxed);
                        // No viewer yet is fine.
                        let _ = track.fanout.send(packet);
                    }
                    TrackRemoteEvent::OnEnded => break,
                    _ => {}
                }
            }
        });
    }

    /// Waits until the participant publishes a track of every kind in
    /// `wanted`, or the wait runs out with at least one; returns them.
    async fn wait_for_tracks(
        &self,
        wanted: &[RtpCodecKind],
    ) -> Result<Vec<Arc<PublishedTrack>>, SfuError> {
        let deadline = tokio::time::Instant::now() + TRACK_WAIT;
        loop {
            let changed = self.tracks_changed.notified();
            let tracks: Vec<Arc<PublishedTrack>> = lock(&self.tracks)
                .iter()
                .filter(|track| wanted.contains(&track.kind))
                .cloned()
                .collect();
            let complete = wanted
                .iter()
                .all(|kind| tracks.iter().any(|track| track.kind == *kind));
            if complete {
                return Ok(tracks);
            }
            if tokio::time::Instant::now() >= deadline {
                return if tracks.is_empty() {
                    Err(SfuError::NothingPublished)
                } else {
                    Ok(tracks)
                };
            }
            let _ = tokio::time::timeout_at(deadline, changed).await;
        }
    }

    /// Asks the participant's browser for a key frame on each video track,
    /// at most once every [`KEYFRAME_INTERVAL`].
    async fn request_keyframe(&self) {
        {
            let mut last = lock(&self.last_keyframe_request);
            if last.is_some_and(|at| at.elapsed() < KEYFRAME_INTERVAL) {
                return;
            }
            *last = Some(Instant::now());
        }
        let tracks: Vec<Arc<PublishedTrack>> = lock(&self.tracks).clone();
        for track in tracks
            .iter()
            .filter(|track| track.kind == RtpCodecKind::Video)
        {
            let request = PictureLossIndication {
                sender_ssrc: 0,
                media_ssrc: track.ssrc,
            };
            match track.remote.write_rtcp(vec![Box::new(request)]).await {
                Ok(()) => {
                    self.counters
                        .keyframe_requests
                        .fetch_add(1, Ordering::Relaxed);
                }
                Err(error) => debug!(participant = %self.id, %error, "key-frame request failed"),
            }
        }
    }
}

/// The media kinds an offer's `m=` lines ask for.
fn offered_kinds(offer: &str) -> Vec<RtpCodecKind> {
    let mut kinds = Vec::new();
    for line in offer.lines() {
        let kind = if line.starts_with("m=audio") {
            RtpCodecKind::Audio
        } else if line.starts_with("m=video") {
            RtpCodecKind::Video
        } else {
            continue;
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_kinds_follow_the_media_lines() {
        let offer = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
        assert_eq!(
            offered_kinds(offer),
            [RtpCodecKind::Audio, RtpCodecKind::Video]
        );
        assert_eq!(offered_kinds("v=0\r\nm=application 9 x\r\n"), []);
    }
}
