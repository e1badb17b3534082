//! Forwarding cost of KinLink's SFU against a plain UDP forwarder.
//!
//! `drive` runs every measurement. For each number of subscribers it starts
//! a fresh server process pinned to one core: `serve-sfu` runs the SFU as
//! the KinLink server runs it, and `serve-udp` is a loop that copies each
//! datagram to every subscriber. The driver publishes one synthetic camera
//! of about 1.5 Mbit/s (30 frames a second of five 1200-byte video
//! packets, and 50 audio packets of 160 bytes) and receives it on every
//! subscriber, in its own process on the other core. It reads the server's CPU time from
//! `/proc`, and each packet's delay and loss from the payload, which
//! carries a sequence number and the time it was sent.
//!
//! The SFU's path is WebRTC end to end: DTLS-SRTP from a webrtc-rs
//! publisher, decrypted, rewritten and encrypted once per subscriber for
//! webrtc-rs viewers. The UDP forwarder sends the same packets in the
//! clear, so the difference is what the SFU costs on top of moving the
//! bytes.

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use hdrhistogram::Histogram;
use kinlink_media::sfu::client::{self, SendingTrack};
use kinlink_media::sfu::{Sfu, SfuConfig};
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::RtpCodecKind;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::watch;
use uuid::Uuid;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    PeerConnection, PeerConnectionEventHandler, RTCIceGatheringState, RTCPeerConnectionState,
    RTCSessionDescription,
};

/// Video frames a second, and packets per frame.
const FRAMES_PER_SECOND: u64 = 30;
const PACKETS_PER_FRAME: u32 = 5;
const VIDEO_PAYLOAD: usize = 1200;
/// Audio packets a second, and their size.
const AUDIO_PER_SECOND: u64 = 50;
const AUDIO_PAYLOAD: usize = 160;
/// The size of an RTP header without extensions, which the UDP path sends
/// in front of each payload so both paths carry the same packets.
const RTP_HEADER: usize = 12;
/// Subscribers connecting at once while a run is set up.
const CONNECT_BATCH: usize = 10;

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Mode,
}

#[derive(Subcommand)]
enum Mode {
    /// Runs the measurements and writes one JSON line per run.
    Drive(DriveArgs),
    /// Serves the SFU, taking signalling requests as JSON lines on stdin.
    ServeSfu {
        #[arg(long, default_value_t = 52000)]
        port_min: u16,
        #[arg(long, default_value_t = 52399)]
        port_max: u16,
    },
    /// Copies every datagram it receives to each subscriber named on stdin.
    ServeUdp,
}

#[derive(Parser)]
struct DriveArgs {
    /// Subscriber counts, measured in this order in every round.
    #[arg(long, value_delimiter = ',', default_value = "10,25,50,100")]
    subscribers: Vec<usize>,
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 15.0)]
    seconds: f64,
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// The core the server is pinned to; pin the driver to another one.
    #[arg(long, default_value_t = 0)]
    server_core: usize,
    /// Targets to measure, alternating their order between rounds.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "sfu,udp")]
    targets: Vec<Target>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Target {
    Sfu,
    Udp,
}

/// A signalling request to `serve-sfu`.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    Publish { offer: String },
    View { viewer: Uuid, offer: String },
}

/// The reply of `serve-sfu`: the SDP answer, or the error.
#[derive(Serialize, Deserialize)]
struct Reply {
    answer: Option<String>,
    error: Option<String>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match args.command {
            Mode::Drive(drive_args) => drive(drive_args).await,
            Mode::ServeSfu { port_min, port_max } => serve_sfu(port_min, port_max).await,
            Mode::ServeUdp => serve_udp(),
        }
    })
}

// ---------------------------------------------------------------- servers

