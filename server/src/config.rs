//! Configuration: built-in defaults, then an optional TOML file, then
//! `KINLINK__SECTION__KEY` environment variables, into one typed struct
//! that rejects unknown keys.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use toml::Value;

/// Prefix of every configuration environment variable.
pub const ENV_PREFIX: &str = "KINLINK__";
/// The maximum length of a call, in minutes.
const MAX_CALL_MINUTES: u32 = 24 * 60;

/// The whole configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Folder for the SQLite file, the email outbox and generated keys.
    pub data_dir: PathBuf,
    /// Folder holding the browser client.
    pub web_dir: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub email: EmailConfig,
    pub reminders: RemindersConfig,
    pub retention: RetentionConfig,
    pub session: SessionConfig,
    pub websocket: WebsocketConfig,
    pub conversation: ConversationConfig,
    pub media: MediaConfig,
    pub keys: KeysConfig,
    pub log: LogConfig,
    pub calls: CallsConfig,
    pub family_finding: FamilyFindingConfig,
    pub community: CommunityConfig,
    pub backup: BackupConfig,
}

/// Backups made by `kinlink backup create`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BackupConfig {
    /// The folder backups are written to. Empty means `backups` in the data
    /// folder.
    pub dir: Option<PathBuf>,
    /// Base64 256-bit key that seals every backup. Required to make or
    /// restore one; keep it apart from the backups.
    pub key: String,
    /// Backups older than this many days are removed when a new one is
    /// made.
    pub keep_days: u32,
}

impl Default for BackupConfig {
    fn default() -> Self {
        BackupConfig {
            dir: None,
            key: String::new(),
            keep_days: 35,
        }
    }
}

impl BackupConfig {
    /// Returns the folder of the backups of a node whose data folder is
    /// `data_dir`.
    pub fn folder(&self, data_dir: &std::path::Path) -> PathBuf {
        match &self.dir {
            Some(dir) if !dir.as_os_str().is_empty() => dir.clone(),
            _ => data_dir.join("backups"),
        }
    }
}

/// The community support network.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommunityConfig {
    /// The largest image accepted into a post or as a profile picture, in
    /// bytes; at most `media.max_file_bytes`.
    pub max_image_bytes: u64,
}

impl Default for CommunityConfig {
    fn default() -> Self {
        Self {
            max_image_bytes: 25 * 1024 * 1024,
        }
    }
}

/// Family finding.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FamilyFindingConfig {
    /// Most expressions of interest one family case may have open (open,
    /// progressing or linked) at a time.
    pub max_open_interests: u64,
    /// The largest photo accepted into a profile, in bytes.
    pub max_photo_bytes: u64,
    /// The largest video accepted into a child's profile, in bytes; at
    /// most `media.max_file_bytes`.
    pub max_video_bytes: u64,
}

impl Default for FamilyFindingConfig {
    fn default() -> Self {
        Self {
            max_open_interests: 5,
            max_photo_bytes: 25 * 1024 * 1024,
            max_video_bytes: 500 * 1024 * 1024,
        }
    }
}

/// Live calls and the SFU that carries their media.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CallsConfig {
    /// The address the SFU's UDP sockets bind.
    pub bind_address: std::net::IpAddr,
    /// The address announced to browsers instead, behind a one-to-one NAT;
    /// empty announces `bind_address`.
    pub public_address: String,
    /// The UDP ports the SFU binds, one per media connection.
    pub port_min: u16,
    pub port_max: u16,
    /// TURN (and STUN) URLs handed to browsers.
    pub ice_servers: Vec<String>,
    /// The secret shared with the TURN server, from which each call's
    /// TURN credentials are made; empty hands out none.
    pub turn_secret: String,
    /// How long a call may last before it ends by itself.
    pub max_minutes: u32,
    /// How long before that end everyone is warned.
    pub warning_minutes: u32,
    /// How long a participant whose connection dropped stays in the call.
    pub rejoin_seconds: u32,
}

