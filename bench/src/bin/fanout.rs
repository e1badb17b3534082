//! Open-loop load generator for chat fan-out. It opens `connections`
//! WebSockets spread over `rooms` (conversations), sends 100-byte messages
//! at a fixed rate whatever the server's speed, and measures each delivery's
//! latency from the moment its message was due to be sent, so a slow server
//! cannot hide its queueing delay (no coordinated omission).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Bytes of text in each message.
const BODY_BYTES: usize = 100;

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq, Debug)]
enum Target {
    /// The bare actix-ws broadcast server.
    Bare,
    /// A KinLink server seeded with `kinlink seed-load`.
    Kinlink,
}

#[derive(Parser)]
struct Args {
    #[arg(long, value_enum)]
    target: Target,
    /// Base address, such as `http://127.0.0.1:9100`.
    #[arg(long)]
    address: String,
    #[arg(long, default_value_t = 1000)]
    connections: usize,
    #[arg(long, default_value_t = 100)]
    rooms: usize,
    /// Messages per second, across all rooms.
    #[arg(long, default_value_t = 100.0)]
    rate: f64,
    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Credentials file written by `kinlink seed-load` (KinLink only).
    #[arg(long)]
    fixtures: Option<PathBuf>,
    /// Connect, then hold the connections idle this many seconds and exit,
    /// for memory measurements.
    #[arg(long)]
    idle_seconds: Option<u64>,
}

/// The counts one reader collected.
struct Tally {
    histogram: Histogram<u64>,
    delivered: u64,
    /// Messages this connection received more than once.
    duplicates: u64,
    /// Error frames received, by code.
    errors: std::collections::BTreeMap<String, u64>,
    /// The worst latency, in microseconds, of messages due in each 100 ms
    /// of the window: when stalls happened, not only how long they were.
    worst: Vec<u64>,
}

/// Measurement window, in microseconds since the start of sending.
#[derive(Clone, Copy)]
struct Window {
    start_us: u64,
    end_us: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let per_room = args.connections / args.rooms;
    anyhow::ensure!(
        per_room * args.rooms == args.connections,
        "connections must be a multiple of rooms"
    );

