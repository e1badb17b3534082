//! Bad input on the WebSocket, and clients that misbehave: each gets a
//! clear error or a bounded, prompt disconnection, and nothing stored is
//! lost.

use std::time::Duration;

use kinlink_tests::raw::{CONTINUATION, RawSocket, TEXT};
use kinlink_tests::{AppOptions, TestApp};
use serde_json::json;

async fn history_len(client: &kinlink_tests::Client, conversation: &str) -> anyhow::Result<usize> {
    let history = client
        .get_json(&format!("/api/v1/conversations/{conversation}/messages"))
        .await?;
    Ok(history["messages"].as_array().map_or(0, Vec::len))
}

#[tokio::test]
async fn malformed_json_keeps_connection_open() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut socket = alex.socket().await?;

    socket.send_text("{\"type\": \"send\", ").await?;
    let error = socket.expect("error").await?;
    assert_eq!(error["code"], "frame.invalid");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or("")
            .contains("not valid JSON"),
        "{error}"
    );

    let seq = socket.say(&link, "still here").await?;
    assert_eq!(seq, 1);
    Ok(())
}

#[tokio::test]
async fn unknown_frame_type_is_named() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let mut socket = alex.socket().await?;
    socket
        .send(json!({ "type": "shout", "body": "hello" }))
        .await?;
    let error = socket.expect("error").await?;
    assert_eq!(error["code"], "frame.invalid");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or("")
            .contains("\"shout\""),
        "{error}"
    );
    Ok(())
}

#[tokio::test]
async fn oversized_body_stores_nothing() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut socket = alex.socket().await?;
    socket.say(&link, "kept").await?;

    let id = uuid::Uuid::now_v7().to_string();
    let body = "x".repeat(17 * 1024);
    socket
        .send(json!({ "type": "send", "conversation_id": link, "message_id": id, "body": body }))
        .await?;
    let error = socket.expect("error").await?;
    assert_eq!(error["code"], "request.invalid_field");
    assert_eq!(error["ref"], id.as_str());
    assert!(
        error["message"].as_str().unwrap_or("").contains("body"),
        "{error}"
    );
    assert_eq!(
        history_len(&alex, &link).await?,
        1,
        "the earlier message is kept, the large one is not stored"
    );
    Ok(())
}

#[tokio::test]
async fn text_frame_inside_fragment_closes_1002() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let token = alex.session_token.clone().unwrap_or_default();
    let mut raw = RawSocket::connect(&app.address, &token).await?;

    let send = json!({ "type": "send", "conversation_id": link, "message_id": uuid::Uuid::now_v7(), "body": "split" })
        .to_string();
    let (first, _rest) = send.split_at(20);
    raw.frame(false, TEXT, first.as_bytes()).await?;
    raw.frame(true, TEXT, send.as_bytes()).await?;
    let (code, texts) = raw.read_until_close().await?;
    assert_eq!(code, Some(1002));
    assert!(
        texts.iter().all(|text| !text.contains("\"ack\"")),
        "nothing was acknowledged: {texts:?}"
    );
    assert_eq!(history_len(&alex, &link).await?, 0);
    Ok(())
}

#[tokio::test]
async fn oversized_frame_header_closes_1009() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let token = alex.session_token.clone().unwrap_or_default();
    let mut raw = RawSocket::connect(&app.address, &token).await?;

    raw.header_only(TEXT, 1024 * 1024).await?;
    let (code, _texts) =
        tokio::time::timeout(Duration::from_secs(10), raw.read_until_close()).await??;
    assert_eq!(code, Some(1009));

    let mut connections = 1.0;
    for _ in 0..50 {
        connections = app.metric("kinlink_ws_connections").await?;
        if connections == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(connections, 0.0, "the connection was freed");

    // A busy loop on the abandoned connection would burn CPU while idle.
    let before = app.cpu_ticks()?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let used = app.cpu_ticks()? - before;
    assert!(
        used < 50,
        "server used {used} ticks while idle after the close"
    );
    Ok(())
}

#[tokio::test]
async fn endless_continuations_close_1009() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let token = alex.session_token.clone().unwrap_or_default();
    let raw = RawSocket::connect(&app.address, &token).await?;
    let rss_before = app.resident_kib()?;

    // Write and read at once, as a browser would, so the close frame is
    // read while the flood is still going out.
    let (mut reader, mut writer) = raw.split();
    let flood = tokio::spawn(async move {
        let chunk = vec![b'a'; 1024];
        let mut sent = 0;
        while sent < 10_000 {
            let opcode = if sent == 0 { TEXT } else { CONTINUATION };
            if writer.frame(false, opcode, &chunk).await.is_err() {
                break;
            }
            sent += 1;
        }
        sent
    });
    let (code, _texts) =
        tokio::time::timeout(Duration::from_secs(10), reader.read_until_close()).await??;
    let sent = flood.await?;
    assert_eq!(code, Some(1009), "closed after {sent} frames");
    let grown = app.resident_kib()?.saturating_sub(rss_before);
    assert!(grown < 16 * 1024, "memory grew by {grown} KiB");
    Ok(())
}