async fn serve_sfu(port_min: u16, port_max: u16) -> anyhow::Result<()> {
    let (events, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let sfu = Sfu::start(
        SfuConfig {
            bind_address: [127, 0, 0, 1].into(),
            public_address: None,
            port_min,
            port_max,
        },
        events,
    )?;
    tokio::spawn(async move {
        while let Some(event) = heard.recv().await {
            eprintln!("sfu event: {event:?}");
        }
    });
    let call = Uuid::new_v4();
    let publisher = Uuid::new_v4();
    if std::env::var_os("SFU_BENCH_COUNTERS").is_some() {
        let sfu = sfu.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if let Some(counters) = sfu.counters(call) {
                    eprintln!("sfu counters: {counters:?}");
                }
            }
        });
    }
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut out = tokio::io::stdout();
    while let Some(line) = lines.next_line().await? {
        let request: Request = serde_json::from_str(&line).context("reading a request")?;
        let sfu = sfu.clone();
        let answered = match request {
            Request::Publish { offer } => sfu.publish(call, publisher, offer).await,
            Request::View { viewer, offer } => sfu.view(call, viewer, publisher, offer).await,
        };
        let reply = match answered {
            Ok(answer) => Reply {
                answer: Some(answer),
                error: None,
            },
            Err(error) => Reply {
                answer: None,
                error: Some(error.to_string()),
            },
        };
        let mut text = serde_json::to_string(&reply)?;
        text.push('\n');
        out.write_all(text.as_bytes()).await?;
        out.flush().await?;
    }
    Ok(())
}

/// Prints its port, reads the subscribers' ports as one JSON line, then
/// copies each datagram to all of them, as plainly as it can be done.
fn serve_udp() -> anyhow::Result<()> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    println!("{}", socket.local_addr()?.port());
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let ports: Vec<u16> = serde_json::from_str(&line).context("reading subscriber ports")?;
    let targets: Vec<SocketAddr> = ports
        .into_iter()
        .map(|port| SocketAddr::from(([127, 0, 0, 1], port)))
        .collect();
    let mut buffer = vec![0u8; 2048];
    loop {
        let (length, _from) = socket.recv_from(&mut buffer)?;
        for target in &targets {
            // A full socket buffer loses the packet, as a real network would.
            let _ = socket.send_to(&buffer[..length], target);
        }
    }
}

// ------------------------------------------------------------- the stream

/// The numbering, timing and counting of packets, shared by the sender
/// and the receivers.
struct Stream {
    epoch: Instant,
    /// The next sequence number, across audio and video.
    next: AtomicU32,
    /// Only packets numbered in `[from, to)` are counted.
    from: AtomicU32,
    to: AtomicU32,
    counted: AtomicU64,
    delays: Mutex<Histogram<u64>>,
}

impl Stream {
    fn new() -> anyhow::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            epoch: Instant::now(),
            next: AtomicU32::new(0),
            from: AtomicU32::new(u32::MAX),
            to: AtomicU32::new(u32::MAX),
            counted: AtomicU64::new(0),
            delays: Mutex::new(Histogram::new_with_bounds(1, 60_000_000, 3)?),
        }))
    }

    /// Returns a new payload of `size` bytes: sequence number, send time in
    /// microseconds, then filler.
    fn payload(&self, size: usize) -> Vec<u8> {
        let sequence = self.next.fetch_add(1, Ordering::Relaxed);
        let sent = self.epoch.elapsed().as_micros() as u64;
        let mut bytes = Vec::with_capacity(size);
        bytes.extend_from_slice(&sequence.to_be_bytes());
        bytes.extend_from_slice(&sent.to_be_bytes());
        bytes.resize(size, 0x5A);
        bytes
    }

    /// Counts one received payload if it belongs to the window.
    fn arrived(&self, payload: &[u8]) {
        let (Some(sequence), Some(sent)) = (
            payload.get(..4).and_then(|b| b.try_into().ok()),
            payload.get(4..12).and_then(|b| b.try_into().ok()),
        ) else {
            return;
        };
        let sequence = u32::from_be_bytes(sequence);
        if sequence < self.from.load(Ordering::Relaxed)
            || sequence >= self.to.load(Ordering::Relaxed)
        {
            return;
        }
        let delay =
            (self.epoch.elapsed().as_micros() as u64).saturating_sub(u64::from_be_bytes(sent));
        self.counted.fetch_add(1, Ordering::Relaxed);
        let _ = lock(&self.delays).record(delay.max(1));
    }
}

/// The path of the publisher's packets out of the driver.
enum Outlet {
    Sfu(Vec<(SendingTrack, u8)>),
    Udp(tokio::net::UdpSocket, SocketAddr),
}

