//! The SFU with real webrtc-rs peers on 127.0.0.1: a publisher sends
//! numbered audio and video packets, two viewers receive them through the
//! SFU, and every payload arrives unchanged. Pausing and muting hold media
//! back on the server, whatever the publisher sends, and removing a viewer
//! closes its connection without disturbing the other.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::Ordering;
use std::time::Duration;

use kinlink_media::sfu::{MediaKind, Sfu, SfuConfig, SfuEvent};
use kinlink_tests::media_peer::{MediaPeer, RtpCodecKind, eventually, gained};
use tokio::sync::mpsc;
use uuid::Uuid;

const SECOND: Duration = Duration::from_secs(1);

fn sfu() -> anyhow::Result<(Sfu, mpsc::UnboundedReceiver<SfuEvent>)> {
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

async fn viewer(sfu: &Sfu, call: Uuid, who: Uuid, publisher: Uuid) -> anyhow::Result<MediaPeer> {
    let mut peer = MediaPeer::viewer().await?;
    let offer = peer.offer().await?;
    let answer = sfu.view(call, who, publisher, offer).await?;
    peer.accept(answer).await?;
    Ok(peer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwards_unchanged_and_holds_back_on_the_server() -> anyhow::Result<()> {
    let (sfu, _events) = sfu()?;
    let call = Uuid::new_v4();
    let (alex, jordan, priya) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());

    let mut publisher = MediaPeer::publisher().await?;
    let offer = publisher.offer().await?;
    let answer = sfu.publish(call, alex, offer).await?;
    publisher.accept(answer).await?;
    let sending = publisher.start_sending().await?;

    let first = viewer(&sfu, call, jordan, alex).await?;
    let mut second = viewer(&sfu, call, priya, alex).await?;
    eventually("both viewers to receive audio and video", || {
        [&first, &second]
            .iter()
            .all(|v| v.count(RtpCodecKind::Audio) >= 20 && v.count(RtpCodecKind::Video) >= 20)
    })
    .await?;
    assert_eq!(first.changed_payloads(&sending), 0, "payloads changed");
    assert_eq!(second.changed_payloads(&sending), 0, "payloads changed");

    // A paused viewer gets nothing while the other still does.
    sfu.set_paused(call, priya, true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let counts = gained(&[&first, &second], RtpCodecKind::Video, SECOND).await;
    assert!(
        counts[0] >= 30,
        "the other viewer kept receiving: {counts:?}"
    );
    assert_eq!(counts[1], 0, "the paused viewer received: {counts:?}");
    sfu.set_paused(call, priya, false);
    let counts = gained(&[&second], RtpCodecKind::Video, SECOND).await;
    assert!(counts[0] >= 30, "resumed: {counts:?}");

    // A muted publisher's sound reaches nobody; the picture still does.
    sfu.set_muted(call, alex, MediaKind::Audio, true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let audio = gained(&[&first, &second], RtpCodecKind::Audio, SECOND).await;
    let video = gained(&[&first, &second], RtpCodecKind::Video, SECOND).await;
    assert_eq!(audio, [0, 0], "muted sound was forwarded");
    assert!(
        video.iter().all(|n| *n >= 30),
        "the picture stopped: {video:?}"
    );
    sfu.set_muted(call, alex, MediaKind::Audio, false);

    // A paused publisher reaches nobody.
    sfu.set_paused(call, alex, true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let video = gained(&[&first, &second], RtpCodecKind::Video, SECOND).await;
    assert_eq!(video, [0, 0], "a paused publisher's picture was forwarded");
    sfu.set_paused(call, alex, false);
    let counters = sfu
        .counters(call)
        .ok_or_else(|| anyhow::anyhow!("no counters"))?;
    assert!(counters.held_back.load(Ordering::Relaxed) > 0);
    assert!(counters.keyframe_requests.load(Ordering::Relaxed) > 0);

    // Removing a viewer closes its connection; the other goes on.
    sfu.remove(call, priya).await;
    second.wait_until_down(Duration::from_secs(20)).await?;
    let counts = gained(&[&first], RtpCodecKind::Video, SECOND).await;
    assert!(counts[0] >= 30, "the remaining viewer: {counts:?}");

    sfu.end(call).await;
    assert!(sfu.counters(call).is_none());
    sending.stop().await?;
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
