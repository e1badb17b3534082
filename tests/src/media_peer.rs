//! Media peers for tests: webrtc-rs connections on 127.0.0.1 that publish
//! numbered audio and video packets, or receive them, so a test can check
//! what the SFU forwards and what it holds back.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use rtc::rtp;
pub use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters,
};
use tokio::sync::watch;
use webrtc::media_stream::MediaStreamTrack;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
pub use webrtc::peer_connection::RTCPeerConnectionState;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceGatheringState, RTCSessionDescription, Registry,
    SettingEngineBuilder, register_default_interceptors,
};
use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit, RtpSender};

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
    tracks: Vec<Track>,
}

/// A track a test publisher sends.
struct Track {
    kind: RtpCodecKind,
    local: Arc<TrackLocalStaticRTP>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
}

/// Returns the codec a test publisher sends for a kind.
fn codec(kind: RtpCodecKind) -> RTCRtpCodec {
    match kind {
        RtpCodecKind::Audio => RTCRtpCodec {
            mime_type: "audio/opus".to_owned(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
            rtcp_feedback: vec![],
        },
        _ => RTCRtpCodec {
            mime_type: "video/VP8".to_owned(),
            clock_rate: 90_000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![],
        },
    }
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
        let mut media = MediaEngine::default();
        media.register_default_codecs()?;
        let interceptors = register_default_interceptors(Registry::new(), &mut media)?;
        let settings = SettingEngineBuilder::new()
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .with_network_types(vec![NetworkType::Udp4])
            .build();
        let connection = PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(media)
            .with_setting_engine(settings)
            .with_interceptor_registry(interceptors)
            .with_handler(Arc::new(Events {
                gathered: gathered_sender,
                state: state_sender,
                received: received.clone(),
                remotes: remotes.clone(),
            }))
            .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
            .build()
            .await?;
        Ok(Self {
            connection: Arc::new(connection),
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
            let name = if kind == RtpCodecKind::Audio {
                "audio"
            } else {
                "video"
            };
            let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
                "camera".to_owned(),
                name.to_owned(),
                name.to_owned(),
                kind,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters {
                        ssrc: Some(ssrc),
                        ..Default::default()
                    },
                    codec: codec(kind),
                    ..Default::default()
                }],
            )));
            let sender = peer
                .connection
                .add_track(track.clone() as Arc<dyn TrackLocal>)
                .await?;
            peer.tracks.push(Track {
                kind,
                local: track,
                sender,
                ssrc,
            });
        }
        Ok(peer)
    }

    /// Creates a peer that receives audio and video.
    pub async fn viewer() -> anyhow::Result<Self> {
        let peer = Self::new().await?;
        for kind in [RtpCodecKind::Audio, RtpCodecKind::Video] {
            peer.connection
                .add_transceiver_from_kind(
                    kind,
                    Some(RTCRtpTransceiverInit {
                        direction: RTCRtpTransceiverDirection::Recvonly,
                        streams: vec![],
                        send_encodings: vec![],
                    }),
                )
                .await?;
        }
        Ok(peer)
    }

    /// Makes a complete offer, with every candidate in it.
    pub async fn offer(&mut self) -> anyhow::Result<String> {
        let offer = self.connection.create_offer(None).await?;
        self.connection.set_local_description(offer).await?;
        tokio::time::timeout(Duration::from_secs(5), self.gathered.wait_for(|done| *done))
            .await??;
        let local = self.connection.local_description().await;
        Ok(local.map(|d| d.sdp).unwrap_or_default())
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
        for Track {
            kind,
            local,
            sender,
            ssrc,
        } in &self.tracks
        {
            let wanted = codec(*kind).mime_type;
            let parameters = sender.get_parameters().await?;
            let payload_type = parameters
                .rtp_parameters
                .codecs
                .iter()
                .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(&wanted))
                .map(|c| c.payload_type)
                .ok_or_else(|| anyhow::anyhow!("{wanted} not negotiated"))?;
            outgoing.push((*kind, local.clone(), payload_type, *ssrc));
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