impl Outlet {
    async fn send(
        &self,
        kind: RtpCodecKind,
        sequence: u16,
        timestamp: u32,
        marker: bool,
        payload: Vec<u8>,
    ) {
        match self {
            Outlet::Sfu(tracks) => {
                let Some((track, payload_type)) = tracks.iter().find(|(t, _)| t.kind == kind)
                else {
                    return;
                };
                let packet = rtp::Packet {
                    header: rtp::header::Header {
                        version: 2,
                        payload_type: *payload_type,
                        sequence_number: sequence,
                        timestamp,
                        ssrc: track.ssrc,
                        marker,
                        ..Default::default()
                    },
                    payload: payload.into(),
                };
                let _ = track.local.write_rtp(packet).await;
            }
            Outlet::Udp(socket, forwarder) => {
                let mut datagram = Vec::with_capacity(RTP_HEADER + payload.len());
                datagram.push(0x80);
                datagram.push(if marker { 0x80 | 96 } else { 96 });
                datagram.extend_from_slice(&sequence.to_be_bytes());
                datagram.extend_from_slice(&timestamp.to_be_bytes());
                datagram.extend_from_slice(&(kind as u32).to_be_bytes());
                datagram.extend_from_slice(&payload);
                let _ = socket.send_to(&datagram, forwarder).await;
            }
        }
    }
}

/// Sends the synthetic camera until `stop` turns true.
fn start_sending(
    outlet: Arc<Outlet>,
    stream: Arc<Stream>,
    stop: watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let video = {
        let (outlet, stream, mut stop) = (outlet.clone(), stream.clone(), stop.clone());
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval(Duration::from_micros(1_000_000 / FRAMES_PER_SECOND));
            let (mut sequence, mut frame) = (0u16, 0u32);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => break,
                }
                for n in 0..PACKETS_PER_FRAME {
                    let payload = stream.payload(VIDEO_PAYLOAD);
                    outlet
                        .send(
                            RtpCodecKind::Video,
                            sequence,
                            frame.wrapping_mul(3000),
                            n + 1 == PACKETS_PER_FRAME,
                            payload,
                        )
                        .await;
                    sequence = sequence.wrapping_add(1);
                }
                frame += 1;
            }
        })
    };
    let audio = {
        let mut stop = stop;
        tokio::spawn(async move {
            let mut tick =
                tokio::time::interval(Duration::from_micros(1_000_000 / AUDIO_PER_SECOND));
            let mut sequence = 0u16;
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => break,
                }
                let payload = stream.payload(AUDIO_PAYLOAD);
                outlet
                    .send(
                        RtpCodecKind::Audio,
                        sequence,
                        u32::from(sequence).wrapping_mul(960),
                        true,
                        payload,
                    )
                    .await;
                sequence = sequence.wrapping_add(1);
            }
        })
    };
    vec![video, audio]
}

// ---------------------------------------------------------- webrtc peers

/// Events of one webrtc-rs connection of the driver.
struct Events {
    gathered: watch::Sender<bool>,
    state: watch::Sender<RTCPeerConnectionState>,
    stream: Arc<Stream>,
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
        let stream = self.stream.clone();
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                    stream.arrived(&packet.payload);
                }
            }
        });
    }
}

/// A driver connection with its watchers.
struct Peer {
    connection: Arc<dyn PeerConnection>,
    gathered: watch::Receiver<bool>,
    state: watch::Receiver<RTCPeerConnectionState>,
}

impl Peer {
    async fn new(stream: &Arc<Stream>) -> anyhow::Result<Self> {
        let (gathered_sender, gathered) = watch::channel(false);
        let (state_sender, state) = watch::channel(RTCPeerConnectionState::New);
        let connection = client::connect(Arc::new(Events {
            gathered: gathered_sender,
            state: state_sender,
            stream: stream.clone(),
        }))
        .await?;
        Ok(Self {
            connection,
            gathered,
            state,
        })
    }

    /// Sends an offer through `server`, applies its SDP answer, and waits
    /// until connected.
    async fn negotiate(
        &mut self,
        server: &Signalling,
        request: impl FnOnce(String) -> Request,
    ) -> anyhow::Result<()> {
        let offer = client::complete_offer(&self.connection, &mut self.gathered).await?;
        let answer = server.ask(request(offer)).await?;
        self.connection
            .set_remote_description(RTCSessionDescription::answer(answer)?)
            .await?;
        tokio::time::timeout(
            Duration::from_secs(20),
            self.state
                .wait_for(|state| *state == RTCPeerConnectionState::Connected),
        )
        .await
        .context("connecting")??;
        Ok(())
    }
}

