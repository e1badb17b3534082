//! The KinLink server: `serve` runs the HTTP API, the WebSocket endpoint
//! and the browser client; `migrate` applies the schema and exits;
//! `audit-verify` checks the audit trail's hash chains.

mod access_export;
mod accounts;
mod audit_verify;
mod auth;
mod backup;
mod community;
mod config;
mod demo;
mod demo_cases;
mod error;
mod family_finding;
mod frame_guard;
mod http;
mod letterbox;
mod load_fixtures;
mod node;
mod processing;
mod profile_key;
mod recovery;
mod recovery_command;
mod routes;
mod state;
mod telemetry;
mod upload_expiry;
mod zip_stream;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use clap::{Parser, Subcommand};
use kinlink_actors::broker::Broker;
use kinlink_actors::calls::CallRegistry;
use kinlink_actors::conversation::ConversationRegistry;
use kinlink_actors::group_commit::GroupCommit;
use kinlink_actors::hub::Hub;
use kinlink_actors::mailer::{Letterhead, Mailer};
use kinlink_store::Store;
use tokio::signal::unix::{Signal, SignalKind, signal};
use tracing::{info, warn};

use crate::config::Config;
use crate::state::AppState;

/// How long a stopping node waits for the ends of its live calls to be
/// stored and sent to their participants.
const CALLS_STOP_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a stopping node lets HTTP requests still running finish.
const HTTP_STOP_TIMEOUT_SECONDS: u64 = 10;
/// How long a stopping node waits for its WebSockets to close once it has
/// asked them to.
const SOCKETS_CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Parser)]
#[command(
    name = "kinlink",
    about = "KinLink: letterbox contact, family finding and support"
)]
struct Cli {
    /// TOML configuration file; `KINLINK__…` variables override it.
    #[arg(long, env = "KINLINK_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Create demo organisations, people and conversations on an empty
        /// database.
        #[arg(long)]
        demo: bool,
        /// Write the listening address (and demo credentials path) as JSON
        /// to this file once the server accepts connections.
        #[arg(long)]
        ready_file: Option<PathBuf>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Run one media job for a server: the request arrives on standard
    /// input, progress and the outcome leave on standard output.
    #[command(name = "media-job", hide = true)]
    MediaJob,
    /// Queue the news email for every active user who opted in to
    /// marketing email; the running servers send it.
    QueueNews,
    /// Check the hash chains of the audit trail and print one line per
    /// chain. Exits with 0 when every chain is intact, 2 when one is broken
    /// and 1 when the check could not run.
    AuditVerify {
        /// Check only this organisation's chain. The nil UUID
        /// (00000000-0000-0000-0000-000000000000) selects the platform
        /// chain of events that belong to no organisation.
        #[arg(long, value_name = "UUID")]
        organisation: Option<uuid::Uuid>,
    },
    /// Key recovery for users who lost their password.
    #[command(subcommand)]
    Recovery(RecoveryCommand),
    /// The retention sweep.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Encrypted backups of the database and stored files.
    #[command(subcommand)]
    Backup(BackupCommand),
    /// Create load-test fixtures on an empty database: one organisation,
    /// USERS family members and CONVERSATIONS contact links that all of
    /// them belong to; write their credentials to an owner-only file.
    SeedLoad {
        #[arg(long, default_value_t = 10)]
        users: usize,
        #[arg(long, default_value_t = 100)]
        conversations: usize,
        /// Path of the credentials JSON file to write.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum RetentionCommand {
    /// Print what the sweep on a date would do, rule by rule, with counts
    /// and ids, without changing anything.
    Plan {
        /// The local date of the sweep in Europe/London, `YYYY-MM-DD`.
        #[arg(long, value_name = "DATE")]
        date: chrono::NaiveDate,
    },
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Print a new random backup key, for `backup.key`.
    Key,
    /// Make a backup in `backup.dir`, then remove the backups older than
    /// `backup.keep_days`.
    Create,
    /// Put a backup back and replay the deletion log since it was taken.
    /// Stop every node first.
    Restore {
        /// The backup file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
enum RecoveryCommand {
    /// Make the recovery key pair: write the private key to a new file and
    /// print the public key to pin in configuration.
    Keygen {
        /// The file to create for the private key; it must not exist.
        #[arg(long)]
        out: PathBuf,
    },
    /// Finish a recovery approved by two platform admins: seal the user's
    /// key for a one-time link, end their sessions and email them the link.
    SendLink {
        /// The recovery's id, from the admins' list.
        #[arg(long, value_name = "UUID")]
        request: uuid::Uuid,
        /// The recovery private key file made by `recovery keygen`.
        #[arg(long)]
        private_key: PathBuf,
    },
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    if matches!(cli.command, Command::MediaJob) {
        // Before configuration and logging: a job needs neither, and its
        // standard output carries its results.
        kinlink_media::worker::child_main()?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Recovery(RecoveryCommand::Keygen { out }) = &cli.command {
        // Needs no configuration, database or server.
        return recovery_command::keygen(out);
    }
    if let Command::Backup(BackupCommand::Key) = &cli.command {
        println!("{}", backup::new_key()?);
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::load(cli.config.as_deref(), std::env::vars())?;
    telemetry::init(&config.log.format);
    info!(config = %config.masked(), "configuration loaded");
    create_private_dir(&config.data_dir)?;

    let workers = if config.server.workers == 0 {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    } else {
        config.server.workers
    };
    actix_web::rt::System::new().block_on(async move {
        match cli.command {
            Command::Migrate => {
                let store = connect(&config).await?;
                info!("migrations applied");
                drop(store);
                Ok(ExitCode::SUCCESS)
            }
            Command::Serve { demo, ready_file } => {
                serve(config, workers, demo, ready_file).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::MediaJob => Ok(ExitCode::SUCCESS),
            Command::QueueNews => {
                let store = connect(&config).await?;
                let queued = store.queue_news(chrono::Utc::now()).await?;
                info!(queued, "news email queued");
                println!("Queued the news email for {queued} users who opted in.");
                Ok(ExitCode::SUCCESS)
            }
            Command::AuditVerify { organisation } => {
                let store = connect(&config).await?;
                audit_verify::run(&store, organisation).await
            }
            Command::Recovery(RecoveryCommand::Keygen { out }) => recovery_command::keygen(&out),
            Command::Retention(RetentionCommand::Plan { date }) => {
                let store = connect_unchanged(&config).await?;
                let at = kinlink_core::local_time::on_day(
                    kinlink_core::retention::SWEEP_ZONE,
                    date,
                    config.retention.time_of_day()?,
                );
                let plan = kinlink_actors::retention::plan(&store, at).await?;
                let mut lines = plan.lines();
                if let Some(swept) = store.sweep_of(date).await? {
                    lines.insert(
                        1,
                        format!(
                            "The sweep of {date} ran already, from {} on node {}: the lines below are what would be left to do.",
                            swept.started_at.format("%Y-%m-%dT%H:%M:%SZ"),
                            swept.node_id
                        ),
                    );
                }
                for line in lines {
                    println!("{line}");
                }
                Ok(ExitCode::SUCCESS)
            }
            Command::Backup(BackupCommand::Key) => Ok(ExitCode::SUCCESS),
            Command::Backup(BackupCommand::Create) => {
                let store = connect_unchanged(&config).await?;
                let (made, removed) = backup::create(&store, &config, chrono::Utc::now()).await?;
                println!("Backup written to {}", made.display());
                for old in removed {
                    println!("Removed the old backup {}", old.display());
                }
                Ok(ExitCode::SUCCESS)
            }
            Command::Backup(BackupCommand::Restore { file }) => {
                let restored = backup::restore(&config, &file).await?;
                println!(
                    "Restored the backup taken at {}: the database and {} stored files.",
                    restored.taken_at.format("%Y-%m-%dT%H:%M:%SZ"),
                    restored.media_files
                );
                match &restored.missing_log {
                    Some(path) => println!(
                        "Warning: there is no deletion log at {}, so nothing erased since the backup was replayed.",
                        path.display()
                    ),
                    None => println!(
                        "Replayed the deletion log: {} user records erased, {} marked for erasure, {} cases anonymised.",
                        restored.users_erased, restored.users_marked, restored.cases_anonymised
                    ),
                }
                Ok(ExitCode::SUCCESS)
            }
            Command::Recovery(RecoveryCommand::SendLink {
                request,
                private_key,
            }) => {
                let store = connect(&config).await?;
                recovery_command::send_link(&store, &config, request, &private_key).await
            }
            Command::SeedLoad {
                users,
                conversations,
                out,
            } => {
                let store = connect(&config).await?;
                let recovery_key =
                    recovery::load(&store, &config.keys.recovery_public_key, &config.data_dir)
                        .await?;
                load_fixtures::seed(&store, &recovery_key, users, conversations, &out).await?;
                println!("Load-test credentials: {}", out.display());
                Ok(ExitCode::SUCCESS)
            }
        }
    })
}

/// Makes the kernel drop a connection whose sent data stays unacknowledged,
/// or unsent behind the client's full receive window, for `timeout`.
/// Without this, a socket that the server has given up on stays open for as
/// long as the client keeps acknowledging zero-window probes.
fn set_write_timeout(connection: &dyn std::any::Any, timeout: Duration) {
    if let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>()
        && let Err(error) = socket2::SockRef::from(stream).set_tcp_user_timeout(Some(timeout))
    {
        warn!(error = %error, "setting TCP_USER_TIMEOUT failed");
    }
}

/// Creates the data folder readable by its owner only, because it holds the
/// database, generated keys and demo passwords. An existing folder keeps
/// the permissions its operator gave it.
fn create_private_dir(path: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if path.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("creating data folder {}", path.display()))
}

async fn connect(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url(), config.database.max_connections)
        .await
        .context("connecting to the database")?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// Connects to an existing database without changing it: no file is
/// created and no migration applied, so a command that only reads, such as
/// the retention plan, leaves the database as it found it.
async fn connect_unchanged(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url();
    if Store::sqlite_file_missing(&url) {
        let path = url.split('?').next().unwrap_or_default();
        anyhow::bail!(
            "no SQLite database at {path}: check KINLINK__DATA_DIR or KINLINK__DATABASE__URL"
        );
    }
    let store = Store::connect(&url, config.database.max_connections)
        .await
        .context("connecting to the database")?;
    let pending = store.pending_migrations().await?;
    if pending > 0 {
        anyhow::bail!(
            "the database lacks {pending} migrations of this build: start the server once to apply them, then run this again"
        );
    }
    Ok(store)
}

/// Starts sending the email outbox, over SMTP or into the outbox folder.
fn start_notifier(config: &Config, store: &Store, public_origin: &str) -> anyhow::Result<()> {
    let mailer = if config.email.smtp_url.is_empty() {
        let folder = config.data_dir.join("outbox");
        create_private_dir(&folder)?;
        Mailer::folder(&folder)
    } else {
        Mailer::smtp(&config.email.smtp_url, config.email.max_connections)
            .context("setting up email.smtp_url")?
    };
    let letterhead =
        Letterhead::new(&config.email.from, public_origin).context("reading email.from")?;
    let poll = Duration::from_secs(config.email.poll_seconds);
    kinlink_actors::notifier::start(store.clone(), mailer, letterhead, poll);
    Ok(())
}

async fn serve(
    config: Config,
    workers: usize,
    demo: bool,
    ready_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    // Held until the server stops, so that a restore cannot replace the
    // data under it.
    let _serving = backup::serving_lock(&config.data_dir)?;
    let store = connect(&config).await?;
    let recovery_key =
        recovery::load(&store, &config.keys.recovery_public_key, &config.data_dir).await?;
    let profile_key =
        profile_key::load(&store, &config.keys.profile_data_key, &config.data_dir).await?;

    let hub = Arc::new(Hub::default());
    let broker = if config.redis.url.is_empty() {
        Arc::new(Broker::in_process(hub))
    } else {
        Arc::new(
            Broker::with_redis(hub, &config.redis.url)
                .await
                .context("connecting to redis")?,
        )
    };
    broker.start_subscriber();
    let node_id = node::load(&config.server.node_id, &config.data_dir)?;
    let abandoned = kinlink_actors::calls::end_abandoned_calls(&store, &broker, &node_id)
        .await
        .context("ending the calls an earlier run left open")?;
    info!(node = %node_id, abandoned_calls = abandoned, "node identity loaded");

    let credentials = if demo {
        let path = demo::seed(&store, &recovery_key, &profile_key, &config.data_dir).await?;
        info!(path = %path.display(), "demo data ready; passwords are in the credentials file");
        let shown = std::fs::canonicalize(&path).unwrap_or_else(|_relative| path.clone());
        println!("Demo sign-in details: {}", shown.display());
        Some(path)
    } else {
        None
    };

    let listener = TcpListener::bind(&config.server.listen)
        .with_context(|| format!("listening on {}", config.server.listen))?;
    let address = listener.local_addr()?;
    let public_origin = if config.server.public_origin.is_empty() {
        format!("http://{address}")
    } else {
        config.server.public_origin.trim_end_matches('/').to_owned()
    };
    let blobs = kinlink_media::blob::LocalDisk::open(&config.data_dir.join("media"))
        .context("opening the media folder")?;
    let (processing, processing_reports) =
        processing::Processing::start(&config).context("starting media processing")?;
    let calls = start_calls(&config, &store, &broker, node_id.clone())?;
    let state = AppState {
        calls,
        blobs: Arc::new(blobs),
        conversations: ConversationRegistry::new(GroupCommit::start(
            store.clone(),
            Arc::clone(&broker),
        )),
        config: Arc::new(config),
        store,
        broker,
        public_origin: public_origin.clone(),
        recovery_public_key: recovery_key,
        profile_key: Arc::new(profile_key),
        dummy_salt: kinlink_core::crypto::random_bytes::<16>()?,
        password_hashing: Arc::new(tokio::sync::Semaphore::new(workers.max(1))),
        active_uploads: Arc::default(),
        processing: Arc::new(processing),
        check_cache: Arc::new(letterbox::check_cache::CheckCache::new()?),
    };

    start_notifier(&state.config, &state.store, &public_origin)?;
    kinlink_actors::reminders::ReminderScheduler::start(
        state.store.clone(),
        state.config.reminders.time_of_day()?,
        Duration::from_secs(state.config.reminders.poll_seconds),
    );
    kinlink_actors::retention::RetentionSupervisor::start(
        state.store.clone(),
        Arc::clone(&state.blobs),
        Some(Arc::clone(&state.broker)),
        Arc::new(kinlink_actors::retention::SystemClock),
        kinlink_actors::retention::SweepSettings {
            time: state.config.retention.time_of_day()?,
            node_id: node_id.clone(),
            batch_size: state.config.retention.batch_size,
            deletion_log: Some(state.config.retention.deletion_log(&state.config.data_dir)),
        },
        Duration::from_secs(state.config.retention.poll_seconds),
    );
    upload_expiry::start(state.clone());
    processing::supervise(state.clone(), processing_reports);
    let write_timeout = Duration::from_secs(state.config.server.write_timeout_secs.max(1));
    let calls = Arc::clone(&state.calls);
    let hub = Arc::clone(state.broker.hub());
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .wrap(from_fn(http::request_layer))
            .configure(routes::configure)
    })
    .on_connect(move |connection, _extensions| set_write_timeout(connection, write_timeout))
    .workers(workers)
    // The node handles SIGTERM and SIGINT itself, to end its calls first.
    .disable_signals()
    .shutdown_timeout(HTTP_STOP_TIMEOUT_SECONDS)
    .listen(listener)?
    .run();
    let signals = StopSignals::register()?;
    actix_web::rt::spawn(stop_on_signal(signals, server.handle(), calls, hub));

    info!(%address, origin = %public_origin, "listening");
    println!("KinLink is listening on {public_origin}");
    if let Some(path) = ready_file {
        let ready =
            serde_json::json!({ "address": public_origin, "demo_credentials": credentials });
        std::fs::write(&path, ready.to_string())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    server.await.context("running the server")?;
    info!("stopped");
    Ok(())
}

/// SIGTERM and SIGINT, each of which stops the node.
struct StopSignals {
    terminate: Signal,
    interrupt: Signal,
}

impl StopSignals {
    fn register() -> anyhow::Result<Self> {
        Ok(Self {
            terminate: signal(SignalKind::terminate()).context("handling SIGTERM")?,
            interrupt: signal(SignalKind::interrupt()).context("handling SIGINT")?,
        })
    }

    /// Waits for the next stop signal and returns its name.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

/// Stops the node on the first signal: it takes no new connections, ends
/// every live call with `server_restart` so participants hear why, closes
/// the WebSockets, and then stops the HTTP server gracefully. A second
/// signal stops it at once.
async fn stop_on_signal(
    mut signals: StopSignals,
    server: actix_web::dev::ServerHandle,
    calls: Arc<CallRegistry>,
    hub: Arc<Hub>,
) {
    let first = signals.next().await;
    info!(
        signal = first,
        "stopping: ending live calls and closing connections"
    );
    // A second signal stops the node at once, during either step.
    let graceful = async {
        wind_down(&server, &calls, &hub).await;
        server.stop(true).await;
    };
    tokio::select! {
        () = graceful => {}
        second = signals.next() => {
            warn!(signal = second, "second stop signal; stopping at once");
            server.stop(false).await;
        }
    }
}

/// Ends the live calls and closes the WebSockets, each within its bound.
async fn wind_down(server: &actix_web::dev::ServerHandle, calls: &CallRegistry, hub: &Hub) {
    server.pause().await;
    let ended = calls.stop_all(CALLS_STOP_TIMEOUT).await;
    info!(calls = ended, "live calls ended");

    hub.shut_down_all();
    let deadline = tokio::time::Instant::now() + SOCKETS_CLOSE_TIMEOUT;
    while hub.connection_count() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let open = hub.connection_count();
    if open > 0 {
        warn!(sockets = open, "some WebSockets did not close in time");
    }
}

/// Starts the SFU on its own threads and the registry of live calls.
fn start_calls(
    config: &Config,
    store: &kinlink_store::Store,
    broker: &Arc<kinlink_actors::broker::Broker>,
    node_id: String,
) -> anyhow::Result<Arc<CallRegistry>> {
    let settings = &config.calls;
    let (events, sfu_events) = tokio::sync::mpsc::unbounded_channel();
    let sfu = kinlink_media::sfu::Sfu::start(
        kinlink_media::sfu::SfuConfig {
            bind_address: settings.bind_address,
            public_address: settings.public_address.parse().ok(),
            port_min: settings.port_min,
            port_max: settings.port_max,
        },
        events,
    )
    .context("starting the SFU")?;
    Ok(CallRegistry::start(
        sfu,
        sfu_events,
        store.clone(),
        Arc::clone(broker),
        kinlink_actors::calls::CallSettings {
            max_duration: chrono::Duration::minutes(i64::from(settings.max_minutes)),
            warning: chrono::Duration::minutes(i64::from(settings.warning_minutes)),
            rejoin_grace: Duration::from_secs(u64::from(settings.rejoin_seconds)),
            ice_servers: settings.ice_servers.clone(),
            turn_secret: kinlink_core::crypto::turn::TurnSecret::new(&settings.turn_secret),
            node_id,
        },
    ))
}
