//! The other end of the SFU's connections, for tests and benchmarks. A
//! connection binds 127.0.0.1 with host candidates only and no mDNS, the
//! way a browser on the same machine connects. Around it are the pieces a
//! synthetic publisher or viewer needs.

use std::sync::Arc;
use std::time::Duration;

use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::watch;
use webrtc::media_stream::MediaStreamTrack;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, Registry, SettingEngineBuilder, register_default_interceptors,
};
use webrtc::rtp_transceiver::{RTCRtpTransceiverDirection, RTCRtpTransceiverInit, RtpSender};

use super::SfuError;
use super::peer::webrtc_error;

/// Makes a connection on a free port of 127.0.0.1 that reports to
/// `handler`.
pub async fn connect(
    handler: Arc<dyn PeerConnectionEventHandler>,
) -> Result<Arc<dyn PeerConnection>, SfuError> {
    let mut media = MediaEngine::default();
    media.register_default_codecs().map_err(webrtc_error)?;
    let interceptors =
        register_default_interceptors(Registry::new(), &mut media).map_err(webrtc_error)?;
    let settings = SettingEngineBuilder::new()
        .with_multicast_dns_mode(MulticastDnsMode::Disabled)
        .with_network_types(vec![NetworkType::Udp4])
        .build();
    let connection = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_media_engine(media)
        .with_setting_engine(settings)
        .with_interceptor_registry(interceptors)
        .with_handler(handler)
        .with_udp_addrs(vec!["127.0.0.1:0".to_owned()])
        .build()
        .await
        .map_err(webrtc_error)?;
    Ok(Arc::new(connection))
}

/// Returns the codec a synthetic publisher sends for a kind: Opus or VP8.
pub fn codec(kind: RtpCodecKind) -> RTCRtpCodec {
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

/// A track a synthetic publisher sends, with its own SSRC.
pub struct SendingTrack {
    pub kind: RtpCodecKind,
    pub local: Arc<TrackLocalStaticRTP>,
    pub sender: Arc<dyn RtpSender>,
    pub ssrc: u32,
}

impl SendingTrack {
    /// Adds a track of `kind` to `connection`.
    pub async fn add(
        connection: &Arc<dyn PeerConnection>,
        kind: RtpCodecKind,
        ssrc: u32,
    ) -> Result<Self, SfuError> {
        let name = if kind == RtpCodecKind::Audio {
            "audio"
        } else {
            "video"
        };
        let local = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
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
        let sender = connection
            .add_track(local.clone() as Arc<dyn TrackLocal>)
            .await
            .map_err(webrtc_error)?;
        Ok(Self {
            kind,
            local,
            sender,
            ssrc,
        })
    }

    /// Returns the payload type the connection negotiated for the track's
    /// codec, once the answer is applied.
    pub async fn payload_type(&self) -> Result<u8, SfuError> {
        let expected = codec(self.kind).mime_type;
        let parameters = self.sender.get_parameters().await.map_err(webrtc_error)?;
        parameters
            .rtp_parameters
            .codecs
            .iter()
            .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(&expected))
            .map(|c| c.payload_type)
            .ok_or_else(|| SfuError::InvalidSdp(format!("{expected} was not negotiated")))
    }
}

/// Asks `connection` to receive audio and video.
pub async fn receive_audio_and_video(connection: &Arc<dyn PeerConnection>) -> Result<(), SfuError> {
    for kind in [RtpCodecKind::Audio, RtpCodecKind::Video] {
        connection
            .add_transceiver_from_kind(
                kind,
                Some(RTCRtpTransceiverInit {
                    direction: RTCRtpTransceiverDirection::Recvonly,
                    streams: vec![],
                    send_encodings: vec![],
                }),
            )
            .await
            .map_err(webrtc_error)?;
    }
    Ok(())
}

/// Makes an offer with every candidate in it. `gathered` turns true when
/// the connection's handler reports that gathering is complete.
pub async fn complete_offer(
    connection: &Arc<dyn PeerConnection>,
    gathered: &mut watch::Receiver<bool>,
) -> Result<String, SfuError> {
    let offer = connection.create_offer(None).await.map_err(webrtc_error)?;
    connection
        .set_local_description(offer)
        .await
        .map_err(webrtc_error)?;
    tokio::time::timeout(Duration::from_secs(5), gathered.wait_for(|done| *done))
        .await
        .map_err(|_elapsed| SfuError::Gathering)?
        .map_err(|_closed| SfuError::Gathering)?;
    connection
        .local_description()
        .await
        .map(|description| description.sdp)
        .ok_or(SfuError::Gathering)
}
