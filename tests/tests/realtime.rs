//! Live conversation over the WebSocket: store, acknowledge, fan out,
//! resend, resume, membership.

use kinlink_tests::{Socket, TestApp};
use serde_json::json;

#[tokio::test]
async fn message_reaches_other_member_after_ack() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let link = alex.conversation_id("contact_link").await?;

    let mut alex_socket = alex.socket().await?;
    let mut jordan_socket = jordan.socket().await?;
    alex_socket.subscribe(&link, 0).await?;
    jordan_socket.subscribe(&link, 0).await?;

    let seq = alex_socket
        .say(&link, "Happy birthday from all of us")
        .await?;
    assert_eq!(seq, 1);
    let received = jordan_socket.messages(&link, 1).await?;
    assert_eq!(received[0]["body"], "Happy birthday from all of us");
    assert_eq!(received[0]["seq"], 1);
    assert_eq!(
        received[0]["sender_id"],
        alex.get_json("/api/v1/me").await?["user"]["id"]
    );
    Ok(())
}

#[tokio::test]
async fn resend_is_acknowledged_not_stored_twice() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut socket = alex.socket().await?;
    let id = uuid::Uuid::now_v7().to_string();

    let first = socket.send_with_id(&link, &id, "once only").await?;
    let second = socket.send_with_id(&link, &id, "once only").await?;
    assert_eq!(first, second);

    let history = alex
        .get_json(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(1));
    Ok(())
}

#[tokio::test]
async fn reconnect_resumes_without_gaps_or_duplicates() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let priya = app.sign_in("la_practitioner").await?;
    let owen = app.sign_in("va_practitioner").await?;
    let thread = priya.conversation_id("discussion").await?;

    let mut owen_socket = owen.socket().await?;
    owen_socket.subscribe(&thread, 0).await?;
    let mut priya_socket = priya.socket().await?;
    for n in 1..=3 {
        priya_socket.say(&thread, &format!("note {n}")).await?;
    }
    let seen = owen_socket.messages(&thread, 3).await?;
    let last_seen = seen[2]["seq"].as_i64().unwrap_or_default();
    drop(owen_socket);

    for n in 4..=8 {
        priya_socket.say(&thread, &format!("note {n}")).await?;
    }
    let mut resumed = owen.socket().await?;
    resumed.subscribe(&thread, last_seen).await?;
    let missed = resumed.messages(&thread, 5).await?;
    let seqs: Vec<i64> = missed
        .iter()
        .filter_map(|frame| frame["seq"].as_i64())
        .collect();
    assert_eq!(seqs, vec![4, 5, 6, 7, 8]);
    assert_eq!(missed[0]["body"], "note 4");

    priya_socket.say(&thread, "note 9").await?;
    let live = resumed.messages(&thread, 1).await?;
    assert_eq!(
        live[0]["seq"], 9,
        "no duplicate of an earlier message arrives"
    );
    Ok(())
}

#[tokio::test]
async fn read_receipt_reaches_sender() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut alex_socket = alex.socket().await?;
    alex_socket.subscribe(&link, 0).await?;
    let seq = alex_socket.say(&link, "did you get the photos?").await?;

    let mut jordan_socket = jordan.socket().await?;
    jordan_socket
        .send(json!({ "type": "read", "conversation_id": link, "up_to": seq }))
        .await?;
    let receipt = alex_socket.expect("read").await?;
    assert_eq!(receipt["up_to"], seq);

    let history = alex
        .get_json(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    assert_eq!(history["messages"][0]["read_by_others"], true);
    let list = jordan.get_json("/api/v1/conversations").await?;
    assert_eq!(list[0]["unread"], 0);
    Ok(())
}

#[tokio::test]
async fn unread_count_counts_others_messages() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut socket = alex.socket().await?;
    socket.say(&link, "one").await?;
    socket.say(&link, "two").await?;

    let jordan_list = jordan.get_json("/api/v1/conversations").await?;
    assert_eq!(jordan_list[0]["unread"], 2);
    let alex_list = alex.get_json("/api/v1/conversations").await?;
    assert_eq!(alex_list[0]["unread"], 0);
    Ok(())
}

