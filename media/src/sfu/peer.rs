//! Building one peer connection of the SFU: bound to one UDP port of the
//! configured range, host candidates only, no mDNS, and an event handler
//! that reports gathering, connection state and published tracks.

use std::sync::Arc;
use std::time::Duration;

use rtc::ice::mdns::MulticastDnsMode;
use rtc::ice::network_type::NetworkType;
use rtc::interceptor::Slot;
use rtc::peer_connection::transport::RTCDtlsTransportState;
use tokio::sync::{mpsc, watch};
use tracing::{debug, warn};
use webrtc::media_stream::track_remote::TrackRemote;
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceCandidateType, RTCIceGatheringState, RTCPeerConnectionState,
    RTCSessionDescription, RTCStatsReportEntry, Registry, SettingEngineBuilder, StatsSelector,
    register_default_interceptors,
};

use super::keyframes::KeyframeRequests;
use super::{Participant, SfuError, SfuEvent, Shared};

/// The receivers of a connection's state changes.
pub struct Watchers {
    pub gathered: watch::Receiver<bool>,
    pub state: watch::Receiver<RTCPeerConnectionState>,
}

/// A connection's purpose, for its events and logs.
#[derive(Clone)]
pub struct Role {
    pub call: uuid::Uuid,
    pub participant: uuid::Uuid,
    /// For a viewing connection, whose media it carries.
    pub publisher: Option<uuid::Uuid>,
    /// For a publishing connection, where its tracks go.
    pub publishing: Option<Arc<Participant>>,
}

/// The most ICE candidates an offer may list. A browser offers a handful
/// per network interface.
const MAX_CANDIDATES: usize = 24;

/// How long a connection may take from its creation to carrying media.
/// webrtc-rs keeps a connection whose DTLS handshake fails (a certificate
/// that does not match the offer's fingerprint) in `connecting`, so this
/// limit is what ends it.
const CONNECT_LIMIT: Duration = Duration::from_secs(15);

/// Reports a connection's failure once, whether its handler or its
/// watchdog sees it first.
#[derive(Default)]
struct Reports {
    failed: std::sync::atomic::AtomicBool,
}

impl Reports {
    /// Reports a failure: of the handshake when `handshake`, of the
    /// network path otherwise.
    fn fail(&self, role: &Role, events: &mpsc::UnboundedSender<SfuEvent>, handshake: bool) {
        if self.failed.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        let (call, participant, publisher) = (role.call, role.participant, role.publisher);
        let event = if handshake {
            warn!(
                %call, %participant, ?publisher,
                security = true,
                "DTLS handshake failed: the certificate does not match the offer's fingerprint"
            );
            SfuEvent::HandshakeFailed {
                call,
                participant,
                publisher,
            }
        } else {
            warn!(%call, %participant, ?publisher, "media connection failed");
            SfuEvent::ConnectionFailed {
                call,
                participant,
                publisher,
            }
        };
        let _ = events.send(event);
    }
}

struct Handler {
    role: Role,
    reports: Arc<Reports>,
    gathered: watch::Sender<bool>,
    state: watch::Sender<RTCPeerConnectionState>,
    events: mpsc::UnboundedSender<SfuEvent>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.send(true);
        }
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        debug!(
            call = %self.role.call,
            participant = %self.role.participant,
            publisher = ?self.role.publisher,
            %state,
            "media connection state"
        );
        let _ = self.state.send(state);
        if state == RTCPeerConnectionState::Failed {
            self.reports.fail(&self.role, &self.events, false);
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        if let Some(participant) = &self.role.publishing {
            participant.add_track(self.role.call, track).await;
        }
    }
}

