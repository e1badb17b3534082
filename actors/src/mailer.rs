//! Building and sending notification email with lettre.
//!
//! Email goes to an SMTP server through a pool of connections, or, when no
//! server is configured, into a folder as `.eml` files. Each message is
//! built from a fixed template: the `To:` header is the bare address and
//! no header carries text a user wrote, so a display name cannot inject a
//! header.

use std::path::Path;
use std::time::Duration;

use kinlink_core::notices::{SendOutcome, Template};
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::PoolConfig;
use lettre::{Address, AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// The failure to set up a mailer or to build an email.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The SMTP URL is not one lettre understands.
    #[error(
        "invalid SMTP URL (use smtp://host:port, smtp://host:port?tls=required or smtps://host:port)"
    )]
    SmtpUrl(#[source] lettre::transport::smtp::Error),
    /// The sender address is not a mailbox.
    #[error("invalid sender address {value:?} (use \"Name <address>\" or a bare address)")]
    From {
        value: String,
        #[source]
        source: lettre::address::AddressError,
    },
    /// The recipient's stored address is not an email address.
    #[error("invalid recipient address")]
    To(#[source] lettre::address::AddressError),
    /// The link path contains characters a path does not need, so it could
    /// carry text into the email.
    #[error("invalid link path (only letters, digits and / - _ . ? = & % are allowed)")]
    LinkPath,
    /// lettre refused to build the message.
    #[error("could not build the message")]
    Build(#[source] lettre::error::Error),
}

/// The maximum wait for the connection check before a send.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);

/// The maximum wait for one send, from the first command to the server's
/// reply after the message. A server that never replies would otherwise
/// hold the notifier for good.
const SEND_TIMEOUT: Duration = Duration::from_secs(120);

/// The destination of email.
pub enum Mailer {
    /// An SMTP server, through a pool of connections.
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// Kept to rebuild the pool after a send timed out part way.
        url: String,
        max_connections: u32,
    },
    /// A folder of `.eml` files.
    Folder(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    /// Sends through the SMTP server at `url` with at most
    /// `max_connections` open connections. TLS follows the URL:
    /// `smtps://` for TLS from the start, `?tls=required` for STARTTLS.
    pub fn smtp(url: &str, max_connections: u32) -> Result<Mailer, MailError> {
        let pool = PoolConfig::new().max_size(max_connections.max(1));
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(MailError::SmtpUrl)?
            .pool_config(pool)
            .build();
        Ok(Mailer::Smtp {
            transport,
            url: url.to_owned(),
            max_connections,
        })
    }

    /// Writes each email into `folder`.
    pub fn folder(folder: &Path) -> Mailer {
        Mailer::Folder(AsyncFileTransport::new(folder))
    }

    /// Sends `message` and returns its outcome. With SMTP, the connection is
    /// checked first, so an error after that point means the server may
    /// have the email.
    ///
    /// NOTE: a connection that drops after the check but before the message
    /// was handed over also counts as unknown, because lettre's pooled send
    /// does not say at which command it failed.
    pub async fn send(&mut self, message: Message) -> (SendOutcome, Option<&'static str>) {
        let transport = match self {
            Mailer::Folder(folder) => {
                return match folder.send(message).await {
                    Ok(_) => (SendOutcome::Accepted, None),
                    Err(_) => (SendOutcome::NotSent, Some("folder_write_failed")),
                };
            }
            Mailer::Smtp { transport, .. } => transport,
        };
        let checked = tokio::time::timeout(CHECK_TIMEOUT, transport.test_connection());
        if !matches!(checked.await, Ok(Ok(true))) {
            return (SendOutcome::NotSent, Some("connection_failed"));
        }
        match tokio::time::timeout(SEND_TIMEOUT, transport.send(message)).await {
            Ok(Ok(_)) => (SendOutcome::Accepted, None),
            Ok(Err(e)) if e.is_permanent() => (SendOutcome::Refused, Some("refused")),
            Ok(Err(e)) if e.is_transient() => (SendOutcome::NotSent, Some("deferred")),
            Ok(Err(_)) => (SendOutcome::Unknown, Some("connection_lost")),
            Err(_elapsed) => {
                self.reset();
                (SendOutcome::Unknown, Some("timed_out"))
            }
        }
    }

    /// Replaces the SMTP pool, so a connection left in the middle of a
    /// command is never used again.
    fn reset(&mut self) {
        if let Mailer::Smtp {
            url,
            max_connections,
            ..
        } = self
            && let Ok(fresh) = Mailer::smtp(url, *max_connections)
        {
            *self = fresh;
        }
    }
}

/// The fixed parts of every notification: who it is from and where links
/// point.
#[derive(Debug, Clone)]
pub struct Letterhead {
    from: Mailbox,
    /// The domain of the sender address, used in Message-IDs.
    domain: String,
    /// The origin links start with, without a trailing slash.
    origin: String,
}

impl Letterhead {
    /// Parses the sender (`"KinLink <no-reply@example.org>"` or a bare
    /// address) and keeps the public origin for links.
    pub fn new(from: &str, origin: &str) -> Result<Letterhead, MailError> {
        let from: Mailbox = from.parse().map_err(|source| MailError::From {
            value: from.to_owned(),
            source,
        })?;
        let domain = from.email.domain().to_owned();
        let origin = origin.trim_end_matches('/').to_owned();
        Ok(Letterhead {
            from,
            domain,
            origin,
        })
    }

    /// Builds the email with id `id` to `address` from `template`. Its
    /// Message-ID comes from the id, so every retry carries the same one.
    /// Marketing email carries `unsubscribe`, a one-time token: in
    /// `List-Unsubscribe` with one-click `List-Unsubscribe-Post` (RFC
    /// 8058), and as a link at the end of the body.
    pub fn compose(
        &self,
        id: uuid::Uuid,
        address: &str,
        template: Template,
        link_path: &str,
        unsubscribe: Option<&str>,
    ) -> Result<Message, MailError> {
        let to: Address = address.parse().map_err(MailError::To)?;
        check_link_path(link_path)?;
        let link = format!("{}/{}", self.origin, link_path.trim_start_matches('/'));
        let mut builder = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(template.subject())
            .message_id(Some(format!("<{}@{}>", id.simple(), self.domain)))
            .header(ContentType::TEXT_PLAIN);
        let mut body = template.body(&link);
        if let Some(token) = unsubscribe {
            check_link_path(token)?;
            builder = builder
                .header(ListUnsubscribe(format!(
                    "<{}/api/v1/unsubscribe/{token}>",
                    self.origin
                )))
                .header(ListUnsubscribePost);
            body.push_str(&format!(
                "\r\nYou get news from KinLink because you chose to. To stop, open this \
                 link:\r\n{}/unsubscribe#{token}\r\n",
                self.origin
            ));
        }
        builder.body(body).map_err(MailError::Build)
    }
}

/// The `List-Unsubscribe` header: the one-click unsubscribe address.
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(text.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// The `List-Unsubscribe-Post` header that marks the address as one-click.
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// Checks that a link path is a plain path, so no caller can put words or
/// line breaks into an email through it.
fn check_link_path(path: &str) -> Result<(), MailError> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/-_.?=&%#".contains(c);
    if path.len() <= 2048 && path.chars().all(plain) {
        Ok(())
    } else {
        Err(MailError::LinkPath)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_paths_are_plain() {
        assert!(check_link_path("letters/0193a1c2?tab=review").is_ok());
        assert!(check_link_path("").is_ok());
        assert!(check_link_path("letters/x\r\nBcc: evil@example.org").is_err());
        assert!(check_link_path("a b").is_err());
        assert!(check_link_path(&"a".repeat(2049)).is_err());
    }
}
