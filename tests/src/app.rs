//! Starting and stopping the real server binary.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::client::Client;
use crate::database::{Database, database_under_test};

/// How a test server is started.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// Seed the demo data.
    pub demo: bool,
    /// The database; `None` means a fresh one of the kind under test.
    pub database: Option<Database>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// `RUST_LOG` for the server.
    pub rust_log: String,
}

impl Default for AppOptions {
    fn default() -> Self {
        Self {
            demo: true,
            database: None,
            env: Vec::new(),
            rust_log: "info".to_owned(),
        }
    }
}

/// Returns the variable that gives several nodes of one test the same
/// profile data key, as a deployment must; a lone node generates its own.
pub fn shared_profile_key() -> (String, String) {
    (
        "KINLINK__KEYS__PROFILE_DATA_KEY".to_owned(),
        "a2lubGluayB0ZXN0IG5vZGVzIHNoYXJlIHRoaXMgayE=".to_owned(),
    )
}

/// A running server.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The database it uses.
    pub database: Database,
    /// Its data folder (SQLite file, credentials, logs).
    pub data_dir: tempfile::TempDir,
    /// The demo credentials file's contents, when seeded.
    pub credentials: Value,
    options: AppOptions,
    child: Child,
    /// The last TOTP time step used per demo user: the server accepts each
    /// step once.
    totp_steps: std::sync::Mutex<std::collections::HashMap<String, u64>>,
}

/// The file, in the data folder, where the server writes its address once
/// it accepts connections.
const READY_FILE: &str = "ready.json";