impl Default for CallsConfig {
    fn default() -> Self {
        Self {
            bind_address: std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            public_address: String::new(),
            port_min: 50_000,
            port_max: 50_999,
            ice_servers: Vec::new(),
            turn_secret: String::new(),
            max_minutes: 90,
            warning_minutes: 5,
            rejoin_seconds: 30,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on; port 0 picks a free port.
    pub listen: String,
    /// The origin browsers use, such as `https://kinlink.example.org`.
    /// Empty means `http://` plus the listening address.
    pub public_origin: String,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Worker threads; 0 means one per core.
    pub workers: usize,
    /// Seconds that sent data may stay unacknowledged, or unsent because the
    /// client's receive window is full, before the kernel drops the
    /// connection (`TCP_USER_TIMEOUT`). This frees the socket of a client
    /// that stopped reading.
    pub write_timeout_secs: u64,
    /// This node's identity among the nodes that share a database, stored
    /// with each live call it runs. Empty means the id kept in `node-id`
    /// in the data folder, made on the first start.
    pub node_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    /// The largest file accepted, in bytes.
    pub max_file_bytes: u64,
    /// Bytes of unfinished uploads one user may have at once.
    pub unfinished_quota_bytes: u64,
    /// The largest still picture accepted, in pixels (width × height).
    pub max_image_pixels: u64,
    /// The largest video picture accepted, in pixels.
    pub max_video_pixels: u64,
    /// Hours an unfinished upload is kept before it is deleted.
    pub upload_expiry_hours: u64,
    /// Processing jobs (transcodes) that run at once.
    pub workers: usize,
    /// Jobs that may wait for a worker. When the queue is full, a finished
    /// upload gets `503 server.busy`.
    pub queue: usize,
    /// Threads each job's decoders and encoders use.
    pub threads_per_job: usize,
    /// The nice value of the workers (0 to 19): higher leaves more CPU to
    /// conversations while a transcode runs.
    pub worker_nice: i32,
    /// Whether media jobs run under `SCHED_IDLE`, on CPU time nothing else
    /// wants. Without it they compete at `worker_nice`.
    pub worker_idle_priority: bool,
    /// Heap and other private writable memory one media job may use, in
    /// MiB. A file that needs more fails with `media.over_memory_limit`.
    pub job_memory_mib: u64,
    /// Seconds after which a media job still running is stopped.
    pub job_time_limit_seconds: u64,
    /// Maximum lines (the shorter side) of a transcoded video.
    pub max_video_lines: u32,
    /// Maximum minutes of sound or video in one file.
    pub max_duration_minutes: u64,
    /// The libx264 preset of transcoded video.
    pub x264_preset: String,
    /// The private folder where plaintext lives while a file is processed.
    /// Empty means `work` in the data folder. It is emptied at every start.
    pub work_dir: String,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            max_file_bytes: 2 * 1024 * 1024 * 1024,
            unfinished_quota_bytes: 4 * 1024 * 1024 * 1024,
            // A 48-megapixel phone photo is about 8064 × 6048.
            max_image_pixels: 64_000_000,
            // 4096 × 4096, above 4K (3840 × 2160 and 4096 × 2160).
            max_video_pixels: 16_777_216,
            upload_expiry_hours: 24,
            workers: 1,
            queue: 16,
            threads_per_job: 2,
            worker_nice: 10,
            worker_idle_priority: true,
            job_memory_mib: 2048,
            job_time_limit_seconds: 4 * 60 * 60,
            max_video_lines: 720,
            max_duration_minutes: 180,
            x264_preset: "veryfast".to_owned(),
            work_dir: String::new(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `postgres://…` or `sqlite://…`; empty means `kinlink.db` in the
    /// data folder.
    pub url: String,
    pub max_connections: u32,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// `redis://…`; empty means the in-process broker (one node only).
    pub url: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailConfig {
    /// `smtp://host:port` (add `?tls=required` for STARTTLS, or use
    /// `smtps://` for TLS from the start); empty means `.eml` files in the
    /// data folder's `outbox` folder.
    pub smtp_url: String,
    /// The sender, as `Name <address>` or a bare address.
    pub from: String,
    /// Open SMTP connections kept for reuse, at most.
    pub max_connections: u32,
    /// How often the outbox is checked for email that is due.
    pub poll_seconds: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemindersConfig {
    /// The local time in Europe/London, `HH:MM`, at which letterbox
    /// reminders go out.
    pub local_time: String,
    /// How often each node looks for reminders that are due.
    pub poll_seconds: u64,
}

impl RemindersConfig {
    /// Returns the local time of day, or an error naming the setting.
    pub fn time_of_day(&self) -> anyhow::Result<chrono::NaiveTime> {
        local_time_of_day(&self.local_time, "reminders.local_time", "09:00")
    }
}

/// Parses a local time of day set as `HH:MM`, or returns an error naming
/// `setting` with `example`. An environment value such as `09:00` reaches
/// here as `09:00:00`, because environment values are read as TOML, where
/// it is a time.
fn local_time_of_day(
    value: &str,
    setting: &str,
    example: &str,
) -> anyhow::Result<chrono::NaiveTime> {
    use chrono::Timelike;
    let text = value.trim();
    chrono::NaiveTime::parse_from_str(text, "%H:%M")
        .ok()
        .or_else(|| {
            chrono::NaiveTime::parse_from_str(text, "%H:%M:%S")
                .ok()
                .filter(|time| time.second() == 0)
        })
        .ok_or_else(|| {
            anyhow::anyhow!("invalid {setting} {value:?}: expected HH:MM, such as {example}")
        })
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// The local time in Europe/London, `HH:MM`, of the daily retention
    /// sweep.
    pub local_time: String,
    /// How often each node checks whether the day's sweep is due.
    pub poll_seconds: u64,
    /// The maximum number of rows of one kind a sweep deletes in one
    /// statement.
    pub batch_size: u64,
    /// The deletion log, which must outlive the database: the log of a
    /// node's erasures that restoring a backup replays. Empty means
    /// `deletion-log.jsonl` in the data folder.
    pub deletion_log: Option<PathBuf>,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            local_time: "01:30".to_owned(),
            poll_seconds: 60,
            batch_size: 1000,
            deletion_log: None,
        }
    }
}

impl RetentionConfig {
    /// Returns the deletion log of a node whose data folder is `data_dir`.
    pub fn deletion_log(
        &self,
        data_dir: &std::path::Path,
    ) -> kinlink_store::deletion_log::DeletionLog {
        let path = match &self.deletion_log {
            Some(path) if !path.as_os_str().is_empty() => path.clone(),
            _ => data_dir.join("deletion-log.jsonl"),
        };
        kinlink_store::deletion_log::DeletionLog::new(path)
    }

    /// Returns the local time of day of the sweep, or an error naming the
    /// setting.
    pub fn time_of_day(&self) -> anyhow::Result<chrono::NaiveTime> {
        local_time_of_day(&self.local_time, "retention.local_time", "01:30")
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    pub idle_timeout_minutes: i64,
    pub absolute_timeout_hours: i64,
    /// Failed sign-ins allowed per account, and per address, per window.
    pub max_failures: u32,
    pub failure_window_minutes: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebsocketConfig {
    pub send_queue_frames: usize,
    pub send_queue_bytes: usize,
    pub max_frame_bytes: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConversationConfig {
    pub max_message_bytes: usize,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeysConfig {
    /// Base64 X25519 public key of the platform recovery key pair. Empty
    /// on a development machine means one is generated in the data folder.
    pub recovery_public_key: String,
    /// Base64 256-bit key that seals family-finding profiles at rest. Empty
    /// on a development machine means one is generated in the data folder;
    /// every node of a deployment needs the same key.
    pub profile_data_key: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `json` or `pretty`.
    pub format: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            web_dir: PathBuf::from("web"),
            server: ServerConfig::default(),
            database: DatabaseConfig::default(),
            redis: RedisConfig::default(),
            email: EmailConfig::default(),
            reminders: RemindersConfig::default(),
            retention: RetentionConfig::default(),
            session: SessionConfig::default(),
            websocket: WebsocketConfig::default(),
            conversation: ConversationConfig::default(),
            media: MediaConfig::default(),
            keys: KeysConfig::default(),
            log: LogConfig::default(),
            calls: CallsConfig::default(),
            family_finding: FamilyFindingConfig::default(),
            community: CommunityConfig::default(),
            backup: BackupConfig::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            public_origin: String::new(),
            trusted_proxies: Vec::new(),
            workers: 0,
            write_timeout_secs: 30,
            node_id: String::new(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: String::new(),
            max_connections: 10,
        }
    }
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            smtp_url: String::new(),
            from: "KinLink <no-reply@localhost>".to_owned(),
            max_connections: 4,
            poll_seconds: 5,
        }
    }
}

impl Default for RemindersConfig {
    fn default() -> Self {
        Self {
            local_time: "09:00".to_owned(),
            poll_seconds: 60,
        }
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            idle_timeout_minutes: 30,
            absolute_timeout_hours: 12,
            max_failures: 5,
            failure_window_minutes: 15,
        }
    }
}

impl Default for WebsocketConfig {
    fn default() -> Self {
        Self {
            send_queue_frames: 256,
            send_queue_bytes: 1024 * 1024,
            max_frame_bytes: 64 * 1024,
        }
    }
}

impl Default for ConversationConfig {
    fn default() -> Self {
        Self {
            max_message_bytes: 16 * 1024,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: "json".to_owned(),
        }
    }
}

impl Config {
    /// Loads the configuration from defaults, an optional file and the
    /// given environment variables.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let mut tree = Value::try_from(Config::default()).context("encoding the defaults")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading configuration file {}", path.display()))?;
            let overlay: Value = toml::from_str(&text)
                .with_context(|| format!("parsing configuration file {}", path.display()))?;
            merge(&mut tree, overlay);
        }
        for (name, value) in env {
            let Some(path) = name.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let keys: Vec<String> = path.split("__").map(str::to_lowercase).collect();
            set_path(&mut tree, &keys, &value)
                .with_context(|| format!("applying environment variable {name}"))?;
        }
        let config: Config = tree.try_into().context("invalid configuration")?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.server.listen.parse::<SocketAddr>().with_context(|| {
            format!(
                "invalid server.listen {:?}: expected IP:port",
                self.server.listen
            )
        })?;
        if !matches!(self.log.format.as_str(), "json" | "pretty") {
            anyhow::bail!(
                "invalid log.format {:?}: expected \"json\" or \"pretty\"",
                self.log.format
            );
        }
        if self.websocket.send_queue_frames == 0 || self.websocket.send_queue_bytes == 0 {
            anyhow::bail!("invalid websocket send queue: both limits must be above 0");
        }
        if self.media.workers == 0 || self.media.threads_per_job == 0 {
            anyhow::bail!(
                "invalid media.workers or media.threads_per_job: both must be at least 1"
            );
        }
        if !(0..=19).contains(&self.media.worker_nice) {
            anyhow::bail!(
                "invalid media.worker_nice {}: expected 0 to 19",
                self.media.worker_nice
            );
        }
        if self.email.poll_seconds == 0 || self.email.max_connections == 0 {
            anyhow::bail!(
                "invalid email.poll_seconds or email.max_connections: both must be at least 1"
            );
        }
        self.reminders.time_of_day()?;
        if self.reminders.poll_seconds == 0 {
            anyhow::bail!("invalid reminders.poll_seconds 0: expected at least 1");
        }
        self.retention.time_of_day()?;
        if self.retention.poll_seconds == 0 || self.retention.batch_size == 0 {
            anyhow::bail!(
                "invalid retention.poll_seconds or retention.batch_size: both must be at least 1"
            );
        }
        if self.media.job_memory_mib < 128 {
            anyhow::bail!(
                "invalid media.job_memory_mib {}: expected at least 128",
                self.media.job_memory_mib
            );
        }
        if self.media.job_time_limit_seconds == 0 {
            anyhow::bail!("invalid media.job_time_limit_seconds 0: expected at least 1");
        }
        let calls = &self.calls;
        if calls.port_max < calls.port_min {
            anyhow::bail!(
                "invalid calls.port_max {}: below calls.port_min {}",
                calls.port_max,
                calls.port_min
            );
        }
        if calls.max_minutes == 0 || calls.warning_minutes >= calls.max_minutes {
            anyhow::bail!(
                "invalid calls.warning_minutes {}: must be below calls.max_minutes {}, which must be at least 1",
                calls.warning_minutes,
                calls.max_minutes
            );
        }
        if !calls.public_address.is_empty()
            && calls.public_address.parse::<std::net::IpAddr>().is_err()
        {
            anyhow::bail!(
                "invalid calls.public_address {:?}: expected an IP address",
                calls.public_address
            );
        }
        for url in &calls.ice_servers {
            let scheme = url
                .split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            if !matches!(scheme.as_str(), "stun" | "stuns" | "turn" | "turns") || !url.contains(':')
            {
                anyhow::bail!(
                    "invalid calls.ice_servers entry {url:?}: expected a stun:, stuns:, turn: or turns: URL"
                );
            }
            if scheme.starts_with("turn") && calls.turn_secret.is_empty() {
                anyhow::bail!(
                    "calls.ice_servers lists the TURN server {url:?} but calls.turn_secret is empty: \
                     set the secret the TURN server shares, since browsers refuse a TURN server without credentials"
                );
            }
        }
        if self.family_finding.max_photo_bytes == 0 || self.family_finding.max_video_bytes == 0 {
            anyhow::bail!(
                "family_finding.max_photo_bytes and family_finding.max_video_bytes must be 1 or more"
            );
        }
        if self
            .family_finding
            .max_photo_bytes
            .max(self.family_finding.max_video_bytes)
            > self.media.max_file_bytes
        {
            anyhow::bail!(
                "family_finding.max_photo_bytes and family_finding.max_video_bytes must not exceed media.max_file_bytes"
            );
        }
        if self.community.max_image_bytes == 0
            || self.community.max_image_bytes > self.media.max_file_bytes
        {
            anyhow::bail!(
                "community.max_image_bytes must be 1 or more and at most media.max_file_bytes"
            );
        }
        if self.family_finding.max_open_interests == 0 {
            anyhow::bail!("family_finding.max_open_interests must be 1 or more");
        }
        if calls.max_minutes > MAX_CALL_MINUTES {
            anyhow::bail!(
                "invalid calls.max_minutes {}: at most {MAX_CALL_MINUTES} (a day)",
                calls.max_minutes
            );
        }
        if !self.server.node_id.is_empty() {
            crate::node::check_id(&self.server.node_id).context("invalid server.node_id")?;
        }
        if self.media.max_video_lines < 144 || self.media.max_video_lines % 2 == 1 {
            anyhow::bail!(
                "invalid media.max_video_lines {}: expected an even number of at least 144",
                self.media.max_video_lines
            );
        }
        Ok(())
    }

    /// Returns the private working folder of media processing.
    pub fn media_work_dir(&self) -> std::path::PathBuf {
        if self.media.work_dir.is_empty() {
            self.data_dir.join("work")
        } else {
            std::path::PathBuf::from(&self.media.work_dir)
        }
    }

    /// Returns the database URL, defaulting to a SQLite file in the data
    /// folder.
    pub fn database_url(&self) -> String {
        if self.database.url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("kinlink.db").display()
            )
        } else {
            self.database.url.clone()
        }
    }

    /// Returns the configuration as text with every secret masked, for the
    /// start-up log.
    pub fn masked(&self) -> String {
        let mut copy = self.clone();
        copy.database.url = mask_url(&copy.database.url);
        copy.redis.url = mask_url(&copy.redis.url);
        copy.email.smtp_url = mask_url(&copy.email.smtp_url);
        if !copy.calls.turn_secret.is_empty() {
            copy.calls.turn_secret = "***".to_owned();
        }
        if !copy.keys.profile_data_key.is_empty() {
            copy.keys.profile_data_key = "***".to_owned();
        }
        if !copy.backup.key.is_empty() {
            copy.backup.key = "***".to_owned();
        }
        serde_json::to_string(&copy).unwrap_or_default()
    }
}

