//! The SFU with real webrtc-rs peers on 127.0.0.1: a publisher sends
//! numbered audio and video packets, two viewers receive them through the
//! SFU, and every payload arrives unchanged. Pausing and muting hold media
//! back on the server, whatever the publisher sends, and removing a viewer
//! closes its connection without disturbing the other.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kinlink_media::sfu::{MediaKind, Sfu, SfuConfig};
use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use uuid::Uuid;
use webrtc::media_stream::MediaStreamTrack;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
    Registry, SettingEngineBuilder, register_default_interceptors,
};
use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit};

/// Payloads a viewer received, with their kind.
type Received = Arc<Mutex<Vec<(RtpCodecKind, Vec<u8>)>>>;

struct Client {
    gathered: watch::Sender<bool>,
    state: watch::Sender<RTCPeerConnectionState>,
    received: Received,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Client {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        let _ = self.state.send(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let received = self.received.clone();
        tokio::spawn(async move {
            let kind = track.kind().await;
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                    received
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((kind, packet.payload.to_vec()));
                }
            }
        });
    }
}

struct Peer {
    connection: Arc<dyn PeerConnection>,
    gathered: watch::Receiver<bool>,
    state: watch::Receiver<RTCPeerConnectionState>,
    received: Received,
}

async fn peer() -> anyhow::Result<Peer> {
    let (gathered_sender, gathered) = watch::channel(false);
    let (state_sender, state) = watch::channel(RTCPeerConnectionState::New);
    let received = Received::default();
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
        .with_handler(Arc::new(Client {
            gathered: gathered_sender,
            state: state_sender,
            received: received.clone(),
        }))
        .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
        .build()
        .await?;
    Ok(Peer {
        connection: Arc::new(connection),
        gathered,
        state,
        received,
    })
}

impl Peer {
    /// Makes a complete offer, with every candidate in it.
    async fn offer(&mut self) -> anyhow::Result<String> {
        let offer = self.connection.create_offer(None).await?;
        self.connection.set_local_description(offer).await?;
        tokio::time::timeout(Duration::from_secs(5), self.gathered.wait_for(|done| *done))
            .await??;
        let local = self.connection.local_description().await;
        Ok(local.map(|d| d.sdp).unwrap_or_default())
    }

    async fn accept(&mut self, answer: String) -> anyhow::Result<()> {
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

    fn count(&self, kind: RtpCodecKind) -> usize {
        let received = self
            .received
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        received.iter().filter(|(k, _)| *k == kind).count()
    }
}

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

/// A publisher's track with the payload type and SSRC it sends with.
struct Sending {
    kind: RtpCodecKind,
    track: Arc<TrackLocalStaticRTP>,
    payload_type: u8,
    ssrc: u32,
}

async fn publisher_tracks(
    peer: &Peer,
) -> anyhow::Result<
    Vec<(
        RtpCodecKind,
        Arc<TrackLocalStaticRTP>,
        Arc<dyn webrtc::rtp_transceiver::RtpSender>,
        u32,
    )>,
> {
    let mut tracks = Vec::new();
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
        tracks.push((kind, track, sender, ssrc));
    }
    Ok(tracks)
}

async fn viewer(sfu: &Sfu, call: Uuid, who: Uuid, publisher: Uuid) -> anyhow::Result<Peer> {
    let mut peer = peer().await?;
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
    let offer = peer.offer().await?;
    let answer = sfu.view(call, who, publisher, offer).await?;
    peer.accept(answer).await?;
    Ok(peer)
}

/// The payload of packet `n` of a kind: recognisable and never repeated.
fn payload(kind: RtpCodecKind, n: u32) -> Vec<u8> {
    let mut bytes = vec![if kind == RtpCodecKind::Audio {
        0xA0
    } else {
        0xB0
    }];
    bytes.extend_from_slice(&n.to_be_bytes());
    bytes.extend((0..120u8).map(|i| i.wrapping_mul(7) ^ (n as u8)));
    bytes
}

fn sfu() -> anyhow::Result<(Sfu, mpsc::UnboundedReceiver<kinlink_media::sfu::SfuEvent>)> {
    let (events, receiver) = mpsc::unbounded_channel();
    let port_min = 41_000 + (std::process::id() % 2_000) as u16 * 10;
    let sfu = Sfu::start(
        SfuConfig {
            bind_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            public_address: None,
            port_min,
            port_max: port_min + 9,
        },
        events,
    )?;
    Ok((sfu, receiver))
}