#[tokio::test]
async fn reader_that_stops_is_disconnected() -> anyhow::Result<()> {
    let options = AppOptions {
        env: vec![
            ("KINLINK__WEBSOCKET__SEND_QUEUE_FRAMES".into(), "64".into()),
            (
                "KINLINK__WEBSOCKET__SEND_QUEUE_BYTES".into(),
                "65536".into(),
            ),
        ],
        ..AppOptions::default()
    };
    let app = TestApp::spawn_with(options).await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let link = alex.conversation_id("contact_link").await?;

    let mut stalled = jordan.socket().await?;
    stalled.subscribe(&link, 0).await?;
    let rss_before = app.resident_kib()?;
    let mut sender = alex.socket().await?;
    let body = "m".repeat(2048);
    let mut sent = 0;
    while sent < 20_000 {
        sender.say(&link, &body).await?;
        sent += 1;
        if sent % 100 == 0
            && app
                .metric("kinlink_ws_slow_consumer_disconnects_total")
                .await?
                >= 1.0
        {
            break;
        }
    }
    assert!(
        app.metric("kinlink_ws_slow_consumer_disconnects_total")
            .await?
            >= 1.0,
        "sent {sent}"
    );
    let grown = app.resident_kib()?.saturating_sub(rss_before);
    assert!(grown < 50 * 1024, "memory grew by {grown} KiB");
    assert!(app.metric("kinlink_ws_send_queue_bytes").await? <= 65536.0);

    // The stalled client's socket ends once it reads what was in flight.
    let mut ended = false;
    for _ in 0..20_000 {
        match stalled.next().await {
            Ok(Ok(_frame)) => continue,
            Ok(Err(_)) | Err(_) => {
                ended = true;
                break;
            }
        }
    }
    assert!(ended);
    assert_eq!(
        history_len(&alex, &link).await?.min(100),
        100,
        "the sender's messages were all stored"
    );
    Ok(())
}

/// A client that stops reading loses its socket on the server within the
/// write timeout, although it never reads the close frame and keeps its
/// end open.
#[tokio::test]
async fn stalled_socket_is_released() -> anyhow::Result<()> {
    let options = AppOptions {
        env: vec![
            ("KINLINK__WEBSOCKET__SEND_QUEUE_FRAMES".into(), "64".into()),
            (
                "KINLINK__WEBSOCKET__SEND_QUEUE_BYTES".into(),
                "65536".into(),
            ),
            ("KINLINK__SERVER__WRITE_TIMEOUT_SECS".into(), "2".into()),
        ],
        ..AppOptions::default()
    };
    let app = TestApp::spawn_with(options).await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let server_port: u16 = app.address.rsplit(':').next().unwrap_or_default().parse()?;

    let mut stalled = jordan.socket().await?;
    stalled.subscribe(&link, 0).await?;
    let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = stalled.stream.get_ref() else {
        anyhow::bail!("the test server speaks plain TCP");
    };
    let client_port = tcp.local_addr()?.port();
    assert!(server_side_open(server_port, client_port)?);

    // Enough to fill the kernel's buffers on both ends and the session's
    // queue: whichever gives up first, the write timeout or the queue
    // bound, the server must end up without the socket.
    let mut sender = alex.socket().await?;
    let body = "m".repeat(2048);
    for sent in 1..=8_000 {
        sender.say(&link, &body).await?;
        if sent % 100 == 0 && !server_side_open(server_port, client_port)? {
            break;
        }
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while server_side_open(server_port, client_port)? {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server still holds the stalled client's socket"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The client kept its end open, unread, for the whole test.
    drop(stalled);
    Ok(())
}

/// Returns whether the kernel still has the server's end of the connection
/// from `client_port`, read from `/proc/net/tcp` and `/proc/net/tcp6`.
fn server_side_open(server_port: u16, client_port: u16) -> anyhow::Result<bool> {
    const TIME_WAIT: &str = "06";
    const CLOSE: &str = "07";
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table)?;
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [_, local, remote, state, ..] = fields.as_slice() else {
                continue;
            };
            let port = |address: &str| {
                address
                    .rsplit(':')
                    .next()
                    .and_then(|hex| u16::from_str_radix(hex, 16).ok())
            };
            if port(local) == Some(server_port)
                && port(remote) == Some(client_port)
                && *state != TIME_WAIT
                && *state != CLOSE
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[tokio::test]
async fn killed_clients_leave_within_heartbeat() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let token = alex.session_token.clone().unwrap_or_default();
    let mut sockets = Vec::new();
    for _ in 0..10 {
        sockets.push(RawSocket::connect(&app.address, &token).await?);
    }
    let mut open = 0.0;
    for _ in 0..50 {
        open = app.metric("kinlink_ws_connections").await?;
        if open == 10.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open, 10.0);
    drop(sockets);

    let mut connections = 10.0;
    for _ in 0..400 {
        connections = app.metric("kinlink_ws_connections").await?;
        if connections == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(connections, 0.0);
    Ok(())
}

#[tokio::test]
async fn silent_client_is_dropped_after_timeout() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let token = alex.session_token.clone().unwrap_or_default();
    // A raw socket never answers pings; the server drops it after 30 s.
    let _silent = RawSocket::connect(&app.address, &token).await?;
    let mut connections = 0.0;
    for _ in 0..50 {
        connections = app.metric("kinlink_ws_connections").await?;
        if connections == 1.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(connections, 1.0);
    for _ in 0..60 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        connections = app.metric("kinlink_ws_connections").await?;
        if connections == 0.0 {
            break;
        }
    }
    assert_eq!(connections, 0.0);
    assert_eq!(
        app.metric("kinlink_ws_heartbeat_timeouts_total").await?,
        1.0
    );
    Ok(())
}

#[tokio::test]
async fn burst_of_fifty_all_delivered_in_order() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut receiver = jordan.socket().await?;
    receiver.subscribe(&link, 0).await?;
    let mut sender = alex.socket().await?;

    for n in 0..50 {
        let frame = json!({ "type": "send", "conversation_id": link, "message_id": uuid::Uuid::now_v7(), "body": format!("burst {n}") });
        sender.send(frame).await?;
    }
    let received = receiver.messages(&link, 50).await?;
    let seqs: Vec<i64> = received
        .iter()
        .filter_map(|frame| frame["seq"].as_i64())
        .collect();
    assert_eq!(seqs, (1..=50).collect::<Vec<i64>>());
    Ok(())
}