    let plan = Plan::new(&args).await?;
    if args.idle_seconds.is_some() {
        // Signing in runs Argon2id on the server, whose memory the
        // allocator may keep; the idle measurement starts after it.
        println!("{}", json!({ "signed_in": true }));
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let stop = Arc::new(Notify::new());
    let window = Window {
        start_us: (args.warmup * 1e6) as u64,
        end_us: ((args.warmup + args.duration) * 1e6) as u64,
    };

    let mut writers = Vec::with_capacity(args.connections);
    let mut streams = Vec::with_capacity(args.connections);
    for index in 0..args.connections {
        let room = index % args.rooms;
        let (writer, reader) = plan
            .connect(index, room)
            .await
            .with_context(|| format!("connection {index}"))?;
        writers.push(writer);
        streams.push(reader);
    }
    // The schedule starts once every connection is open and subscribed: a
    // server slow to accept them would otherwise face, at the start, every
    // message that fell due while it was still accepting.
    let epoch = Instant::now() + Duration::from_secs(1);
    let readers: Vec<_> = streams
        .into_iter()
        .map(|reader| {
            tokio::spawn(read_deliveries(
                reader,
                args.target,
                epoch,
                window,
                Arc::clone(&stop),
            ))
        })
        .collect();
    eprintln!("{} connections open", args.connections);

    if let Some(seconds) = args.idle_seconds {
        println!("{}", json!({ "idle_connections": args.connections }));
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        return Ok(());
    }

    let sent = send_open_loop(&args, &plan, &writers, epoch, window, per_room).await;
    // Every message must reach the wire before the drain time starts, or a
    // slow generator would be blamed on the server.
    for _ in 0..1000 {
        if plan.unsent.load(std::sync::atomic::Ordering::Relaxed) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.notify_waiters();

    let mut total = Histogram::<u64>::new(3)?;
    let mut delivered = 0;
    let mut duplicates = 0;
    let mut errors = std::collections::BTreeMap::<String, u64>::new();
    let mut worst = Vec::<u64>::new();
    for reader in readers {
        let tally = reader.await??;
        total.add(tally.histogram)?;
        if worst.len() < tally.worst.len() {
            worst.resize(tally.worst.len(), 0);
        }
        for (slot, value) in worst.iter_mut().zip(tally.worst) {
            *slot = (*slot).max(value);
        }
        delivered += tally.delivered;
        duplicates += tally.duplicates;
        for (code, count) in tally.errors {
            *errors.entry(code).or_default() += count;
        }
    }
    let expected = sent * per_room as u64;
    let report = json!({
        "target": format!("{:?}", args.target).to_lowercase(),
        "rate": args.rate,
        "connections": args.connections,
        "rooms": args.rooms,
        "sent_in_window": sent,
        "expected_deliveries": expected,
        "delivered": delivered,
        "duplicates": duplicates,
        "errors": errors,
        "deliveries_per_second": delivered as f64 / args.duration,
        "p50_ms": total.value_at_quantile(0.50) as f64 / 1000.0,
        "p99_ms": total.value_at_quantile(0.99) as f64 / 1000.0,
        "max_ms": total.max() as f64 / 1000.0,
        "worst_ms_per_100ms": worst.iter().map(|us| us / 1000).collect::<Vec<_>>(),
    });
    println!("{report}");
    Ok(())
}

type Writer = mpsc::UnboundedSender<String>;
type Reader = futures_util::stream::SplitStream<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
>;

/// How to reach each room on the target.
struct Plan {
    target: Target,
    address: String,
    rooms: usize,
    cookies: Vec<String>,
    conversations: Vec<String>,
    /// Messages queued for a writer task and not yet written.
    unsent: Arc<std::sync::atomic::AtomicU64>,
    /// Each conversation's last sequence number before the run, so that
    /// subscriptions start live instead of replaying earlier runs.
    last_seqs: std::collections::HashMap<String, i64>,
}

impl Plan {
    async fn new(args: &Args) -> anyhow::Result<Self> {
        let mut plan = Self {
            target: args.target,
            address: args.address.clone(),
            rooms: args.rooms,
            cookies: Vec::new(),
            conversations: Vec::new(),
            last_seqs: std::collections::HashMap::new(),
            unsent: Arc::default(),
        };
        if args.target == Target::Kinlink {
            let path = args
                .fixtures
                .as_ref()
                .context("--fixtures is needed for kinlink")?;
            let fixtures: Value = serde_json::from_slice(&std::fs::read(path)?)?;
            for user in fixtures["users"].as_array().context("users")? {
                plan.cookies.push(sign_in(&args.address, user).await?);
            }
            plan.conversations = fixtures["conversations"]
                .as_array()
                .context("conversations")?
                .iter()
                .filter_map(|id| id.as_str().map(str::to_owned))
                .collect();
            anyhow::ensure!(
                plan.conversations.len() >= args.rooms,
                "fixtures have fewer conversations than rooms"
            );
            plan.last_seqs = last_seqs(&args.address, &plan.cookies[0]).await?;
            anyhow::ensure!(
                plan.cookies.len() >= args.connections / args.rooms,
                "fixtures have fewer users than connections per room"
            );
        }
        Ok(plan)
    }

    async fn connect(&self, index: usize, room: usize) -> anyhow::Result<(Writer, Reader)> {
        let ws = self.address.replacen("http", "ws", 1);
        let url = match self.target {
            Target::Bare => format!("{ws}/ws?room={room}"),
            Target::Kinlink => format!("{ws}/api/v1/ws"),
        };
        let mut request = url.into_client_request()?;
        if self.target == Target::Kinlink {
            // Connection `room + k * rooms` is the k-th member of its room,
            // so each room's connections belong to distinct users.
            let member = (index / self.rooms) % self.cookies.len();
            request.headers_mut().insert(
                "Cookie",
                format!("kinlink_session={}", self.cookies[member]).parse()?,
            );
            request
                .headers_mut()
                .insert("Origin", self.address.parse()?);
        }
        let (stream, _) = tokio_tungstenite::connect_async(request).await?;
        let (mut sink, reader) = stream.split();
        if self.target == Target::Kinlink {
            let conversation = &self.conversations[room];
            let after = self.last_seqs.get(conversation).copied().unwrap_or(0);
            let subscribe =
                json!({ "type": "subscribe", "conversation_id": conversation, "after": after });
            sink.send(Message::text(subscribe.to_string())).await?;
        }
        let (writer, mut queue) = mpsc::unbounded_channel::<String>();
        let unsent = Arc::clone(&self.unsent);
        tokio::spawn(async move {
            while let Some(text) = queue.recv().await {
                let written = sink.send(Message::text(text)).await;
                unsent.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                if written.is_err() {
                    break;
                }
            }
        });
        Ok((writer, reader))
    }

    fn frame(&self, room: usize, body: String) -> String {
        match self.target {
            Target::Bare => body,
            Target::Kinlink => json!({
                "type": "send",
                "conversation_id": self.conversations[room],
                "message_id": uuid::Uuid::now_v7(),
                "body": body,
            })
            .to_string(),
        }
    }
}

async fn last_seqs(
    address: &str,
    cookie: &str,
) -> anyhow::Result<std::collections::HashMap<String, i64>> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    let list: Value = client
        .get(format!("{address}/api/v1/conversations"))
        .header("Cookie", format!("kinlink_session={cookie}"))
        .send()
        .await?
        .json()
        .await?;
    Ok(list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| Some((item["id"].as_str()?.to_owned(), item["last_seq"].as_i64()?)))
        .collect())
}

