//! The signed-in person's copy of their data: a ZIP archive with
//! `export.json` and their files, made in their own session and streamed
//! as it is made.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use futures_util::StreamExt;
use kinlink_core::SessionId;
use kinlink_core::crypto::segments::Layout;
use kinlink_core::permissions::{self, Action, Relationship};
use kinlink_store::audit::AuditRecord;
use tokio::sync::mpsc;
use tracing::{info, instrument, warn};

use crate::access_export::{self, Export};
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;
use crate::zip_stream::ZipEncoder;

/// Chunks of the archive waiting for the client; the builder pauses when
/// the client reads slower than the files decrypt.
const QUEUE: usize = 8;
/// Segments sent between two checks that the session is still live, about
/// 4 MiB.
const SEGMENTS_PER_CHECK: usize = 64;

type Chunk = Result<web::Bytes, std::io::Error>;

#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn download(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<HttpResponse, ApiError> {
    permissions::check(&user.roles, Action::AskRights, &[Relationship::Themselves])
        .map_err(|_denied| ApiError::Forbidden)?;
    let now = Utc::now();
    // Audited before it is built, so the export includes its own audit
    // row.
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(user.user_id),
            organisation_id: user.organisation_id,
            action: "rights.access_exported",
            subject_kind: "user",
            subject_id: Some(user.user_id.0),
            detail: serde_json::json!({}),
            at: now,
        })
        .await?;
    let export = access_export::build(&state, &user, now).await?;
    info!(files = export.files.len(), "access export started");

    let (sender, receiver) = mpsc::channel::<Chunk>(QUEUE);
    let source = Source {
        blobs: Arc::clone(&state.blobs),
        store: state.store.clone(),
        session: user.session_id,
    };
    actix_web::rt::spawn(write_archive(source, export, now, sender));
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let name = format!("kinlink-export-{}.zip", now.format("%Y-%m-%d"));
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/zip"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}

/// The store of the archive's files, and the session they are read for.
struct Source {
    blobs: Arc<dyn kinlink_media::blob::BlobStore>,
    store: kinlink_store::Store,
    session: SessionId,
}

impl Source {
    /// Returns an error to end the response with once the session is gone:
    /// signed out, revoked, or ended by disabling the account.
    async fn check_session(&self) -> Option<std::io::Error> {
        match self.store.session_exists(self.session).await {
            Ok(true) => None,
            Ok(false) => {
                info!("access export stopped: the session ended");
                Some(std::io::Error::other("the session ended"))
            }
            Err(error) => {
                warn!(error = %kinlink_actors::Causes(&error), "checking the session of an access export failed");
                Some(std::io::Error::other("the session could not be checked"))
            }
        }
    }
}

/// Writes the archive into `sender`: `export.json`, then each file,
/// decrypted one segment at a time. It stops when the client goes away,
/// and ends the response with an error when the session ends or a file
/// fails to read, so that the client never takes a cut archive for a
/// whole one.
async fn write_archive(
    source: Source,
    export: Export,
    now: chrono::DateTime<Utc>,
    sender: mpsc::Sender<Chunk>,
) {
    let mut encoder = ZipEncoder::new(now);
    let mut head = encoder.start("export.json");
    encoder.data(&export.json);
    head.extend_from_slice(&export.json);
    if sender.send(Ok(head.into())).await.is_err() {
        return;
    }
    for file in export.files {
        if let Some(ended) = source.check_session().await {
            let _closed = sender.send(Err(ended)).await;
            return;
        }
        if sender
            .send(Ok(encoder.start(&file.path).into()))
            .await
            .is_err()
        {
            return;
        }
        if file.len == 0 {
            continue;
        }
        let layout = Layout {
            plaintext_len: file.len,
        };
        let mut segments = Box::pin(super::files::segment_stream(
            Arc::clone(&source.blobs),
            file.key,
            file.blob,
            layout,
            0,
            file.len - 1,
        ));
        let mut sent = 0;
        while let Some(chunk) = segments.next().await {
            sent += 1;
            if sent % SEGMENTS_PER_CHECK == 0
                && let Some(ended) = source.check_session().await
            {
                let _closed = sender.send(Err(ended)).await;
                return;
            }
            match chunk {
                Ok(bytes) => {
                    encoder.data(&bytes);
                    if sender.send(Ok(bytes)).await.is_err() {
                        return;
                    }
                }
                Err(error) => {
                    warn!(file = %file.blob, "a file of the access export failed to read");
                    let _closed = sender.send(Err(error)).await;
                    return;
                }
            }
        }
    }
    let _closed = sender.send(Ok(encoder.finish().into())).await;
}
