//! A supervised live call through the real server: signalling over the
//! WebSocket and media through the server's SFU, with webrtc-rs peers on
//! 127.0.0.1 in place of browsers. The practitioner starts the call, the
//! two parents wait in the lobby until admitted, every payload arrives
//! unchanged, and the host's pause, mute and end hold on the server. A
//! parent cannot supervise, and the call's record keeps every step. A
//! stopping server ends its calls and sends the reason, a restarted one
//! ends the calls it left open, and a contact link's agreement sets its
//! calls' length.

use std::time::Duration;

use anyhow::Context;
use kinlink_store::entity::call;
use kinlink_tests::app::{AppOptions, TestApp};
use kinlink_tests::media_peer::{MediaPeer, RtpCodecKind, eventually, gained};
use kinlink_tests::socket::{Ended, Socket};
use serde_json::{Value, json};

const SECOND: Duration = Duration::from_secs(1);

async fn app() -> anyhow::Result<TestApp> {
    app_with(&[]).await
}

/// Starts the server with its own SFU ports and the extra settings given.
async fn app_with(settings: &[(&str, &str)]) -> anyhow::Result<TestApp> {
    let port_min = 43_000 + (std::process::id() % 1_000) as u16 * 20;
    let mut env = vec![
        ("KINLINK__CALLS__PORT_MIN".into(), port_min.to_string()),
        (
            "KINLINK__CALLS__PORT_MAX".into(),
            (port_min + 19).to_string(),
        ),
    ];
    env.extend(
        settings
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
    );
    TestApp::spawn_with(AppOptions {
        env,
        ..AppOptions::default()
    })
    .await
}

/// Waits for a `call` frame that satisfies `check`.
async fn call_where(
    socket: &mut Socket,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    let frame = socket
        .expect_where(|f| f["type"] == "call" && check(&f["call"]), what)
        .await?;
    Ok(frame["call"].clone())
}

fn state_of(call: &Value, user: &str) -> String {
    call["participants"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["user_id"] == user)
        .and_then(|p| p["state"].as_str())
        .unwrap_or("absent")
        .to_owned()
}

/// Sends a frame and returns the next `call_answer` or `error`.
async fn ask(socket: &mut Socket, frame: Value) -> anyhow::Result<Value> {
    socket.send(frame).await?;
    socket.expect_any_of(&["call_answer", "error"]).await
}

/// Publishes a webrtc-rs peer's camera and microphone into the call.
async fn publish(socket: &mut Socket, call: &str) -> anyhow::Result<MediaPeer> {
    let mut peer = MediaPeer::publisher().await?;
    let offer = peer.offer().await?;
    let answer = ask(
        socket,
        json!({"type": "call_publish", "call_id": call, "sdp": offer}),
    )
    .await?;
    anyhow::ensure!(answer["type"] == "call_answer", "publish: {answer}");
    peer.accept(answer["sdp"].as_str().unwrap_or_default().to_owned())
        .await?;
    Ok(peer)
}

/// Receives one participant's media.
async fn view(socket: &mut Socket, call: &str, publisher: &str) -> anyhow::Result<MediaPeer> {
    let mut peer = MediaPeer::viewer().await?;
    let offer = peer.offer().await?;
    let frame =
        json!({"type": "call_view", "call_id": call, "publisher_id": publisher, "sdp": offer});
    let answer = ask(socket, frame).await?;
    anyhow::ensure!(answer["type"] == "call_answer", "view: {answer}");
    anyhow::ensure!(answer["publisher_id"] == publisher, "view: {answer}");
    peer.accept(answer["sdp"].as_str().unwrap_or_default().to_owned())
        .await?;
    Ok(peer)
}