async fn sign_in(address: &str, user: &Value) -> anyhow::Result<String> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    let response = client
        .post(format!("{address}/api/v1/auth/sign-in"))
        .header("Origin", address)
        .json(&json!({ "email": user["email"], "password": user["password"] }))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "sign-in failed: {}",
        response.status()
    );
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.strip_prefix("kinlink_session="))
        .and_then(|text| text.split(';').next())
        .context("no session cookie")?;
    Ok(cookie.to_owned())
}

/// Sends every message at its due time and returns how many were due
/// inside the measurement window.
async fn send_open_loop(
    args: &Args,
    plan: &Plan,
    writers: &[Writer],
    epoch: Instant,
    window: Window,
    per_room: usize,
) -> u64 {
    tokio::time::sleep_until(epoch).await;
    let total = ((args.warmup + args.duration) * args.rate) as u64;
    let mut in_window = 0;
    for n in 0..total {
        let due_us = (n as f64 * 1e6 / args.rate) as u64;
        let due = epoch + Duration::from_micros(due_us);
        if due > Instant::now() {
            tokio::time::sleep_until(due).await;
        }
        let room = (n as usize) % args.rooms;
        let sender = ((n as usize) / args.rooms) % per_room;
        let connection = room + sender * args.rooms;
        let mut body = format!("t={due_us};");
        body.extend(std::iter::repeat_n(
            'x',
            BODY_BYTES.saturating_sub(body.len()),
        ));
        plan.unsent
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let _ = writers[connection].send(plan.frame(room, body));
        if due_us >= window.start_us && due_us < window.end_us {
            in_window += 1;
        }
    }
    in_window
}

/// Counts deliveries whose message was due inside the window, with their
/// latency, until told to stop.
async fn read_deliveries(
    mut reader: Reader,
    target: Target,
    epoch: Instant,
    window: Window,
    stop: Arc<Notify>,
) -> anyhow::Result<Tally> {
    let mut tally = Tally {
        histogram: Histogram::new(3)?,
        delivered: 0,
        duplicates: 0,
        errors: std::collections::BTreeMap::new(),
        worst: Vec::new(),
    };
    let mut seen = std::collections::HashSet::new();
    let stopped = stop.notified();
    tokio::pin!(stopped);
    loop {
        let item = tokio::select! {
            () = &mut stopped => break,
            item = reader.next() => item,
        };
        let Some(Ok(Message::Text(text))) = item else {
            if item.is_none() {
                break;
            }
            continue;
        };
        let body = match target {
            Target::Bare => Some(text.to_string()),
            Target::Kinlink => {
                let frame = serde_json::from_str::<Value>(&text).unwrap_or_default();
                if frame["type"] == "error" {
                    let code = frame["code"].as_str().unwrap_or("unknown").to_owned();
                    *tally.errors.entry(code).or_default() += 1;
                }
                (frame["type"] == "message")
                    .then(|| frame["body"].as_str().map(str::to_owned))
                    .flatten()
            }
        };
        let Some(due_us) = body.as_deref().and_then(due_time) else {
            continue;
        };
        if due_us < window.start_us || due_us >= window.end_us {
            continue;
        }
        if !seen.insert(due_us) {
            tally.duplicates += 1;
            continue;
        }
        let now_us = Instant::now().saturating_duration_since(epoch).as_micros() as u64;
        let latency = now_us.saturating_sub(due_us).max(1);
        tally.histogram.record(latency)?;
        let slot = ((due_us - window.start_us) / 100_000) as usize;
        if tally.worst.len() <= slot {
            tally.worst.resize(slot + 1, 0);
        }
        tally.worst[slot] = tally.worst[slot].max(latency);
        tally.delivered += 1;
    }
    Ok(tally)
}

fn due_time(body: &str) -> Option<u64> {
    body.strip_prefix("t=")?.split(';').next()?.parse().ok()
}
