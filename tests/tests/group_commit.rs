//! The store's batch append (group commit): one transaction for messages
//! to several conversations, consecutive sequence numbers per
//! conversation, and a result per message when the batch cannot be stored
//! whole.

use chrono::Utc;
use kinlink_core::{ConversationId, MessageId, UserId};
use kinlink_store::StoreError;
use kinlink_store::conversations::NewMessage;
use kinlink_tests::TestApp;

fn message(conversation: ConversationId, sender: UserId, id: MessageId) -> NewMessage {
    NewMessage {
        conversation_id: conversation,
        message_id: id,
        sender_id: sender,
        key_epoch: 0,
        ciphertext: vec![7; 40],
        sent_at: Utc::now(),
        attachments: Vec::new(),
    }
}

fn seqs(results: &[Result<kinlink_store::conversations::Appended, StoreError>]) -> Vec<i64> {
    results
        .iter()
        .map(|result| result.as_ref().map(|appended| appended.seq).unwrap_or(-1))
        .collect()
}

#[tokio::test]
async fn batch_append_allocates_and_falls_back() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let priya = app.sign_in("la_practitioner").await?;
    let link = ConversationId(priya.conversation_id("contact_link").await?.parse()?);
    let thread = ConversationId(priya.conversation_id("discussion").await?.parse()?);
    let me: UserId = UserId(
        priya.get_json("/api/v1/me").await?["user"]["id"]
            .as_str()
            .unwrap_or_default()
            .parse()?,
    );
    let store = app.store().await?;

    // Interleaved messages to two conversations in one batch.
    let ids: Vec<MessageId> = (0..5).map(|_| MessageId::new()).collect();
    let batch = vec![
        message(link, me, ids[0]),
        message(thread, me, ids[1]),
        message(link, me, ids[2]),
        message(link, me, ids[3]),
        message(thread, me, ids[4]),
    ];
    let results = store.append_messages(&batch).await;
    assert_eq!(seqs(&results), vec![1, 1, 2, 3, 2]);
    assert!(
        results
            .iter()
            .all(|result| matches!(result, Ok(a) if !a.duplicate))
    );

    // A resent id inside a batch: the batch is not stored whole, so each
    // message gets its own result, and no sequence number is skipped.
    let fresh = MessageId::new();
    let batch = vec![
        message(link, me, ids[2]),
        message(link, me, fresh),
        message(link, me, fresh),
    ];
    let results = store.append_messages(&batch).await;
    assert_eq!(seqs(&results), vec![2, 4, 4]);
    let duplicates: Vec<bool> = results
        .iter()
        .map(|result| result.as_ref().is_ok_and(|a| a.duplicate))
        .collect();
    assert_eq!(duplicates, vec![true, false, true]);

    // A conversation that does not exist fails alone.
    let missing = ConversationId(uuid::Uuid::new_v4());
    let batch = vec![
        message(missing, me, MessageId::new()),
        message(thread, me, MessageId::new()),
    ];
    let results = store.append_messages(&batch).await;
    assert!(
        matches!(results[0], Err(StoreError::NotFound { .. })),
        "{:?}",
        results[0]
    );
    assert_eq!(seqs(&results)[1], 3);

    // What is stored is gap-free and in order.
    for (conversation, last) in [(link, 4), (thread, 3)] {
        let stored = store.messages_after(conversation, 0, 100).await?;
        let numbers: Vec<i64> = stored.iter().map(|row| row.seq).collect();
        assert_eq!(numbers, (1..=last).collect::<Vec<_>>());
        assert_eq!(store.conversation(conversation).await?.last_seq, last);
    }
    Ok(())
}