/// The signalling pipe to a `serve-sfu` process, one request at a time.
struct Signalling {
    pipe: tokio::sync::Mutex<(ChildStdin, tokio::io::Lines<BufReader<ChildStdout>>)>,
}

impl Signalling {
    async fn ask(&self, request: Request) -> anyhow::Result<String> {
        let mut pipe = self.pipe.lock().await;
        let mut text = serde_json::to_string(&request)?;
        text.push('\n');
        pipe.0.write_all(text.as_bytes()).await?;
        pipe.0.flush().await?;
        let line = pipe
            .1
            .next_line()
            .await?
            .context("the SFU process stopped")?;
        let reply: Reply = serde_json::from_str(&line)?;
        match (reply.answer, reply.error) {
            (Some(answer), _) => Ok(answer),
            (None, error) => bail!("the SFU rejected the offer: {}", error.unwrap_or_default()),
        }
    }
}

// ----------------------------------------------------------------- driver

/// CPU seconds a process has used, user and system, from `/proc`.
fn cpu_seconds(pid: u32, ticks_per_second: f64) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name may contain spaces, but the fields after it do not.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("reading /proc stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15, and `after` starts at field 3.
    let user: f64 = fields.get(11).context("utime")?.parse()?;
    let system: f64 = fields.get(12).context("stime")?.parse()?;
    Ok((user + system) / ticks_per_second)
}

fn ticks_per_second() -> anyhow::Result<f64> {
    let output = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()?;
    Ok(String::from_utf8(output.stdout)?.trim().parse()?)
}

/// Starts this program in `mode`, pinned to `core`.
fn spawn_server(core: usize, mode: &str) -> anyhow::Result<Child> {
    let program = std::env::current_exe()?;
    Ok(Command::new("taskset")
        .arg("-c")
        .arg(core.to_string())
        .arg(program)
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()?)
}

/// The measurements of one run.
#[derive(Serialize)]
struct Run {
    target: Target,
    subscribers: usize,
    round: usize,
    seconds: f64,
    server_cpu_seconds: f64,
    driver_cpu_seconds: f64,
    /// Share of one core the server used per forwarded stream.
    core_per_stream: f64,
    expected: u64,
    received: u64,
    loss: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    sent_mbit_per_second: f64,
}

async fn drive(args: DriveArgs) -> anyhow::Result<()> {
    let ticks = ticks_per_second()?;
    for round in 0..args.rounds {
        for &subscribers in &args.subscribers {
            let mut targets = args.targets.clone();
            if round % 2 == 1 {
                targets.reverse();
            }
            for target in targets {
                let run = measure(&args, target, subscribers, round, ticks)
                    .await
                    .with_context(|| format!("{target:?} with {subscribers} subscribers"))?;
                println!("{}", serde_json::to_string(&run)?);
            }
        }
    }
    Ok(())
}

