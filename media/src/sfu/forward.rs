//! Forwarding one publisher's tracks to one viewer's connection.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::{broadcast, watch};
use tracing::{debug, info};
use webrtc::media_stream::MediaStreamTrack;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::{TrackLocal, TrackLocalEvent};
use webrtc::peer_connection::RTCPeerConnectionState;
use webrtc::rtp_transceiver::RtpSender;

use super::keyframes::asks_for_keyframe;
use super::peer::{self, webrtc_error};
use super::{Call, Participant, PublishedTrack, SfuError, Shared, lock};

/// One track going out to the viewer.
struct Outgoing {
    source: Arc<PublishedTrack>,
    local: Arc<TrackLocalStaticRTP>,
    sender: Arc<dyn RtpSender>,
    ssrc: u32,
}

/// Builds the viewer's connection for `tracks` of `source`, answers the
/// viewer's offer and starts forwarding once the connection is up.
pub async fn view(
    shared: &Shared,
    call: &Arc<Call>,
    viewer: &Arc<Participant>,
    source: &Arc<Participant>,
    tracks: Vec<Arc<PublishedTrack>>,
    offer: &str,
) -> Result<String, SfuError> {
    let role = peer::Role {
        call: call.id,
        participant: viewer.id,
        publisher: Some(source.id),
        publishing: None,
    };
    let (connection, mut watchers) = peer::build(shared, role, true).await?;
    let result = async {
        let mut outgoing = Vec::new();
        for track in tracks {
            let ssrc = rand_ssrc();
            let kind = if track.kind == RtpCodecKind::Audio {
                "audio"
            } else {
                "video"
            };
            let local = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
                format!("kinlink-{}", source.id),
                format!("{kind}-{}", source.id),
                format!("{kind} of a participant"),
                track.kind,
                vec![RTCRtpEncodingParameters {
                    rtp_coding_parameters: RTCRtpCodingParameters {
                        ssrc: Some(ssrc),
                        ..Default::default()
                    },
                    codec: track.codec.clone(),
                    ..Default::default()
                }],
            )));
            let sender = connection
                .add_track(local.clone() as Arc<dyn TrackLocal>)
                .await
                .map_err(webrtc_error)?;
            outgoing.push(Outgoing {
                source: track,
                local,
                sender,
                ssrc,
            });
        }
        let answer = peer::answer(&connection, offer, &mut watchers).await?;
        let mut started = Vec::new();
        for out in outgoing {
            let payload_type = negotiated_payload_type(&out).await?;
            started.push((out, payload_type));
        }
        Ok::<_, SfuError>((answer, started))
    }
    .await;
    let (answer, started) = match result {
        Ok(ready) => ready,
        Err(error) => {
            let _ = connection.close().await;
            return Err(error);
        }
    };
    // Either of them removed, or the call ended, while the connection was
    // made: it must not outlive them.
    if !shared.is_current(call, viewer) || !shared.is_current(call, source) {
        let _ = connection.close().await;
        return Err(SfuError::UnknownParticipant);
    }
    let earlier = lock(&viewer.viewing).insert(source.id, connection.clone());
    if let Some(earlier) = earlier {
        let _ = earlier.close().await;
    }
    for (out, payload_type) in started {
        if out.source.kind == RtpCodecKind::Video {
            tokio::spawn(relay_keyframe_requests(out.local.clone(), source.clone()));
        }
        tokio::spawn(forward(
            out,
            payload_type,
            source.clone(),
            viewer.clone(),
            watchers.state.clone(),
        ));
    }
    info!(call = %call.id, viewer = %viewer.id, publisher = %source.id, "viewer connected to a publisher");
    Ok(answer)
}

/// Returns a random SSRC for a track the SFU sends.
fn rand_ssrc() -> u32 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// Returns the payload type this viewer's connection negotiated for the
/// publisher's codec. webrtc-rs drops a packet with any other.
async fn negotiated_payload_type(out: &Outgoing) -> Result<u8, SfuError> {
    let parameters = out.sender.get_parameters().await.map_err(webrtc_error)?;
    let codecs = &parameters.rtp_parameters.codecs;
    let wanted = &out.source.codec;
    codecs
        .iter()
        .find(|codec| {
            codec
                .rtp_codec
                .mime_type
                .eq_ignore_ascii_case(&wanted.mime_type)
                && codec.rtp_codec.sdp_fmtp_line == wanted.sdp_fmtp_line
        })
        .or_else(|| {
            codecs.iter().find(|codec| {
                codec
                    .rtp_codec
                    .mime_type
                    .eq_ignore_ascii_case(&wanted.mime_type)
            })
        })
        .map(|codec| codec.payload_type)
        .ok_or_else(|| {
            SfuError::InvalidSdp(format!(
                "the offer does not accept {}, which the publisher sends",
                wanted.mime_type
            ))
        })
}

/// Copies the publisher's packets to the viewer, from when the viewer's
/// connection is connected (before, it has no SRTP keys) until it closes.
async fn forward(
    out: Outgoing,
    payload_type: u8,
    source: Arc<Participant>,
    viewer: Arc<Participant>,
    mut state: watch::Receiver<RTCPeerConnectionState>,
) {
    let connected = state
        .wait_for(|state| {
            matches!(
                state,
                RTCPeerConnectionState::Connected
                    | RTCPeerConnectionState::Failed
                    | RTCPeerConnectionState::Closed
            )
        })
        .await
        .map(|state| *state == RTCPeerConnectionState::Connected);
    if !matches!(connected, Ok(true)) {
        return;
    }
    source.request_keyframe().await;
    let mut packets = out.source.fanout.subscribe();
    let counters = source.counters.clone();
    loop {
        let received = tokio::select! {
            received = packets.recv() => received,
            changed = state.changed() => {
                let open = changed.is_ok()
                    && !matches!(
                        *state.borrow(),
                        RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed
                    );
                if open {
                    continue;
                }
                break;
            }
        };
        let mut packet = match received {
            Ok(packet) => packet,
            Err(broadcast::error::RecvError::Lagged(lost)) => {
                debug!(viewer = %viewer.id, lost, "viewer fell behind; packets skipped");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => break,
        };
        if !source.sends(out.source.kind) || !viewer.receives() {
            counters.held_back.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        packet.header.ssrc = out.ssrc;
        packet.header.payload_type = payload_type;
        // The publisher's extension ids belong to its own negotiation.
        packet.header.extension = false;
        packet.header.extensions.clear();
        packet.header.extension_profile = 0;
        if out.local.write_rtp(packet).await.is_err() {
            break;
        }
        counters.forwarded.fetch_add(1, Ordering::Relaxed);
    }
}

/// Passes a viewer's key-frame requests on to the publisher.
async fn relay_keyframe_requests(local: Arc<TrackLocalStaticRTP>, source: Arc<Participant>) {
    while let Some(event) = local.poll().await {
        if let TrackLocalEvent::OnRtcpPacket(packets) = event
            && packets
                .iter()
                .any(|packet| asks_for_keyframe(packet.as_ref()))
        {
            source.request_keyframe().await;
        }
    }
}