#[tokio::test]
async fn non_member_gets_not_found() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let owen = app.sign_in("va_practitioner").await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let unknown = uuid::Uuid::now_v7().to_string();

    let foreign = owen
        .get(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    let missing = owen
        .get(&format!("/api/v1/conversations/{unknown}/messages"))
        .await?;
    assert_eq!(foreign.status(), 404);
    assert_eq!(missing.status(), 404);
    assert_eq!(foreign.text().await?, missing.text().await?);

    let mut socket = owen.socket().await?;
    socket
        .send(json!({ "type": "send", "conversation_id": link, "message_id": uuid::Uuid::now_v7(), "body": "hi" }))
        .await?;
    let error = socket.expect("error").await?;
    assert_eq!(error["code"], "resource.not_found");
    let history = alex
        .get_json(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(0));
    Ok(())
}

#[tokio::test]
async fn removed_member_stops_receiving_at_once() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let priya = app.sign_in("la_practitioner").await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut jordan_socket = jordan.socket().await?;
    jordan_socket.subscribe(&link, 0).await?;
    let mut alex_socket = alex.socket().await?;
    alex_socket.subscribe(&link, 0).await?;
    alex_socket.say(&link, "before").await?;
    jordan_socket.messages(&link, 1).await?;
    // A second connection of the member sends without subscribing: its
    // cached right to send must end with the removal too.
    let mut second_tab = jordan.socket().await?;
    second_tab.say(&link, "from a second tab").await?;
    jordan_socket.messages(&link, 1).await?;

    let jordan_id = user_id(&jordan).await?;
    let refused = alex
        .delete(&format!("/api/v1/conversations/{link}/members/{jordan_id}"))
        .await?;
    assert_eq!(
        refused.status(),
        403,
        "a family member cannot remove another"
    );
    let removed = priya
        .delete(&format!("/api/v1/conversations/{link}/members/{jordan_id}"))
        .await?;
    assert_eq!(removed.status(), 204);
    let notice = jordan_socket.expect("removed").await?;
    assert_eq!(notice["conversation_id"], link.as_str());
    second_tab.expect("removed").await?;
    let late = uuid::Uuid::now_v7().to_string();
    second_tab
        .send(
            json!({ "type": "send", "conversation_id": link, "message_id": late, "body": "late" }),
        )
        .await?;
    let answer = second_tab
        .expect_where(
            |frame| frame["ref"] == late.as_str() || frame["message_id"] == late.as_str(),
            "the answer to a send",
        )
        .await?;
    assert_eq!(
        answer["type"], "error",
        "the removed member's second tab got {answer}"
    );
    assert_eq!(answer["code"], "resource.not_found");

    alex_socket.say(&link, "after removal").await?;
    alex_socket.messages(&link, 2).await?;
    jordan_socket
        .send(json!({ "type": "read", "conversation_id": link, "up_to": 1 }))
        .await?;
    let next = jordan_socket.expect_any_of(&["message", "error"]).await?;
    assert_eq!(next["type"], "error", "the removed member got {next}");
    assert_eq!(next["code"], "resource.not_found");

    let history = alex
        .get_json(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(
        bodies,
        vec!["before", "from a second tab", "after removal"],
        "both epochs stay readable to members"
    );
    let gone = jordan
        .get(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    assert_eq!(gone.status(), 404);

    // The agreement no longer lists the removed member as a party.
    let agreement = priya
        .get_json(&format!("/api/v1/conversations/{link}/agreement"))
        .await?;
    let parties: Vec<&str> = agreement["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|party| party["user_id"].as_str())
        .collect();
    assert!(!parties.contains(&jordan_id.as_str()), "{agreement}");
    assert_eq!(parties.len(), 1, "{agreement}");
    Ok(())
}

async fn user_id(client: &kinlink_tests::Client) -> anyhow::Result<String> {
    let me = client.get_json("/api/v1/me").await?;
    Ok(me["user"]["id"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn socket_requires_session_and_origin() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let token = alex.session_token.clone();

    let anonymous = Socket::connect(&app.address, None, Some(&app.address)).await;
    let error = anonymous.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("401"), "{error}");

    let foreign =
        Socket::connect(&app.address, token.as_deref(), Some("http://evil.example")).await;
    let error = foreign.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("403"), "{error}");
    Ok(())
}

#[tokio::test]
async fn long_history_catches_up_in_order() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut sender = alex.socket().await?;
    let long_body = "y".repeat(8 * 1024);
    for n in 0..400 {
        let body = if n % 50 == 0 {
            long_body.clone()
        } else {
            format!("entry {n}")
        };
        sender.say(&link, &body).await?;
    }

    let mut reader = jordan.socket().await?;
    reader.subscribe(&link, 0).await?;
    let frames = reader.messages(&link, 400).await?;
    let seqs: Vec<i64> = frames
        .iter()
        .filter_map(|frame| frame["seq"].as_i64())
        .collect();
    assert_eq!(seqs, (1..=400).collect::<Vec<i64>>());
    assert_eq!(
        app.metric("kinlink_ws_slow_consumer_disconnects_total")
            .await?,
        0.0
    );
    Ok(())
}

#[tokio::test]
async fn pipelined_sends_keep_their_order() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut socket = alex.socket().await?;
    for n in 0..60 {
        socket
            .send(json!({ "type": "send", "conversation_id": link, "message_id": uuid::Uuid::now_v7(), "body": format!("part {n}") }))
            .await?;
    }
    for _ in 0..60 {
        socket.expect("ack").await?;
    }
    let history = alex
        .get_json(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    let bodies: Vec<String> = history["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["body"].as_str().map(str::to_owned))
        .collect();
    let expected: Vec<String> = (0..60).map(|n| format!("part {n}")).collect();
    assert_eq!(bodies, expected);
    Ok(())
}

#[tokio::test]
async fn message_id_of_another_sender_is_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let id = uuid::Uuid::now_v7().to_string();
    let mut alex_socket = alex.socket().await?;
    alex_socket.send_with_id(&link, &id, "mine").await?;
    let mut jordan_socket = jordan.socket().await?;
    let refused = jordan_socket.send_with_id(&link, &id, "not mine").await;
    let message = refused
        .err()
        .map(|error| error.to_string())
        .unwrap_or_default();
    assert!(message.contains("request.invalid_field"), "{message}");
    let history = alex
        .get_json(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(1));
    assert_eq!(history["messages"][0]["body"], "mine");
    Ok(())
}

#[tokio::test]
async fn members_sending_and_receiving_at_once_never_stall() -> anyhow::Result<()> {
    // Every session opens its conversation key on its first send while
    // messages from the others arrive.
    let app = TestApp::spawn().await?;
    let priya = app.sign_in("la_practitioner").await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut sockets = Vec::new();
    for client in [&priya, &alex, &jordan] {
        let mut socket = client.socket().await?;
        socket.subscribe(&link, 0).await?;
        sockets.push(socket);
    }
    for round in 0..30 {
        for (index, socket) in sockets.iter_mut().enumerate() {
            let frame = json!({ "type": "send", "conversation_id": link, "message_id": uuid::Uuid::now_v7(), "body": format!("{index}-{round}") });
            socket.send(frame).await?;
        }
    }
    for socket in &mut sockets {
        let frames = socket.messages(&link, 90).await?;
        let seqs: Vec<i64> = frames
            .iter()
            .filter_map(|frame| frame["seq"].as_i64())
            .collect();
        assert_eq!(seqs, (1..=90).collect::<Vec<i64>>());
        for _ in 0..30 {
            socket.expect("ack").await?;
        }
    }
    Ok(())
}