async fn user_id(app: &TestApp, key: &str) -> anyhow::Result<String> {
    let client = app.sign_in(key).await?;
    let me = client.get_json("/api/v1/me").await?;
    Ok(me["user"]["id"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervised_call_through_the_server() -> anyhow::Result<()> {
    let app = app().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let adoptive = app.sign_in("adoptive_parent").await?;
    let birth = app.sign_in("birth_parent").await?;
    let link = practitioner.conversation_id("contact_link").await?;
    let (host_id, adoptive_id, birth_id) = (
        user_id(&app, "la_practitioner").await?,
        user_id(&app, "adoptive_parent").await?,
        user_id(&app, "birth_parent").await?,
    );
    let mut host = practitioner.socket().await?;
    let mut alex = adoptive.socket().await?;
    let mut jordan = birth.socket().await?;

    // A parent cannot start a call.
    alex.send(json!({"type": "call_start", "conversation_id": link}))
        .await?;
    let refused = alex.expect("error").await?;
    assert_eq!(refused["code"], "call.unknown", "{refused}");

    // Two starts at once, from two sockets, make one call.
    let mut second_tab = practitioner.socket().await?;
    let start = json!({"type": "call_start", "conversation_id": link});
    host.send(start.clone()).await?;
    second_tab.send(start).await?;
    let call = call_where(&mut host, "the started call", |c| c["status"] == "live").await?;
    let call_id = call["call_id"].as_str().unwrap_or_default().to_owned();
    let other = call_where(&mut second_tab, "the same call", |c| c["status"] == "live").await?;
    assert_eq!(other["call_id"], call_id.as_str(), "two calls started");
    assert_eq!(call["host_id"], host_id.as_str());
    assert_eq!(state_of(&call, &host_id), "in_call");

    // A page opened while the call is live hears of it when it subscribes.
    jordan.subscribe(&link, 0).await?;
    let seen = call_where(&mut jordan, "the live call", |c| {
        c["call_id"] == call_id.as_str()
    })
    .await?;
    assert_eq!(seen["status"], "live");

    // The parents wait in the lobby, and may not publish there.
    for socket in [&mut alex, &mut jordan] {
        socket
            .send(json!({"type": "call_join", "call_id": call_id}))
            .await?;
    }
    let joined = call_where(&mut alex, "alex in the lobby", |c| {
        state_of(c, &adoptive_id) == "lobby"
    })
    .await?;
    assert_eq!(joined["call_id"], call_id.as_str());
    let early = ask(
        &mut alex,
        json!({"type": "call_publish", "call_id": call_id, "sdp": "v=0"}),
    )
    .await?;
    assert_eq!(early["code"], "call.not_admitted", "{early}");

    // A parent cannot admit, mute or remove anyone.
    for frame in [
        json!({"type": "call_admit", "call_id": call_id, "user_id": adoptive_id}),
        json!({"type": "call_mute", "call_id": call_id, "user_id": birth_id, "kind": "audio", "muted": true}),
        json!({"type": "call_remove", "call_id": call_id, "user_id": host_id}),
        json!({"type": "call_end", "call_id": call_id}),
    ] {
        alex.send(frame.clone()).await?;
        let error = alex.expect("error").await?;
        assert_eq!(error["code"], "request.forbidden", "{frame}: {error}");
    }

    for user in [&adoptive_id, &birth_id] {
        host.send(json!({"type": "call_admit", "call_id": call_id, "user_id": user}))
            .await?;
    }
    call_where(&mut host, "both parents admitted", |c| {
        state_of(c, &adoptive_id) == "in_call" && state_of(c, &birth_id) == "in_call"
    })
    .await?;

    // Everyone publishes and watches the other two.
    let host_camera = publish(&mut host, &call_id).await?;
    let alex_camera = publish(&mut alex, &call_id).await?;
    let jordan_camera = publish(&mut jordan, &call_id).await?;
    let sending = [
        host_camera.start_sending().await?,
        alex_camera.start_sending().await?,
        jordan_camera.start_sending().await?,
    ];
    let host_sees_alex = view(&mut host, &call_id, &adoptive_id).await?;
    let host_sees_jordan = view(&mut host, &call_id, &birth_id).await?;
    let alex_sees_jordan = view(&mut alex, &call_id, &birth_id).await?;
    let alex_sees_host = view(&mut alex, &call_id, &host_id).await?;
    let jordan_sees_alex = view(&mut jordan, &call_id, &adoptive_id).await?;
    let jordan_sees_host = view(&mut jordan, &call_id, &host_id).await?;
    let all = [
        (&host_sees_alex, &sending[1]),
        (&host_sees_jordan, &sending[2]),
        (&alex_sees_jordan, &sending[2]),
        (&alex_sees_host, &sending[0]),
        (&jordan_sees_alex, &sending[1]),
        (&jordan_sees_host, &sending[0]),
    ];
    eventually("every viewer to receive audio and video", || {
        all.iter().all(|(viewer, _)| {
            viewer.count(RtpCodecKind::Audio) >= 20 && viewer.count(RtpCodecKind::Video) >= 20
        })
    })
    .await?;
    for (viewer, source) in all {
        assert_eq!(viewer.changed_payloads(source), 0, "payloads changed");
    }

    // Paused: Jordan's media stops reaching Alex, and nothing reaches
    // Jordan; admitted again, both resume.
    host.send(json!({"type": "call_pause", "call_id": call_id, "user_id": birth_id}))
        .await?;
    call_where(&mut alex, "jordan paused", |c| {
        state_of(c, &birth_id) == "paused"
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counts = gained(
        &[&alex_sees_jordan, &jordan_sees_alex, &alex_sees_host],
        RtpCodecKind::Video,
        SECOND,
    )
    .await;
    assert_eq!(
        &counts[..2],
        [0, 0],
        "a paused parent's media moved: {counts:?}"
    );
    assert!(counts[2] >= 30, "the rest of the call stopped: {counts:?}");
    host.send(json!({"type": "call_admit", "call_id": call_id, "user_id": birth_id}))
        .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counts = gained(
        &[&alex_sees_jordan, &jordan_sees_alex],
        RtpCodecKind::Video,
        SECOND,
    )
    .await;
    assert!(counts.iter().all(|n| *n >= 30), "resumed: {counts:?}");

    // Muted by the host: Alex's sound reaches nobody, the picture does.
    host.send(json!({"type": "call_mute", "call_id": call_id, "user_id": adoptive_id, "kind": "audio", "muted": true}))
        .await?;
    call_where(&mut jordan, "alex muted", |c| {
        c["participants"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["user_id"] == adoptive_id.as_str() && p["audio_muted"] == true)
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let watching_alex = [&host_sees_alex, &jordan_sees_alex];
    let audio = gained(&watching_alex, RtpCodecKind::Audio, SECOND).await;
    let video = gained(&watching_alex, RtpCodecKind::Video, SECOND).await;
    assert_eq!(audio, [0, 0], "muted sound was forwarded");
    assert!(
        video.iter().all(|n| *n >= 30),
        "the picture stopped: {video:?}"
    );

    // Removed from the contact link, Jordan is out of the call at once.
    let response = practitioner
        .delete(&format!("/api/v1/conversations/{link}/members/{birth_id}"))
        .await?;
    assert_eq!(response.status(), 204);
    call_where(&mut alex, "jordan removed", |c| {
        state_of(c, &birth_id) == "removed"
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counts = gained(
        &[&alex_sees_jordan, &jordan_sees_alex],
        RtpCodecKind::Video,
        SECOND,
    )
    .await;
    assert_eq!(
        counts,
        [0, 0],
        "media still moves for a removed member: {counts:?}"
    );

    // The host ends the call for everyone.
    host.send(json!({"type": "call_end", "call_id": call_id}))
        .await?;
    for socket in [&mut host, &mut alex] {
        let ended = call_where(socket, "the call ended", |c| c["status"] == "ended").await?;
        assert_eq!(ended["end_reason"], "ended_by_host");
    }
    // Joining it now returns how it ended.
    let answer = join_ended(&mut alex, &call_id).await?;
    assert_eq!(answer["type"], "call", "{answer}");
    assert_eq!(answer["call"]["end_reason"], "ended_by_host", "{answer}");
    assert_eq!(answer["call"]["participants"], json!([]), "{answer}");

    let store = app.store().await?;
    let call_uuid: uuid::Uuid = call_id.parse()?;
    let steps: Vec<String> = store
        .call_events(call_uuid, 1_000)
        .await?
        .into_iter()
        .map(|step| step.kind)
        .collect();
    for kind in [
        "started",
        "joined",
        "joined_lobby",
        "admitted",
        "paused",
        "muted",
        "removed_from_conversation",
        "ended",
    ] {
        assert!(
            steps.iter().any(|s| s == kind),
            "{kind} missing from {steps:?}"
        );
    }
    for sending in sending {
        sending.stop().await?;
    }
    Ok(())
}

/// A host and Alex in a call, Alex publishing and the host watching Alex.
struct TwoInCall {
    app: TestApp,
    practitioner: kinlink_tests::client::Client,
    link: String,
    host: Socket,
    alex: Socket,
    call_id: String,
    host_id: String,
    alex_id: String,
    alex_camera: MediaPeer,
    alex_sending: kinlink_tests::media_peer::Sending,
    host_sees_alex: MediaPeer,
}

async fn two_in_call() -> anyhow::Result<TwoInCall> {
    let app = app().await?;
    let AlexAdmitted {
        practitioner,
        mut host,
        mut alex,
        call_id,
        link,
        host_id,
        alex_id,
    } = alex_admitted(&app).await?;
    let alex_camera = publish(&mut alex, &call_id).await?;
    let alex_sending = alex_camera.start_sending().await?;
    let host_sees_alex = view(&mut host, &call_id, &alex_id).await?;
    eventually("the host to see alex", || {
        host_sees_alex.count(RtpCodecKind::Video) >= 20
    })
    .await?;
    Ok(TwoInCall {
        app,
        practitioner,
        link,
        host,
        alex,
        call_id,
        host_id,
        alex_id,
        alex_camera,
        alex_sending,
        host_sees_alex,
    })
}

/// Reads a socket (answering its pings) for up to `within`, until a
/// `call` frame satisfies `check`.
async fn wait_long(
    socket: &mut Socket,
    within: Duration,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> anyhow::Result<Value> {
    let deadline = std::time::Instant::now() + within;
    while std::time::Instant::now() < deadline {
        if let Ok(call) = call_where(socket, what, &check).await {
            return Ok(call);
        }
    }
    anyhow::bail!("no call frame with {what} within {within:?}")
}

fn connected(call: &Value, user: &str) -> Option<bool> {
    call["participants"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["user_id"] == user)
        .and_then(|p| p["connected"].as_bool())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_participant_keeps_place_for_a_while() -> anyhow::Result<()> {
    let TwoInCall {
        app,
        mut host,
        alex,
        call_id,
        alex_id,
        alex_camera,
        alex_sending,
        ..
    } = two_in_call().await?;

    // Alex's network goes: the socket and the media path drop at once.
    drop(alex);
    alex_sending.stop().await?;
    let _ = alex_camera.connection.close().await;
    call_where(&mut host, "alex shown as disconnected", |c| {
        connected(c, &alex_id) == Some(false) && state_of(c, &alex_id) == "in_call"
    })
    .await?;

    // Back 20 s later over a new socket: still in the call, not in the
    // lobby, and publishing again works.
    // The host's page stays open meanwhile, answering the server's pings.
    let _ = wait_long(&mut host, Duration::from_secs(20), "nothing", |_| false).await;
    let adoptive = app.sign_in("adoptive_parent").await?;
    let mut alex = adoptive.socket().await?;
    alex.send(json!({"type": "call_join", "call_id": call_id}))
        .await?;
    let back = call_where(&mut alex, "alex back", |c| {
        connected(c, &alex_id) == Some(true)
    })
    .await?;
    assert_eq!(state_of(&back, &alex_id), "in_call");
    let camera = publish(&mut alex, &call_id).await?;

    // Gone for 40 s: shown as left.
    drop(alex);
    let _ = camera.connection.close().await;
    let dropped_at = std::time::Instant::now();
    let left = wait_long(&mut host, Duration::from_secs(40), "alex left", |c| {
        state_of(c, &alex_id) == "left"
    })
    .await?;
    let after = dropped_at.elapsed();
    assert!(
        after >= Duration::from_secs(29),
        "left after only {after:?}"
    );
    assert_eq!(left["status"], "live", "the call goes on without alex");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signalling_and_media_leave_the_call_running() -> anyhow::Result<()> {
    let TwoInCall {
        app,
        mut host,
        mut alex,
        call_id,
        host_id,
        alex_id,
        alex_sending,
        host_sees_alex,
        alex_camera,
        ..
    } = two_in_call().await?;

    // Malformed SDP: an error frame naming the problem.
    let broken = ask(
        &mut alex,
        json!({"type": "call_publish", "call_id": call_id, "sdp": "v=0\r\nthis is not SDP"}),
    )
    .await?;
    assert_eq!(broken["code"], "call.invalid_sdp", "{broken}");

    // An offer listing more ICE candidates than any browser would.
    let mut crowded = String::from("v=0\r\n");
    for port in 0..30 {
        crowded.push_str(&format!(
            "a=candidate:{port} 1 udp 2130706431 127.0.0.1 {} typ host\r\n",
            40_000 + port
        ));
    }
    let crowded = ask(
        &mut alex,
        json!({"type": "call_publish", "call_id": call_id, "sdp": crowded}),
    )
    .await?;
    assert_eq!(crowded["code"], "call.invalid_sdp", "{crowded}");
    assert!(
        crowded["message"]
            .as_str()
            .unwrap_or_default()
            .contains("30 ICE candidates"),
        "{crowded}"
    );

    // Frames for a call one is not in, or that does not exist.
    let stranger = app.sign_in("second_adoptive_parent").await?;
    let mut sam = stranger.socket().await?;
    sam.send(json!({"type": "call_join", "call_id": call_id}))
        .await?;
    assert_eq!(sam.expect("error").await?["code"], "call.unknown");
    let made_up = uuid::Uuid::new_v4();
    alex.send(json!({"type": "call_join", "call_id": made_up}))
        .await?;
    assert_eq!(alex.expect("error").await?["code"], "call.unknown");
    let nobody = ask(
        &mut alex,
        json!({"type": "call_view", "call_id": call_id, "publisher_id": made_up, "sdp": "v=0"}),
    )
    .await?;
    assert_eq!(nobody["code"], "call.unknown", "{nobody}");

    // An RTCP receiver report claiming 31 blocks in 7 words, from the
    // host's viewing connection: dropped, and the media goes on.
    let mut report = vec![0x80 | 31, 201, 0, 6];
    report.extend_from_slice(&[0x11; 24]);
    host_sees_alex.send_raw_rtcp(report).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counts = gained(&[&host_sees_alex], RtpCodecKind::Video, SECOND).await;
    assert!(
        counts[0] >= 30,
        "media stopped after a bad RTCP packet: {counts:?}, viewer {:?}, publisher {:?}\n{}",
        *host_sees_alex.state.borrow(),
        *alex_camera.state.borrow(),
        app.logs()
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR") || l.contains("media"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    // 200 signalling frames in a burst: most are dropped, and the call
    // goes on for the others.
    for _ in 0..200 {
        alex.send(json!({"type": "call_admit", "call_id": call_id, "user_id": host_id}))
            .await?;
    }
    let mut throttled = 0;
    let mut refused = 0;
    for _ in 0..200 {
        let error = alex.expect("error").await?;
        match error["code"].as_str() {
            Some("call.throttled") => throttled += 1,
            Some("request.forbidden") => refused += 1,
            other => anyhow::bail!("unexpected error {other:?}"),
        }
    }
    assert!(throttled >= 150, "throttled {throttled}, refused {refused}");
    assert!(refused >= 1, "the first frames were still answered");
    let counts = gained(&[&host_sees_alex], RtpCodecKind::Video, SECOND).await;
    assert!(
        counts[0] >= 30,
        "media stopped during the flood: {counts:?}"
    );

    // An offer whose fingerprint has one byte changed: the handshake
    // fails, Alex is removed, and a security event is logged.
    let mut forged = MediaPeer::publisher().await?;
    let offer = forged.offer().await?;
    let tampered = change_fingerprint(&offer)?;
    let answer = ask(
        &mut alex,
        json!({"type": "call_publish", "call_id": call_id, "sdp": tampered}),
    )
    .await?;
    assert_eq!(answer["type"], "call_answer", "{answer}");
    let sdp = answer["sdp"].as_str().unwrap_or_default().to_owned();
    // The connection never comes up; only ICE has to, for the handshake.
    let _ = tokio::time::timeout(Duration::from_secs(3), forged.accept(sdp)).await;
    let removed = wait_long(&mut host, Duration::from_secs(30), "alex removed", |c| {
        state_of(c, &alex_id) == "removed"
    })
    .await;
    let removed = match removed {
        Ok(call) => call,
        Err(error) => anyhow::bail!(
            "{error}\n{}",
            app.logs()
                .lines()
                .filter(|l| l.contains("dtls")
                    || l.contains("DTLS")
                    || l.contains("media connection")
                    || l.contains("handshake"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    };
    assert_eq!(removed["status"], "live");
    // Removed is final: leaving first does not open the way back.
    alex.send(json!({"type": "call_leave", "call_id": call_id}))
        .await?;
    assert_eq!(alex.expect("error").await?["code"], "call.removed");
    alex.send(json!({"type": "call_join", "call_id": call_id}))
        .await?;
    assert_eq!(alex.expect("error").await?["code"], "call.removed");
    assert!(
        app.logs().contains("DTLS handshake failed"),
        "no security event in the log"
    );
    alex_sending.stop().await?;
    Ok(())
}

/// Sends `call_join` for a call that has ended, and returns the reply:
/// the ended `call` frame, or an `error` frame.
async fn join_ended(socket: &mut Socket, call_id: &str) -> anyhow::Result<Value> {
    socket
        .send(json!({"type": "call_join", "call_id": call_id}))
        .await?;
    socket
        .expect_where(
            |frame| {
                frame["type"] == "error"
                    || (frame["type"] == "call"
                        && frame["call"]["call_id"] == call_id
                        && frame["call"]["status"] == "ended")
            },
            "the answer to joining an ended call",
        )
        .await
}

/// Changes one byte of the offer's DTLS fingerprint.
fn change_fingerprint(offer: &str) -> anyhow::Result<String> {
    let line = offer
        .lines()
        .find(|line| line.starts_with("a=fingerprint:"))
        .ok_or_else(|| anyhow::anyhow!("no fingerprint in the offer"))?;
    let (prefix, hex) = line
        .rsplit_once(' ')
        .ok_or_else(|| anyhow::anyhow!("odd fingerprint line {line}"))?;
    let first = &hex[..2];
    let changed = if first == "00" { "01" } else { "00" };
    let forged = format!("{prefix} {changed}{}", &hex[2..]);
    Ok(offer.replace(line, &forged))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspending_the_link_ends_its_call() -> anyhow::Result<()> {
    // The server stops when its `TestApp` drops, so it is kept bound.
    let TwoInCall {
        app,
        practitioner,
        link,
        mut host,
        mut alex,
        call_id,
        alex_sending,
        ..
    } = two_in_call().await?;
    let response = practitioner
        .post(
            &format!("/api/v1/conversations/{link}/agreement/status"),
            &json!({"status": "suspended", "reason": "A pause agreed at the review meeting"}),
        )
        .await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    for socket in [&mut host, &mut alex] {
        let ended = call_where(socket, "the call ended", |c| c["status"] == "ended").await?;
        assert_eq!(ended["end_reason"], "link_suspended");
    }
    host.send(json!({"type": "call_start", "conversation_id": link}))
        .await?;
    assert_eq!(host.expect("error").await?["code"], "call.link_closed");
    let answer = join_ended(&mut alex, &call_id).await?;
    assert_eq!(answer["call"]["end_reason"], "link_suspended", "{answer}");

    // Someone outside the link learns nothing of the ended call.
    let stranger = app.sign_in("second_adoptive_parent").await?;
    let mut sam = stranger.socket().await?;
    let answer = join_ended(&mut sam, &call_id).await?;
    assert_eq!(answer["code"], "call.unknown", "{answer}");
    alex_sending.stop().await?;
    Ok(())
}

/// A call in the contact link with Alex admitted, over signalling only.
struct AlexAdmitted {
    practitioner: kinlink_tests::Client,
    host: Socket,
    alex: Socket,
    call_id: String,
    link: String,
    host_id: String,
    alex_id: String,
}

async fn alex_admitted(app: &TestApp) -> anyhow::Result<AlexAdmitted> {
    let practitioner = app.sign_in("la_practitioner").await?;
    let adoptive = app.sign_in("adoptive_parent").await?;
    let link = practitioner.conversation_id("contact_link").await?;
    let host_id = user_id(app, "la_practitioner").await?;
    let alex_id = user_id(app, "adoptive_parent").await?;
    let mut host = practitioner.socket().await?;
    let mut alex = adoptive.socket().await?;
    host.send(json!({"type": "call_start", "conversation_id": link}))
        .await?;
    let call = call_where(&mut host, "the started call", |c| c["status"] == "live").await?;
    let call_id = call["call_id"].as_str().unwrap_or_default().to_owned();
    alex.send(json!({"type": "call_join", "call_id": call_id}))
        .await?;
    call_where(&mut host, "alex in the lobby", |c| {
        state_of(c, &alex_id) == "lobby"
    })
    .await?;
    host.send(json!({"type": "call_admit", "call_id": call_id, "user_id": alex_id}))
        .await?;
    call_where(&mut alex, "alex admitted", |c| {
        state_of(c, &alex_id) == "in_call"
    })
    .await?;
    Ok(AlexAdmitted {
        practitioner,
        host,
        alex,
        call_id,
        link,
        host_id,
        alex_id,
    })
}

/// Returns the kinds of the steps in a call's record.
async fn steps_of(store: &kinlink_store::Store, call_id: &str) -> anyhow::Result<Vec<String>> {
    Ok(store
        .call_events(call_id.parse()?, 1_000)
        .await?
        .into_iter()
        .map(|step| step.kind)
        .collect())
}

/// Reads a stored call, which must exist.
async fn stored_call(store: &kinlink_store::Store, id: uuid::Uuid) -> anyhow::Result<call::Model> {
    store.call(id).await?.context("the call is not stored")
}

/// Joins a call after a restart, over a new socket, and returns the
/// `call` frame of the reply.
async fn rejoin(app: &TestApp, call_id: &str) -> anyhow::Result<Value> {
    let adoptive = app.sign_in("adoptive_parent").await?;
    let mut alex = adoptive.socket().await?;
    alex.send(json!({"type": "call_join", "call_id": call_id}))
        .await?;
    let answer = alex.expect_any_of(&["call", "error"]).await?;
    anyhow::ensure!(answer["type"] == "call", "rejoining: {answer}");
    Ok(answer["call"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_signal_ends_calls_first() -> anyhow::Result<()> {
    let mut app = app().await?;
    let AlexAdmitted {
        mut host,
        mut alex,
        call_id,
        ..
    } = alex_admitted(&app).await?;

    // Each participant hears why the call ended, then the socket closes
    // with 1012 (service restart).
    app.signal("TERM")?;
    for (who, socket) in [("host", &mut host), ("alex", &mut alex)] {
        let ended = call_where(socket, "the call ended by the stop", |c| {
            c["status"] == "ended"
        })
        .await?;
        assert_eq!(ended["call_id"], call_id.as_str(), "{who}: {ended}");
        assert_eq!(ended["end_reason"], "server_restart", "{who}: {ended}");
        let closed = socket.ended().await?;
        assert!(
            matches!(closed, Ended::Closed(Some(1012))),
            "{who}: {closed:?}"
        );
    }
    let status = app.exited(Duration::from_secs(15)).await?;
    assert!(status.success(), "exited with {status}\n{}", app.logs());

    let store = app.store().await?;
    let row = stored_call(&store, call_id.parse()?).await?;
    assert_eq!(row.end_reason.as_deref(), Some("server_restart"));
    assert!(row.ended_at.is_some(), "the end is not stored");
    let steps = steps_of(&store, &call_id).await?;
    assert_eq!(
        steps.iter().filter(|kind| *kind == "ended").count(),
        1,
        "{steps:?}"
    );

    // After the restart, a page that joins again learns why the call
    // ended, and the start found nothing more to end.
    app.restart().await?;
    let ended = rejoin(&app, &call_id).await?;
    assert_eq!(ended["status"], "ended", "{ended}");
    assert_eq!(ended["end_reason"], "server_restart", "{ended}");
    assert_eq!(stored_call(&store, call_id.parse()?).await?, row);
    assert_eq!(steps_of(&store, &call_id).await?, steps);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_node_ends_its_calls_at_start() -> anyhow::Result<()> {
    let mut app = app().await?;
    let AlexAdmitted {
        mut alex,
        call_id,
        link,
        host_id,
        ..
    } = alex_admitted(&app).await?;

    // Another node's call in the same database, which this node must
    // leave open.
    let store = app.store().await?;
    let now = chrono::Utc::now();
    let foreign = call::Model {
        id: uuid::Uuid::now_v7(),
        conversation_id: link.parse()?,
        host_id: host_id.parse()?,
        started_at: now,
        ends_at: now + chrono::Duration::minutes(60),
        ended_at: None,
        end_reason: None,
        node_id: Some("another-node".to_owned()),
    };
    store.start_call(foreign.clone()).await?;

    // Killed, the server sends no end and leaves the call open.
    app.signal("KILL")?;
    app.exited(Duration::from_secs(10)).await?;
    loop {
        match alex.next().await? {
            Ok(frame) => assert!(
                !(frame["type"] == "call" && frame["call"]["status"] == "ended"),
                "a killed server announced an end: {frame}"
            ),
            Err(ended) => {
                assert!(matches!(ended, Ended::Dropped), "{ended:?}");
                break;
            }
        }
    }
    let left_open = stored_call(&store, call_id.parse()?).await?;
    assert_eq!(
        left_open.ended_at, None,
        "the call was ended before the restart"
    );

    // The restarted node ends its own call, with the step in its record,
    // and leaves the other node's call alone.
    app.restart().await?;
    let row = stored_call(&store, call_id.parse()?).await?;
    assert_eq!(row.end_reason.as_deref(), Some("server_restart"));
    assert!(row.ended_at.is_some(), "the end is not stored");
    let steps = steps_of(&store, &call_id).await?;
    assert_eq!(steps.last().map(String::as_str), Some("ended"), "{steps:?}");
    let other = stored_call(&store, foreign.id).await?;
    assert_eq!(other.ended_at, None, "another node's call was ended");
    assert_eq!(other.end_reason, None, "another node's call was ended");

    let ended = rejoin(&app, &call_id).await?;
    assert_eq!(ended["status"], "ended", "{ended}");
    assert_eq!(ended["end_reason"], "server_restart", "{ended}");
    Ok(())
}

/// Returns a call's length from its `started_at` and `ends_at`.
fn length_of(call: &Value) -> anyhow::Result<chrono::Duration> {
    let time = |field: &str| {
        let text = call[field].as_str().unwrap_or_default();
        chrono::DateTime::parse_from_rfc3339(text).with_context(|| format!("{field} of {call}"))
    };
    Ok(time("ends_at")? - time("started_at")?)
}

/// Starts a call in a conversation over a new socket, ends it, and
/// returns its length in minutes.
async fn call_length(
    host: &kinlink_tests::client::Client,
    conversation: &str,
) -> anyhow::Result<i64> {
    let socket = &mut host.socket().await?;
    socket
        .send(json!({"type": "call_start", "conversation_id": conversation}))
        .await?;
    let call = call_where(socket, "the started call", |c| {
        c["status"] == "live" && c["conversation_id"] == conversation
    })
    .await?;
    let call_id = call["call_id"].as_str().unwrap_or_default().to_owned();
    socket
        .send(json!({"type": "call_end", "call_id": call_id}))
        .await?;
    call_where(socket, "the call ended", |c| {
        c["call_id"] == call_id.as_str() && c["status"] == "ended"
    })
    .await?;
    let length = length_of(&call)?;
    anyhow::ensure!(
        length.num_seconds() % 60 == 0,
        "a call length of {length} is not whole minutes"
    );
    Ok(length.num_minutes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_length_follows_agreement() -> anyhow::Result<()> {
    let app = app_with(&[("KINLINK__CALLS__MAX_MINUTES", "60")]).await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let link = practitioner.conversation_id("contact_link").await?;
    let discussion = practitioner.conversation_id("discussion").await?;
    let path = format!("/api/v1/conversations/{link}/agreement");
    let before = practitioner.get_json(&path).await?;
    assert_eq!(before["call_minutes"], Value::Null, "{before}");
    assert_eq!(before["call_minutes_max"], 60, "{before}");
    assert_eq!(
        call_length(&practitioner, &link).await?,
        60,
        "no agreed length"
    );

    // Too short, too long or not a number: 400 naming the field, and
    // nothing stored.
    let body = kinlink_tests::agreements::as_request(before.clone());
    for bad in [
        json!(4),
        json!(61),
        json!(-30),
        json!("thirty"),
        json!(20.5),
    ] {
        let mut request = body.clone();
        request["call_minutes"] = bad.clone();
        let response = practitioner.put(&path, &request).await?;
        let status = response.status();
        let error: Value = response.json().await?;
        assert_eq!(status, 400, "{bad}: {error}");
        assert_eq!(error["field"], "call_minutes", "{bad}: {error}");
    }
    assert_eq!(practitioner.get_json(&path).await?, before, "stored anyway");

    // Calls in the link take the agreed length, and a discussion keeps
    // the configured maximum.
    let stored = kinlink_tests::agreements::change(&practitioner, &link, |body| {
        body["call_minutes"] = json!(20);
    })
    .await?;
    assert_eq!(stored["call_minutes"], 20, "{stored}");
    assert_eq!(
        call_length(&practitioner, &link).await?,
        20,
        "agreed length"
    );
    assert_eq!(
        call_length(&practitioner, &discussion).await?,
        60,
        "discussion"
    );

    let cleared = kinlink_tests::agreements::change(&practitioner, &link, |body| {
        body["call_minutes"] = Value::Null;
    })
    .await?;
    assert_eq!(cleared["call_minutes"], Value::Null, "{cleared}");
    assert_eq!(
        call_length(&practitioner, &link).await?,
        60,
        "cleared length"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turn_credentials_come_with_the_call() -> anyhow::Result<()> {
    const SECRET: &str = "a TURN secret shared with coturn";
    let app = app_with(&[
        (
            "KINLINK__CALLS__ICE_SERVERS",
            "stun:stun.example.org:3478,turn:turn.example.org:3478?transport=udp",
        ),
        ("KINLINK__CALLS__TURN_SECRET", SECRET),
    ])
    .await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let link = practitioner.conversation_id("contact_link").await?;
    let mut host = practitioner.socket().await?;
    host.send(json!({"type": "call_start", "conversation_id": link}))
        .await?;
    let call = call_where(&mut host, "the started call", |c| c["status"] == "live").await?;
    let call_id = call["call_id"].as_str().unwrap_or_default().to_owned();
    let servers = &call["ice_servers"];

    assert_eq!(servers[0]["urls"], json!(["stun:stun.example.org:3478"]));
    assert!(servers[0].get("username").is_none(), "{servers}");
    assert_eq!(
        servers[1]["urls"],
        json!(["turn:turn.example.org:3478?transport=udp"])
    );
    let ends_at: chrono::DateTime<chrono::Utc> =
        call["ends_at"].as_str().unwrap_or_default().parse()?;
    let expires = (ends_at + chrono::Duration::minutes(10)).timestamp();
    let expected = kinlink_core::crypto::turn::TurnSecret::new(SECRET)
        .context("secret")?
        .credential(expires, &call_id)?;
    assert_eq!(servers[1]["username"], expected.username.as_str());
    assert_eq!(servers[1]["credential"], expected.password.as_str());

    // A parent in the lobby gets no servers, nor does anyone once the
    // call has ended.
    let adoptive = app.sign_in("adoptive_parent").await?;
    let mut alex = adoptive.socket().await?;
    alex.send(json!({"type": "call_join", "call_id": call_id}))
        .await?;
    let waiting = call_where(&mut alex, "alex in the lobby", |c| c["status"] == "live").await?;
    assert_eq!(waiting["ice_servers"], json!([]), "{waiting}");
    host.send(json!({"type": "call_end", "call_id": call_id}))
        .await?;
    for socket in [&mut host, &mut alex] {
        let ended = call_where(socket, "the call ended", |c| c["status"] == "ended").await?;
        assert_eq!(ended["ice_servers"], json!([]), "{ended}");
    }

    // Neither the secret nor the credential reaches the log.
    let logs = app.logs();
    assert!(!logs.contains(SECRET), "the TURN secret is in the log");
    assert!(
        !logs.contains(&expected.password),
        "a TURN credential is in the log"
    );
    Ok(())
}