#[tokio::test]
async fn twenty_concurrent_writers_all_stored() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let client = alex.clone();
        let link = link.clone();
        tasks.push(tokio::spawn(async move {
            let mut socket = client.socket().await?;
            socket.say(&link, &format!("writer {n}")).await
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await??);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<i64>>());
    assert!(!app.logs().contains("database is locked"));
    Ok(())
}

#[tokio::test]
async fn cancelled_requests_leave_pool_usable() -> anyhow::Result<()> {
    let options = AppOptions {
        env: vec![("KINLINK__DATABASE__MAX_CONNECTIONS".into(), "1".into())],
        ..AppOptions::default()
    };
    let app = TestApp::spawn_with(options).await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut socket = alex.socket().await?;
    for n in 0..5 {
        socket.say(&link, &format!("m{n}")).await?;
    }
    for attempt in 0..30u64 {
        let request = alex
            .http
            .post(format!("{}/api/v1/conversations/{link}/read", app.address))
            .header("Origin", &app.address)
            .json(&json!({ "up_to": 5 }))
            .timeout(Duration::from_micros(200 + attempt * 150))
            .send();
        let _ = request.await;
    }
    let history = alex
        .get_json(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(5));
    let seq = socket.say(&link, "after the cancellations").await?;
    assert_eq!(seq, 6);
    Ok(())
}

/// Sessions that send while they wait on the store for deliveries (each
/// new socket opens its conversation key from the database on its first
/// delivery) must not hold the few pooled connections against each other.
#[tokio::test]
async fn busy_sessions_share_a_small_pool() -> anyhow::Result<()> {
    let options = AppOptions {
        env: vec![("KINLINK__DATABASE__MAX_CONNECTIONS".into(), "1".into())],
        ..AppOptions::default()
    };
    let app = TestApp::spawn_with(options).await?;
    let mut tasks = Vec::new();
    for user in ["adoptive_parent", "birth_parent", "la_practitioner"] {
        let client = app.sign_in(user).await?;
        let link = client.conversation_id("contact_link").await?;
        for socket_number in 0..4 {
            let client = client.clone();
            let link = link.clone();
            tasks.push(tokio::spawn(async move {
                let mut socket = client.socket().await?;
                socket.subscribe(&link, 0).await?;
                // Pipelined: every send is in flight before the first ack.
                let ids: Vec<String> = (0..8).map(|_| uuid::Uuid::now_v7().to_string()).collect();
                for (n, id) in ids.iter().enumerate() {
                    socket
                        .send(json!({
                            "type": "send", "conversation_id": link, "message_id": id,
                            "body": format!("{user} socket {socket_number} message {n}"),
                        }))
                        .await?;
                }
                for id in &ids {
                    let frame = socket
                        .expect_where(
                            |frame| {
                                (frame["type"] == "ack" && frame["message_id"] == *id)
                                    || (frame["type"] == "error" && frame["ref"] == *id)
                            },
                            "ack",
                        )
                        .await?;
                    anyhow::ensure!(frame["type"] == "ack", "send failed: {frame}");
                }
                anyhow::Ok(())
            }));
        }
    }
    for task in tasks {
        task.await??;
    }
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut reader = alex.socket().await?;
    reader.subscribe(&link, 0).await?;
    let all = reader.messages(&link, 96).await?;
    let seqs: Vec<i64> = all
        .iter()
        .filter_map(|frame| frame["seq"].as_i64())
        .collect();
    assert_eq!(seqs, (1..=96).collect::<Vec<_>>());
    Ok(())
}