/// Builds a connection bound to the next free port of the range.
pub async fn build(
    shared: &Shared,
    role: Role,
    relays_keyframe_requests: bool,
) -> Result<(Arc<dyn PeerConnection>, Watchers), SfuError> {
    let mut last_error = String::new();
    for _ in 0..shared.ports.len() {
        let port = shared.ports.next();
        let (gathered_sender, gathered) = watch::channel(false);
        let (state_sender, state) = watch::channel(RTCPeerConnectionState::New);
        let reports = Arc::new(Reports::default());
        let handler = Arc::new(Handler {
            role: role.clone(),
            reports: reports.clone(),
            gathered: gathered_sender,
            state: state_sender,
            events: shared.events.clone(),
        });
        let mut media = MediaEngine::default();
        media.register_default_codecs().map_err(webrtc_error)?;
        let mut interceptors =
            register_default_interceptors(Registry::new(), &mut media).map_err(webrtc_error)?;
        if relays_keyframe_requests {
            // Last on the read path, after the interceptors that consume
            // RTCP.
            interceptors = interceptors.with(Slot::from(14_000), KeyframeRequests::default());
        }
        let mut settings = SettingEngineBuilder::new()
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .with_network_types(vec![NetworkType::Udp4]);
        if let Some(public) = shared.config.public_address {
            settings =
                settings.with_nat_1to1_ips(vec![public.to_string()], RTCIceCandidateType::Host);
        }
        let built = PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(media)
            .with_setting_engine(settings.build())
            .with_interceptor_registry(interceptors)
            .with_handler(handler)
            .with_udp_addrs(vec![format!("{}:{port}", shared.config.bind_address)])
            .build()
            .await;
        match built {
            Ok(connection) => {
                let connection: Arc<dyn PeerConnection> = Arc::new(connection);
                tokio::spawn(watch_connecting(
                    Arc::downgrade(&connection),
                    state.clone(),
                    reports,
                    role.clone(),
                    shared.events.clone(),
                ));
                return Ok((connection, Watchers { gathered, state }));
            }
            Err(error) => last_error = error.to_string(),
        }
    }
    warn!(error = %last_error, "no UDP port of the range could be bound");
    Err(SfuError::NoPort {
        min: shared.config.port_min,
        max: shared.config.port_max,
    })
}

/// Reports a connection that does not carry media within
/// [`CONNECT_LIMIT`].
async fn watch_connecting(
    connection: std::sync::Weak<dyn PeerConnection>,
    mut state: watch::Receiver<RTCPeerConnectionState>,
    reports: Arc<Reports>,
    role: Role,
    events: mpsc::UnboundedSender<SfuEvent>,
) {
    let settled = tokio::time::timeout(
        CONNECT_LIMIT,
        state.wait_for(|state| {
            matches!(
                state,
                RTCPeerConnectionState::Connected
                    | RTCPeerConnectionState::Failed
                    | RTCPeerConnectionState::Closed
            )
        }),
    )
    .await
    .is_ok();
    if !settled {
        let Some(connection) = connection.upgrade() else {
            return;
        };
        // Packets came in, so the path worked, and yet DTLS never
        // connected: the handshake is what failed.
        let report = connection
            .get_stats(std::time::Instant::now(), StatsSelector::None)
            .await;
        let handshake = report.iter().any(|entry| {
            matches!(
                entry,
                RTCStatsReportEntry::Transport(transport)
                    if transport.bytes_received > 0
                        && transport.dtls_state != RTCDtlsTransportState::Connected
            )
        });
        reports.fail(&role, &events, handshake);
    }
}

/// Applies the browser's offer and returns the complete answer, with every
/// candidate in it.
pub async fn answer(
    connection: &Arc<dyn PeerConnection>,
    offer: &str,
    watchers: &mut Watchers,
) -> Result<String, SfuError> {
    let candidates = offer
        .lines()
        .filter(|line| line.starts_with("a=candidate:"))
        .count();
    if candidates > MAX_CANDIDATES {
        // Each candidate gets connectivity checks from the server, so an
        // offer could otherwise aim them at many addresses.
        return Err(SfuError::InvalidSdp(format!(
            "the offer lists {candidates} ICE candidates; at most {MAX_CANDIDATES} are accepted"
        )));
    }
    let offer = RTCSessionDescription::offer(offer.to_owned())
        .map_err(|error| SfuError::InvalidSdp(error.to_string()))?;
    connection
        .set_remote_description(offer)
        .await
        .map_err(|error| SfuError::InvalidSdp(error.to_string()))?;
    let answer = connection.create_answer(None).await.map_err(webrtc_error)?;
    connection
        .set_local_description(answer)
        .await
        .map_err(webrtc_error)?;
    tokio::time::timeout(
        Duration::from_secs(5),
        watchers.gathered.wait_for(|done| *done),
    )
    .await
    .map_err(|_elapsed| SfuError::Gathering)?
    .map_err(|_closed| SfuError::Gathering)?;
    connection
        .local_description()
        .await
        .map(|description| description.sdp)
        .ok_or(SfuError::Gathering)
}

pub fn webrtc_error(error: impl std::fmt::Display) -> SfuError {
    SfuError::WebRtc(error.to_string())
}