/// Sets up one target with `subscribers`, sends, and measures.
async fn measure(
    args: &DriveArgs,
    target: Target,
    subscribers: usize,
    round: usize,
    ticks: f64,
) -> anyhow::Result<Run> {
    let stream = Stream::new()?;
    let (stop, stopped) = watch::channel(false);
    let mut peers: Vec<Peer> = Vec::new();
    let mut sockets = Vec::new();
    let mut signalling = None;
    let (mut child, _outlet, tasks) = match target {
        Target::Sfu => {
            let mut child = spawn_server(args.server_core, "serve-sfu")?;
            let stdin = child.stdin.take().context("stdin")?;
            let stdout = child.stdout.take().context("stdout")?;
            let server = Arc::new(Signalling {
                pipe: tokio::sync::Mutex::new((stdin, BufReader::new(stdout).lines())),
            });
            let mut publisher = Peer::new(&stream).await?;
            let mut tracks = Vec::new();
            for (kind, ssrc) in [(RtpCodecKind::Audio, 1111), (RtpCodecKind::Video, 2222)] {
                tracks.push(SendingTrack::add(&publisher.connection, kind, ssrc).await?);
            }
            publisher
                .negotiate(&server, |offer| Request::Publish { offer })
                .await?;
            let mut negotiated = Vec::new();
            for track in tracks {
                let payload_type = track.payload_type().await?;
                negotiated.push((track, payload_type));
            }
            peers.push(publisher);
            let outlet = Arc::new(Outlet::Sfu(negotiated));
            // A viewer's offer waits for the publisher's first packets.
            let tasks = start_sending(outlet.clone(), stream.clone(), stopped.clone());
            let mut remaining = subscribers;
            while remaining > 0 {
                let batch = remaining.min(CONNECT_BATCH);
                let joined = futures_util::future::join_all((0..batch).map(|_| {
                    let (stream, server) = (stream.clone(), server.clone());
                    async move {
                        let mut viewer = Peer::new(&stream).await?;
                        client::receive_audio_and_video(&viewer.connection).await?;
                        let id = Uuid::new_v4();
                        viewer
                            .negotiate(&server, |offer| Request::View { viewer: id, offer })
                            .await?;
                        Ok::<_, anyhow::Error>(viewer)
                    }
                }))
                .await;
                for viewer in joined {
                    peers.push(viewer?);
                }
                remaining -= batch;
            }
            // Closing the pipe would stop the server.
            signalling = Some(server);
            (child, outlet, tasks)
        }
        Target::Udp => {
            let mut child = spawn_server(args.server_core, "serve-udp")?;
            let stdout = child.stdout.take().context("stdout")?;
            let mut lines = BufReader::new(stdout).lines();
            let port: u16 = lines
                .next_line()
                .await?
                .context("forwarder port")?
                .parse()?;
            let mut ports = Vec::new();
            for _ in 0..subscribers {
                let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
                ports.push(socket.local_addr()?.port());
                let socket = Arc::new(socket);
                sockets.push(socket.clone());
                let stream = stream.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 2048];
                    while let Ok(length) = socket.recv(&mut buffer).await {
                        if let Some(payload) = buffer.get(RTP_HEADER..length) {
                            stream.arrived(payload);
                        }
                    }
                });
            }
            let mut stdin = child.stdin.take().context("stdin")?;
            stdin
                .write_all(format!("{}\n", serde_json::to_string(&ports)?).as_bytes())
                .await?;
            stdin.flush().await?;
            let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
            let outlet = Arc::new(Outlet::Udp(
                socket,
                SocketAddr::from(([127, 0, 0, 1], port)),
            ));
            let tasks = start_sending(outlet.clone(), stream.clone(), stopped.clone());
            (child, outlet, tasks)
        }
    };
    let pid = child.id().context("server pid")?;

    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    let own = std::process::id();
    let (server_before, driver_before) = (cpu_seconds(pid, ticks)?, cpu_seconds(own, ticks)?);
    let started = Instant::now();
    let first = stream.next.load(Ordering::Relaxed);
    stream.from.store(first, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs_f64(args.seconds)).await;
    let last = stream.next.load(Ordering::Relaxed);
    stream.to.store(last, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    let (server_after, driver_after) = (cpu_seconds(pid, ticks)?, cpu_seconds(own, ticks)?);
    // Late packets of the window still count.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
    }

    let expected = u64::from(last - first) * subscribers as u64;
    let received = stream.counted.load(Ordering::Relaxed);
    let delays = lock(&stream.delays).clone();
    for peer in peers {
        let _ = peer.connection.close().await;
    }
    drop(sockets);
    drop(signalling);
    let _ = child.kill().await;
    let server_cpu_seconds = server_after - server_before;
    let bytes_per_second = (FRAMES_PER_SECOND * u64::from(PACKETS_PER_FRAME) * VIDEO_PAYLOAD as u64
        + AUDIO_PER_SECOND * AUDIO_PAYLOAD as u64) as f64;
    Ok(Run {
        target,
        subscribers,
        round,
        seconds,
        server_cpu_seconds,
        driver_cpu_seconds: driver_after - driver_before,
        core_per_stream: server_cpu_seconds / seconds / subscribers as f64,
        expected,
        received,
        loss: 1.0 - received as f64 / expected.max(1) as f64,
        p50_ms: delays.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: delays.value_at_quantile(0.99) as f64 / 1000.0,
        max_ms: delays.max() as f64 / 1000.0,
        sent_mbit_per_second: bytes_per_second * 8.0 / 1_000_000.0,
    })
}
