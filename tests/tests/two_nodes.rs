//! Two server processes share PostgreSQL and Redis: people on different
//! nodes converse both ways, and a Redis restart in the middle loses and
//! duplicates nothing.

use std::process::Stdio;
use std::time::Duration;

use kinlink_tests::database::fresh_postgres;
use kinlink_tests::{AppOptions, Database, Socket, TestApp};
use tokio::process::{Child, Command};

/// A Redis server of the test's own, so the test can restart it.
struct Redis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Redis {
    async fn start() -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut redis = Self {
            port,
            dir: tempfile::tempdir()?,
            child: None,
        };
        redis.restart().await?;
        Ok(redis)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn restart(&mut self) -> anyhow::Result<()> {
        let binary = std::env::var("KINLINK_TEST_REDIS_SERVER_BIN")
            .unwrap_or_else(|_| "redis-server".to_owned());
        let child = Command::new(binary)
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .current_dir(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()?;
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("redis did not start on port {}", self.port)
    }

    async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await?;
            child.wait().await?;
        }
        Ok(())
    }
}

/// Reads message frames until `count` distinct ones arrived, failing on a
/// duplicate or a gap, then checks nothing more arrives.
async fn receive_exactly(
    socket: &mut Socket,
    conversation: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    let frames = socket.messages(conversation, count).await?;
    let seqs: Vec<i64> = frames
        .iter()
        .filter_map(|frame| frame["seq"].as_i64())
        .collect();
    let expected: Vec<i64> = (1..=count as i64).collect();
    anyhow::ensure!(seqs == expected, "sequence numbers {seqs:?}");
    let extra = tokio::time::timeout(Duration::from_millis(1500), socket.expect("message")).await;
    anyhow::ensure!(
        extra.is_err() || extra.as_ref().is_ok_and(|frame| frame.is_err()),
        "an extra frame arrived: {extra:?}"
    );
    Ok(frames
        .iter()
        .filter_map(|frame| frame["body"].as_str().map(str::to_owned))
        .collect())
}

#[tokio::test]
async fn nodes_converse_through_a_redis_restart() -> anyhow::Result<()> {
    let mut redis = Redis::start().await?;
    let database = Database::Postgres(fresh_postgres().await?);
    let env = vec![
        ("KINLINK__REDIS__URL".to_owned(), redis.url()),
        kinlink_tests::app::shared_profile_key(),
    ];
    let first = TestApp::spawn_with(AppOptions {
        database: Some(database.clone()),
        env: env.clone(),
        ..AppOptions::default()
    })
    .await?;
    let second = TestApp::spawn_with(AppOptions {
        database: Some(database),
        env,
        demo: false,
        ..AppOptions::default()
    })
    .await?;
    assert_ne!(first.address, second.address);

    let alex = first.sign_in("adoptive_parent").await?;
    let jordan = first.sign_in_at(&second.address, "birth_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut alex_socket = alex.socket().await?;
    let mut jordan_socket = jordan.socket().await?;
    alex_socket.subscribe(&link, 0).await?;
    jordan_socket.subscribe(&link, 0).await?;

    let mut sent = Vec::new();
    for n in 0..3 {
        let text = format!("from node one {n}");
        alex_socket.say(&link, &text).await?;
        sent.push(text);
        let text = format!("from node two {n}");
        jordan_socket.say(&link, &text).await?;
        sent.push(text);
    }

    redis.stop().await?;
    for n in 3..6 {
        let text = format!("from node one {n}");
        alex_socket.say(&link, &text).await?;
        sent.push(text);
        let text = format!("from node two {n}");
        jordan_socket.say(&link, &text).await?;
        sent.push(text);
    }
    redis.restart().await?;
    // Wait until both nodes have subscribed again.
    for _ in 0..100 {
        if first.metric("kinlink_broker_reconnects_total").await? >= 1.0
            && second.metric("kinlink_broker_reconnects_total").await? >= 1.0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for n in 6..9 {
        let text = format!("from node one {n}");
        alex_socket.say(&link, &text).await?;
        sent.push(text);
        let text = format!("from node two {n}");
        jordan_socket.say(&link, &text).await?;
        sent.push(text);
    }

    let on_first = receive_exactly(&mut alex_socket, &link, sent.len()).await?;
    let on_second = receive_exactly(&mut jordan_socket, &link, sent.len()).await?;
    assert_eq!(on_first, sent);
    assert_eq!(on_second, sent);
    assert!(
        second
            .metric("kinlink_broker_events_received_total")
            .await?
            >= 1.0,
        "events really crossed Redis"
    );
    Ok(())
}