/// Starts the binary on a data folder and database, with its log appended
/// to `server.log` there. The ready file of an earlier run is removed
/// first, so the caller waits for this run's.
fn start(options: &AppOptions, database: &Database, data_dir: &Path) -> anyhow::Result<Child> {
    let ready = data_dir.join(READY_FILE);
    if let Err(error) = std::fs::remove_file(&ready)
        && error.kind() != std::io::ErrorKind::NotFound
    {
        return Err(error.into());
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.join("server.log"))?;

    let mut command = Command::new(binary());
    command.arg("serve").arg("--ready-file").arg(&ready);
    if options.demo {
        command.arg("--demo");
    }
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", &options.rust_log)
        .env("KINLINK__DATA_DIR", data_dir)
        .env("KINLINK__SERVER__LISTEN", "127.0.0.1:0")
        .env("KINLINK__DATABASE__URL", database.url(data_dir))
        .envs(options.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    command
        .spawn()
        .with_context(|| format!("starting {}", binary().display()))
}

/// Returns the path of the server binary.
pub fn binary() -> PathBuf {
    if let Ok(path) = std::env::var("KINLINK_BIN") {
        return PathBuf::from(path);
    }
    // target/debug/deps/<test> → target/debug/kinlink
    let mut path = std::env::current_exe().unwrap_or_default();
    path.pop();
    if path.ends_with("deps") {
        path.pop();
    }
    path.join("kinlink")
}

impl TestApp {
    /// Starts a server with the demo data on a fresh database.
    pub async fn spawn() -> anyhow::Result<Self> {
        Self::spawn_with(AppOptions::default()).await
    }

    /// Starts a server with the given options.
    pub async fn spawn_with(options: AppOptions) -> anyhow::Result<Self> {
        let database = match &options.database {
            Some(database) => database.clone(),
            None => database_under_test().await?,
        };
        let data_dir = tempfile::Builder::new().prefix("kinlink-test-").tempdir()?;
        let child = start(&options, &database, data_dir.path())?;
        let mut app = Self {
            address: String::new(),
            database,
            data_dir,
            credentials: Value::Null,
            options,
            child,
            totp_steps: Default::default(),
        };
        app.become_ready().await?;
        Ok(app)
    }

    /// Starts the binary again on the same data folder and database, after
    /// it has exited. It listens on a new port, so `address` changes.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.child.try_wait()?.is_some(),
            "the server is still running"
        );
        self.child = start(&self.options, &self.database, self.data_dir.path())?;
        self.become_ready().await
    }

    /// Waits for the ready file and reads the address and credentials.
    async fn become_ready(&mut self) -> anyhow::Result<()> {
        let ready = self.data_dir.path().join(READY_FILE);
        let ready_json = self.wait_for_ready(&ready).await?;
        self.address = ready_json["address"]
            .as_str()
            .context("ready file has no address")?
            .to_owned();
        if let Some(path) = ready_json["demo_credentials"].as_str() {
            self.credentials = serde_json::from_slice(&std::fs::read(path)?)?;
        }
        Ok(())
    }

    async fn wait_for_ready(&mut self, ready: &std::path::Path) -> anyhow::Result<Value> {
        for _ in 0..600 {
            if let Ok(text) = std::fs::read_to_string(ready)
                && let Ok(value) = serde_json::from_str(&text)
            {
                return Ok(value);
            }
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "server exited with {status} before it was ready:\n{}",
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("server not ready after 60 s:\n{}", self.logs())
    }

    /// Returns everything the server has logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.data_dir.path().join("server.log")).unwrap_or_default()
    }

    /// Returns a demo user's credentials entry.
    pub fn demo_user(&self, key: &str) -> anyhow::Result<&Value> {
        self.credentials["users"]
            .as_array()
            .and_then(|users| users.iter().find(|user| user["key"] == key))
            .with_context(|| format!("no demo user {key}"))
    }

    /// Signs a demo user in, with their second factor when they have one.
    pub async fn sign_in(&self, key: &str) -> anyhow::Result<Client> {
        self.sign_in_at(&self.address, key).await
    }

    /// Signs a demo user of this server's data in at another node's address.
    pub async fn sign_in_at(&self, address: &str, key: &str) -> anyhow::Result<Client> {
        let user = self.demo_user(key)?;
        let client = Client::new(address)?;
        let email = user["email"].as_str().context("email")?;
        let password = user["password"].as_str().context("password")?;
        let totp = match user["totp_secret"].as_str() {
            Some(secret) => Some(self.next_totp_code(key, secret).await),
            None => None,
        };
        let mut body = serde_json::json!({ "email": email, "password": password });
        if let Some(code) = totp {
            body["totp_code"] = Value::String(code);
        }
        let response = client.post("/api/v1/auth/sign-in", &body).await?;
        anyhow::ensure!(
            response.status().is_success(),
            "sign-in of {key} failed: {}",
            response.text().await?
        );
        Ok(client.with_session_from_jar())
    }

    /// Returns a code for a time step not used before by this user, waiting
    /// for the clock when the next accepted step is still ahead.
    async fn next_totp_code(&self, key: &str, secret: &str) -> String {
        loop {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs());
            let current = now / 30;
            let step = {
                let mut steps = self
                    .totp_steps
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let step = steps.get(key).map_or(current, |last| current.max(last + 1));
                if step <= current + 1 {
                    steps.insert(key.to_owned(), step);
                    Some(step)
                } else {
                    None
                }
            };
            match step {
                Some(step) => {
                    return kinlink_core::crypto::totp::code_from_base32(secret, step * 30)
                        .unwrap_or_default();
                }
                None => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
            }
        }
    }

    /// Returns a `kinlink` command on the server's data folder and
    /// database, with nothing else from the test's environment but `PATH`.
    pub fn command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(binary());
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("KINLINK__DATA_DIR", self.data_dir.path())
            .env(
                "KINLINK__DATABASE__URL",
                self.database.url(self.data_dir.path()),
            );
        command
    }

    /// Opens a store connection to the server's database.
    pub async fn store(&self) -> anyhow::Result<kinlink_store::Store> {
        Ok(kinlink_store::Store::connect(&self.database.url(self.data_dir.path()), 2).await?)
    }

    /// Returns the server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Sends the server a signal by name, such as `TERM` or `KILL`, and
    /// returns at once.
    pub fn signal(&self, name: &str) -> anyhow::Result<()> {
        let pid = self.child.id().context("the server has exited")?;
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(pid.to_string())
            .status()?;
        anyhow::ensure!(status.success(), "kill -{name} {pid} failed: {status}");
        Ok(())
    }

    /// Waits up to `within` for the server to exit, and returns how it
    /// exited.
    pub async fn exited(&mut self, within: Duration) -> anyhow::Result<std::process::ExitStatus> {
        tokio::time::timeout(within, self.child.wait())
            .await
            .with_context(|| format!("the server still runs after {within:?}"))?
            .context("waiting for the server")
    }

    /// Stops the server with SIGTERM and waits for it.
    pub async fn stop(mut self) -> anyhow::Result<String> {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
        let _ = self.child.kill().await;
        Ok(self.logs())
    }
}

impl TestApp {
    /// Reads one metric's value from `/metrics`.
    pub async fn metric(&self, name: &str) -> anyhow::Result<f64> {
        let text = reqwest::get(format!("{}/metrics", self.address))
            .await?
            .text()
            .await?;
        text.lines()
            .find_map(|line| {
                line.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(' '))
            })
            .and_then(|value| value.trim().parse().ok())
            .with_context(|| format!("metric {name} not found"))
    }

    /// Returns the server's resident memory in KiB.
    pub fn resident_kib(&self) -> anyhow::Result<u64> {
        let pid = self.pid().context("server has exited")?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmRSS line")
    }

    /// Returns the CPU time the server has used, in clock ticks.
    pub fn cpu_ticks(&self) -> anyhow::Result<u64> {
        let pid = self.pid().context("server has exited")?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let user: u64 = fields.get(11).context("utime")?.parse()?;
        let system: u64 = fields.get(12).context("stime")?.parse()?;
        Ok(user + system)
    }
}
