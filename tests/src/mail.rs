//! The real SMTP server the email tests read: the shared catcher that the
//! test command starts, or a private one a test starts with its own
//! settings. Both are `scripts/lib/smtp_catcher.py` on aiosmtpd, which
//! stores each message it accepts as an `.eml` file beside a `.json` file
//! with its envelope.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;

/// An SMTP server that stores what it accepts in a folder.
pub struct Catcher {
    /// `smtp://127.0.0.1:<port>`.
    pub url: String,
    dir: PathBuf,
    child: Option<Child>,
    _own_dir: Option<tempfile::TempDir>,
}

/// One message as the server received it.
pub struct Received {
    /// The raw message, headers and body.
    pub raw: String,
    /// The envelope: `mail_from`, `rcpt_tos`.
    pub envelope: serde_json::Value,
}

impl Catcher {
    /// Starts the server with demo data, sending its email here and
    /// reading its outbox every second.
    pub async fn app_sending_here(&self) -> anyhow::Result<crate::app::TestApp> {
        crate::app::TestApp::spawn_with(crate::app::AppOptions {
            env: vec![
                ("KINLINK__EMAIL__SMTP_URL".into(), self.url.clone()),
                ("KINLINK__EMAIL__POLL_SECONDS".into(), "1".into()),
            ],
            ..crate::app::AppOptions::default()
        })
        .await
    }

    /// Waits up to 30 s for an invitation email to `address` and returns
    /// the link token in it, with the raw message and its body.
    pub async fn invitation_token(&self, address: &str) -> anyhow::Result<(String, String)> {
        self.link_token(address, "invitation#").await
    }

    /// Waits up to 30 s for an email to `address` whose link has `marker`
    /// before its token, such as `community/apply#`, and returns the token
    /// with the raw message and its body.
    pub async fn link_token(
        &self,
        address: &str,
        marker: &str,
    ) -> anyhow::Result<(String, String)> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            for message in self.messages()? {
                if message.envelope["rcpt_tos"][0] == address {
                    let body = message.body()?;
                    let Some(start) = body.find(marker).map(|at| at + marker.len()) else {
                        continue;
                    };
                    let token: String = body[start..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                        .collect();
                    return Ok((token, format!("{}\n{body}", message.raw)));
                }
            }
            if Instant::now() >= deadline {
                bail!("no email with a {marker} link to {address}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Returns the catcher the test command started.
    pub fn shared() -> anyhow::Result<Catcher> {
        let url = std::env::var("KINLINK_TEST_SMTP_URL")
            .context("KINLINK_TEST_SMTP_URL is not set: run the tests with scripts/test")?;
        let dir = std::env::var("KINLINK_TEST_SMTP_DIR").context("KINLINK_TEST_SMTP_DIR")?;
        Ok(Catcher {
            url,
            dir: dir.into(),
            child: None,
            _own_dir: None,
        })
    }

    /// Starts a private catcher that closes connections idle for
    /// `idle_timeout`.
    pub fn start(idle_timeout: Duration) -> anyhow::Result<Catcher> {
        Self::start_with(idle_timeout, 0)
    }

    /// Starts a private catcher that stores each of the first `drops`
    /// messages and then drops the connection before replying, so the
    /// sender cannot tell whether the message arrived.
    pub fn start_dropping(drops: u32) -> anyhow::Result<Catcher> {
        Self::start_with(Duration::from_secs(300), drops)
    }

    fn start_with(idle_timeout: Duration, drops: u32) -> anyhow::Result<Catcher> {
        let own = tempfile::tempdir()?;
        let dir = own.path().join("messages");
        let ready = own.path().join("ready");
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/lib/smtp_catcher.py");
        let child = Command::new("/usr/bin/python3")
            .arg(script)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .arg("--dir")
            .arg(&dir)
            .arg("--ready-file")
            .arg(&ready)
            .args(["--idle-timeout", &idle_timeout.as_secs_f64().to_string()])
            .args(["--drop-after-data", &drops.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting scripts/lib/smtp_catcher.py")?;
        let catcher = Catcher {
            url: format!("smtp://127.0.0.1:{port}"),
            dir,
            child: Some(child),
            _own_dir: Some(own),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ready.exists() {
            if Instant::now() > deadline {
                bail!("the SMTP catcher did not start on port {port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(catcher)
    }

    /// Returns every received message whose headers hold `message_id`.
    pub fn messages_with(&self, message_id: &str) -> anyhow::Result<Vec<Received>> {
        Ok(self
            .messages()?
            .into_iter()
            .filter(|message| {
                let header_end = message.raw.find("\r\n\r\n").unwrap_or(message.raw.len());
                message.raw[..header_end].contains(message_id)
            })
            .collect())
    }

    /// Returns every message received so far.
    pub fn messages(&self) -> anyhow::Result<Vec<Received>> {
        let mut found = Vec::new();
        if !self.dir.exists() {
            return Ok(found);
        }
        for entry in std::fs::read_dir(&self.dir)? {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "eml") {
                continue;
            }
            let raw = std::fs::read_to_string(&path)?;
            let envelope = std::fs::read_to_string(path.with_extension("json"))?;
            found.push(Received {
                raw,
                envelope: serde_json::from_str(&envelope)?,
            });
        }
        Ok(found)
    }

    /// Waits up to `timeout` for a message with `message_id`.
    pub async fn wait_for(&self, message_id: &str, timeout: Duration) -> anyhow::Result<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = self.messages_with(message_id)?.into_iter().next() {
                return Ok(found);
            }
            if Instant::now() > deadline {
                bail!("no email with Message-ID {message_id} within {timeout:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Catcher {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _already_gone = child.kill();
            let _status = child.wait();
        }
    }
}

impl Received {
    /// Returns the value of the first header called `name`, unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self
            .raw
            .split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .replace("\r\n ", " ");
        let prefix = format!("{}:", name.to_ascii_lowercase());
        head.lines()
            .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
            .map(|line| line[prefix.len()..].trim().to_owned())
    }

    /// Returns the body with its transfer encoding undone.
    pub fn body(&self) -> anyhow::Result<String> {
        let body = self
            .raw
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or_default();
        let encoding = self.header("Content-Transfer-Encoding").unwrap_or_default();
        match encoding.to_ascii_lowercase().as_str() {
            "quoted-printable" => Ok(decode_quoted_printable(body)?),
            "base64" => {
                let joined: String = body.split_whitespace().collect();
                let bytes = base64::engine::general_purpose::STANDARD.decode(joined)?;
                Ok(String::from_utf8(bytes)?)
            }
            _ => Ok(body.to_owned()),
        }
    }
}

fn decode_quoted_printable(body: &str) -> anyhow::Result<String> {
    let joined = body.replace("=\r\n", "");
    let mut bytes = Vec::with_capacity(joined.len());
    let mut rest = joined.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'=' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2])?;
            bytes.push(u8::from_str_radix(hex, 16).context("bad quoted-printable escape")?);
            rest = &tail[2..];
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    Ok(String::from_utf8(bytes)?)
}
