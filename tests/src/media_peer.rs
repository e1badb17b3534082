//! Media peers for tests: webrtc-rs connections on 127.0.0.1 that publish
//! numbered audio and video packets, or receive them, so a test can check
//! what the SFU forwards and what it holds back.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kinlink_media::sfu::client::{self, SendingTrack};
use rtc::rtp;
pub use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use tokio::sync::watch;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
pub use webrtc::peer_connection::RTCPeerConnectionState;
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionEventHandler, RTCIceGatheringState, RTCSessionDescription,
};

/// Payloads a peer received, with their kind.
type Received = Arc<Mutex<Vec<(RtpCodecKind, Vec<u8>)>>>;

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Events {
    gathered: watch::Sender<bool>,
    state: watch::Sender<RTCPeerConnectionState>,
    received: Received,
    remotes: Arc<Mutex<Vec<Arc<dyn TrackRemote>>>>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Events {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.state.send(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        lock(&self.remotes).push(track.clone());
        let received = self.received.clone();
        tokio::spawn(async move {
            let kind = track.kind().await;
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                    lock(&received).push((kind, packet.payload.to_vec()));
                }
            }
        });
    }
}

/// One webrtc-rs connection of a test participant.
pub struct MediaPeer {
    pub connection: Arc<dyn PeerConnection>,
    gathered: watch::Receiver<bool>,
    pub state: watch::Receiver<RTCPeerConnectionState>,
    received: Received,
    remotes: Arc<Mutex<Vec<Arc<dyn TrackRemote>>>>,
    tracks: Vec<SendingTrack>,
}

/// Returns the payload of packet `n` of a kind: recognisable, and
/// different for every packet.
pub fn payload(kind: RtpCodecKind, n: u32) -> Vec<u8> {
    let mut bytes = vec![if kind == RtpCodecKind::Audio {
        0xA0
    } else {
        0xB0
    }];
    bytes.extend_from_slice(&n.to_be_bytes());
    bytes.extend((0..120u8).map(|i| i.wrapping_mul(7) ^ (n as u8)));
    bytes
}

impl MediaPeer {
    async fn new() -> anyhow::Result<Self> {
        let (gathered_sender, gathered) = watch::channel(false);
        let (state_sender, state) = watch::channel(RTCPeerConnectionState::New);
        let received = Received::default();
        let remotes: Arc<Mutex<Vec<Arc<dyn TrackRemote>>>> = Arc::default();
        let connection = client::connect(Arc::new(Events {
            gathered: gathered_sender,
            state: state_sender,
            received: received.clone(),
            remotes: remotes.clone(),
        }))
        .await?;
        Ok(Self {
            connection,
            gathered,
            state,
            received,
            remotes,
            tracks: Vec::new(),
        })
    }

    /// Creates a peer that sends an audio and a video track.
    pub async fn publisher() -> anyhow::Result<Self> {
        let mut peer = Self::new().await?;
        for (kind, ssrc) in [(RtpCodecKind::Audio, 1111), (RtpCodecKind::Video, 2222)] {
            let track = SendingTrack::add(&peer.connection, kind, ssrc).await?;
            peer.tracks.push(track);
        }
        Ok(peer)
    }

    /// Creates a peer that receives audio and video.
    pub async fn viewer() -> anyhow::Result<Self> {
        let peer = Self::new().await?;
        client::receive_audio_and_video(&peer.connection).await?;
        Ok(peer)
    }

    /// Makes a complete offer, with every candidate in it.
    pub async fn offer(&mut self) -> anyhow::Result<String> {
        Ok(client::complete_offer(&self.connection, &mut self.gathered).await?)
    }

    /// Applies the SFU's answer and waits until the media path is up.
    pub async fn accept(&mut self, answer: String) -> anyhow::Result<()> {
        self.connection
            .set_remote_description(RTCSessionDescription::answer(answer)?)
            .await?;
        tokio::time::timeout(
            Duration::from_secs(10),
            self.state
                .wait_for(|state| *state == RTCPeerConnectionState::Connected),
        )
        .await??;
        Ok(())
    }