/// Replaces the password in `scheme://user:password@host` with `***`.
pub fn mask_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.rsplit_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// Reads an environment value as a TOML literal when it is one (numbers,
/// booleans, arrays), otherwise as a string. [`set_path`] takes the value
/// of a string setting as written and splits a comma-separated list.
fn parse_env_value(raw: &str) -> Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut table) => table
            .remove("v")
            .unwrap_or_else(|| Value::String(raw.to_owned())),
        Err(_not_a_literal) => Value::String(raw.to_owned()),
    }
}

fn set_path(tree: &mut Value, keys: &[String], raw: &str) -> anyhow::Result<()> {
    let Some((last, parents)) = keys.split_last() else {
        anyhow::bail!("empty key")
    };
    let mut node = tree;
    for key in parents {
        node = node
            .as_table_mut()
            .and_then(|table| table.get_mut(key))
            .with_context(|| format!("unknown configuration section {key:?}"))?;
    }
    let table = node.as_table_mut().context("not a configuration section")?;
    let existing = table
        .get(last)
        .with_context(|| format!("unknown configuration key {last:?}"))?;
    let value = match (existing, parse_env_value(raw)) {
        // A string setting, such as a secret, keeps exactly what was
        // written: `0x1F` stays `0x1F`, and nothing is read as a number.
        (Value::String(_), _) => Value::String(raw.to_owned()),
        (Value::Array(_), Value::String(text)) => Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ),
        (_, value) => value,
    };
    table.insert(last.clone(), value);
    Ok(())
}

fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Table(base), Value::Table(overlay)) => {
            for (key, value) in overlay {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, overlay) => *base = overlay,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_listen_on_loopback() {
        let config = Config::load(None, Vec::new()).unwrap();
        assert_eq!(config.server.listen, "127.0.0.1:8080");
        assert!(config.database_url().starts_with("sqlite://"));
        assert!(config.redis.url.is_empty());
    }

    #[test]
    fn ice_servers_are_checked() {
        let turn = (
            "KINLINK__CALLS__ICE_SERVERS",
            "stun:stun.example.org,TURN:turn.example.org",
        );
        let error = Config::load(None, env(&[turn])).unwrap_err();
        assert!(
            format!("{error:#}").contains("calls.turn_secret"),
            "{error:#}"
        );
        let secret = ("KINLINK__CALLS__TURN_SECRET", "shared");
        assert!(Config::load(None, env(&[turn, secret])).is_ok());
        let odd = ("KINLINK__CALLS__ICE_SERVERS", "https://turn.example.org");
        let error = Config::load(None, env(&[odd])).unwrap_err();
        assert!(
            format!("{error:#}").contains("calls.ice_servers"),
            "{error:#}"
        );
        let long = ("KINLINK__CALLS__MAX_MINUTES", "1441");
        let error = Config::load(None, env(&[long])).unwrap_err();
        assert!(
            format!("{error:#}").contains("calls.max_minutes"),
            "{error:#}"
        );
    }

    #[test]
    fn string_settings_keep_what_was_written() {
        for written in [
            "0x1F",
            "123.456",
            "true",
            "\"quoted\"",
            "1_000",
            "+42",
            "inf",
        ] {
            let config =
                Config::load(None, env(&[("KINLINK__CALLS__TURN_SECRET", written)])).unwrap();
            assert_eq!(config.calls.turn_secret, written);
        }
    }

    #[test]
    fn environment_overrides() {
        let config = Config::load(
            None,
            env(&[
                ("KINLINK__SERVER__LISTEN", "127.0.0.1:0"),
                ("KINLINK__WEBSOCKET__SEND_QUEUE_FRAMES", "8"),
                ("KINLINK__SERVER__TRUSTED_PROXIES", "10.0.0.1, 10.0.0.2"),
                ("KINLINK__DATA_DIR", "/tmp/x"),
                ("OTHER", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(config.server.listen, "127.0.0.1:0");
        assert_eq!(config.websocket.send_queue_frames, 8);
        assert_eq!(config.server.trusted_proxies.len(), 2);
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn unknown_key_is_rejected() {
        let error = Config::load(None, env(&[("KINLINK__SERVER__LISTNE", "x")])).unwrap_err();
        assert!(format!("{error:#}").contains("listne"), "{error:#}");
    }

    #[test]
    fn unknown_key_in_file_is_rejected() {
        let dir = std::env::temp_dir().join(format!("kinlink-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kinlink.toml");
        std::fs::write(
            &path,
            "[server]\nlisten = \"127.0.0.1:9\"\ncolour = \"red\"\n",
        )
        .unwrap();
        let error = Config::load(Some(&path), Vec::new()).unwrap_err();
        assert!(format!("{error:#}").contains("colour"), "{error:#}");
    }

    #[test]
    fn reminder_time_from_the_environment() {
        let config =
            Config::load(None, env(&[("KINLINK__REMINDERS__LOCAL_TIME", "07:30")])).unwrap();
        let time = config.reminders.time_of_day().unwrap();
        assert_eq!(time, chrono::NaiveTime::from_hms_opt(7, 30, 0).unwrap());
        for bad in ["24:00", "07:30:15", "0730", "soon"] {
            let error =
                Config::load(None, env(&[("KINLINK__REMINDERS__LOCAL_TIME", bad)])).unwrap_err();
            assert!(
                format!("{error:#}").contains("reminders.local_time"),
                "{bad}: {error:#}"
            );
        }
    }

    #[test]
    fn invalid_listen_names_value() {
        let error = Config::load(None, env(&[("KINLINK__SERVER__LISTEN", "nowhere")])).unwrap_err();
        assert!(format!("{error:#}").contains("nowhere"));
    }

    #[test]
    fn masks_passwords() {
        assert_eq!(
            mask_url("postgres://kin:secret@db:5432/k"),
            "postgres://kin:***@db:5432/k"
        );
        assert_eq!(mask_url("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
        let mut config = Config::default();
        config.database.url = "postgres://kin:hunter22@db/k".to_owned();
        config.calls.turn_secret = "turn-hunter33".to_owned();
        config.keys.profile_data_key = "cHJvZmlsZS1odW50ZXI0NA==".to_owned();
        let masked = config.masked();
        assert!(!masked.contains("hunter22"));
        assert!(!masked.contains("hunter33"));
        assert!(!masked.contains("cHJvZmlsZS1odW50ZXI0NA"));
    }
}