/// Waits until `check` holds, or fails after 10 s.
async fn eventually(what: &str, check: impl Fn() -> bool) -> anyhow::Result<()> {
    for _ in 0..100 {
        if check() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("timed out waiting for {what}")
}

/// Counts what each viewer gets over `window`.
async fn gained(viewers: &[&Peer], kind: RtpCodecKind, window: Duration) -> Vec<usize> {
    let before: Vec<usize> = viewers.iter().map(|v| v.count(kind)).collect();
    tokio::time::sleep(window).await;
    viewers
        .iter()
        .zip(before)
        .map(|(v, b)| v.count(kind) - b)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_unchanged_and_holds_back_on_the_server() -> anyhow::Result<()> {
    let (sfu, _events) = sfu()?;
    let call = Uuid::new_v4();
    let (alex, jordan, priya) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());

    let mut publisher = peer().await?;
    let tracks = publisher_tracks(&publisher).await?;
    let offer = publisher.offer().await?;
    let answer = sfu.publish(call, alex, offer).await?;
    publisher.accept(answer).await?;
    let mut sending = Vec::new();
    for (kind, track, sender, ssrc) in tracks {
        let parameters = sender.get_parameters().await?;
        let wanted = codec(kind).mime_type;
        let payload_type = parameters
            .rtp_parameters
            .codecs
            .iter()
            .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(&wanted))
            .map(|c| c.payload_type)
            .ok_or_else(|| anyhow::anyhow!("{wanted} not negotiated"))?;
        sending.push(Sending {
            kind,
            track,
            payload_type,
            ssrc,
        });
    }

    // The publisher sends 50 packets a second of each kind until stopped.
    let sent: Arc<Mutex<HashSet<Vec<u8>>>> = Arc::default();
    let (stop, mut stopped) = watch::channel(false);
    let sender_task = {
        let sent = sent.clone();
        tokio::spawn(async move {
            let mut n = 0u32;
            loop {
                for out in &sending {
                    let body = payload(out.kind, n);
                    sent.lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(body.clone());
                    let packet = rtp::Packet {
                        header: rtp::header::Header {
                            version: 2,
                            payload_type: out.payload_type,
                            sequence_number: n as u16,
                            timestamp: n.wrapping_mul(3000),
                            ssrc: out.ssrc,
                            marker: true,
                            ..Default::default()
                        },
                        payload: body.into(),
                    };
                    let _ = out.track.write_rtp(packet).await;
                }
                n += 1;
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(20)) => {}
                    _ = stopped.changed() => break,
                }
            }
        })
    };

    let first = viewer(&sfu, call, jordan, alex).await?;
    let second = viewer(&sfu, call, priya, alex).await?;
    eventually("both viewers to receive audio and video", || {
        [&first, &second]
            .iter()
            .all(|v| v.count(RtpCodecKind::Audio) >= 20 && v.count(RtpCodecKind::Video) >= 20)
    })
    .await?;
    {
        let sent = sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for viewer in [&first, &second] {
            let received = viewer
                .received
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let changed = received.iter().filter(|(_, p)| !sent.contains(p)).count();
            assert_eq!(changed, 0, "payloads changed on the way");
        }
    }

    // A paused viewer gets nothing while the other still does.
    sfu.set_paused(call, priya, true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counts = gained(
        &[&first, &second],
        RtpCodecKind::Video,
        Duration::from_secs(1),
    )
    .await;
    assert!(
        counts[0] >= 30,
        "the other viewer kept receiving: {counts:?}"
    );
    assert_eq!(counts[1], 0, "the paused viewer received: {counts:?}");
    sfu.set_paused(call, priya, false);
    eventually("the resumed viewer to receive again", || {
        second.count(RtpCodecKind::Video) > 0
    })
    .await?;
    let counts = gained(&[&second], RtpCodecKind::Video, Duration::from_secs(1)).await;
    assert!(counts[0] >= 30, "resumed: {counts:?}");

    // A muted publisher's sound reaches nobody; the picture still does.
    sfu.set_muted(call, alex, MediaKind::Audio, true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let audio = gained(
        &[&first, &second],
        RtpCodecKind::Audio,
        Duration::from_secs(1),
    )
    .await;
    let video = gained(
        &[&first, &second],
        RtpCodecKind::Video,
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(audio, [0, 0], "muted sound was forwarded");
    assert!(
        video.iter().all(|n| *n >= 30),
        "the picture stopped: {video:?}"
    );
    sfu.set_muted(call, alex, MediaKind::Audio, false);

    // A paused publisher reaches nobody.
    sfu.set_paused(call, alex, true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let video = gained(
        &[&first, &second],
        RtpCodecKind::Video,
        Duration::from_secs(1),
    )
    .await;
    assert_eq!(video, [0, 0], "a paused publisher's picture was forwarded");
    sfu.set_paused(call, alex, false);
    let counters = sfu
        .counters(call)
        .ok_or_else(|| anyhow::anyhow!("no counters"))?;
    assert!(
        counters
            .held_back
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
    assert!(
        counters
            .keyframe_requests
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );

    // Removing a viewer closes its connection; the other goes on.
    let mut closed = second.state.clone();
    sfu.remove(call, priya).await;
    tokio::time::timeout(
        Duration::from_secs(20),
        closed.wait_for(|state| {
            matches!(
                state,
                RTCPeerConnectionState::Closed
                    | RTCPeerConnectionState::Disconnected
                    | RTCPeerConnectionState::Failed
            )
        }),
    )
    .await??;
    let counts = gained(&[&first], RtpCodecKind::Video, Duration::from_secs(1)).await;
    assert!(counts[0] >= 30, "the remaining viewer: {counts:?}");

    sfu.end(call).await;
    assert!(sfu.counters(call).is_none());
    let _ = stop.send(true);
    sender_task.await?;
    for peer in [&publisher, &first, &second] {
        let _ = peer.connection.close().await;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_offers_get_a_clear_error() -> anyhow::Result<()> {
    let (sfu, _events) = sfu()?;
    let call = Uuid::new_v4();
    let error = sfu
        .publish(call, Uuid::new_v4(), "not an offer".to_owned())
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("not valid SDP"), "{error}");
    let error = sfu
        .view(call, Uuid::new_v4(), Uuid::new_v4(), "v=0".to_owned())
        .await
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("not in this call"), "{error}");
    Ok(())
}