    /// Starts sending 50 numbered packets a second of each kind, until the
    /// returned sender is dropped or sent `true`.
    pub async fn start_sending(&self) -> anyhow::Result<Sending> {
        let mut outgoing = Vec::new();
        for track in &self.tracks {
            let payload_type = track.payload_type().await?;
            outgoing.push((track.kind, track.local.clone(), payload_type, track.ssrc));
        }
        let sent: Arc<Mutex<HashSet<Vec<u8>>>> = Arc::default();
        let (stop, mut stopped) = watch::channel(false);
        let record = sent.clone();
        let task = tokio::spawn(async move {
            let mut n = 0u32;
            loop {
                for (kind, track, payload_type, ssrc) in &outgoing {
                    let body = payload(*kind, n);
                    lock(&record).insert(body.clone());
                    let packet = rtp::Packet {
                        header: rtp::header::Header {
                            version: 2,
                            payload_type: *payload_type,
                            sequence_number: n as u16,
                            timestamp: n.wrapping_mul(3000),
                            ssrc: *ssrc,
                            marker: true,
                            ..Default::default()
                        },
                        payload: body.into(),
                    };
                    let _ = track.write_rtp(packet).await;
                }
                n += 1;
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    _ = stopped.changed() => break,
                }
            }
        });
        Ok(Sending { sent, stop, task })
    }

    /// Sends raw bytes as an RTCP packet on the first track received,
    /// encrypted like any other RTCP of the connection.
    pub async fn send_raw_rtcp(&self, bytes: Vec<u8>) -> anyhow::Result<()> {
        let remote = lock(&self.remotes)
            .first()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no track received yet"))?;
        remote
            .write_rtcp(vec![Box::new(rtc::rtcp::raw_packet::RawPacket(
                bytes.into(),
            ))])
            .await?;
        Ok(())
    }

    /// Returns how many packets of a kind arrived.
    pub fn count(&self, kind: RtpCodecKind) -> usize {
        lock(&self.received)
            .iter()
            .filter(|(k, _)| *k == kind)
            .count()
    }

    /// Returns how many received payloads differ from every payload
    /// `sending` sent.
    pub fn changed_payloads(&self, sending: &Sending) -> usize {
        let sent = lock(&sending.sent);
        lock(&self.received)
            .iter()
            .filter(|(_, p)| !sent.contains(p))
            .count()
    }

    /// Waits until the connection is closed, failed or disconnected.
    pub async fn wait_until_down(&mut self, within: Duration) -> anyhow::Result<()> {
        tokio::time::timeout(
            within,
            self.state.wait_for(|state| {
                matches!(
                    state,
                    RTCPeerConnectionState::Closed
                        | RTCPeerConnectionState::Disconnected
                        | RTCPeerConnectionState::Failed
                )
            }),
        )
        .await??;
        Ok(())
    }
}

/// A publisher's sending loop.
pub struct Sending {
    sent: Arc<Mutex<HashSet<Vec<u8>>>>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Sending {
    /// Stops sending and waits for the loop to end.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.task.await?;
        Ok(())
    }
}

/// Counts what each peer gets of a kind over `window`.
pub async fn gained(peers: &[&MediaPeer], kind: RtpCodecKind, window: Duration) -> Vec<usize> {
    let before: Vec<usize> = peers.iter().map(|p| p.count(kind)).collect();
    tokio::time::sleep(window).await;
    peers
        .iter()
        .zip(before)
        .map(|(p, b)| p.count(kind) - b)
        .collect()
}

/// Waits until `check` holds, or fails after 10 s.
pub async fn eventually(what: &str, check: impl Fn() -> bool) -> anyhow::Result<()> {
    for _ in 0..100 {
        if check() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("timed out waiting for {what}")
}
