//! How an email leaves: over SMTP (lettre) when `SMTP_URL` is set, otherwise as an `.eml` file
//! in `DATA_DIR/outbox/` (the embedded default: a newcomer sees every email without a mail
//! server).
//!
//! Each message's `Message-ID` is derived from its job, so a message sent again after a crash
//! (the one window nothing closes: the server accepted it, the worker died before recording
//! it) carries the same id, and mail software can tell it is one message; in the outbox it
//! overwrites its own file.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as MimeMessage, Tokio1Executor};
use secrecy::ExposeSecret;

use super::Composed;
use crate::config::Config;
use crate::jobs::JobError;
use crate::store::jobs::ClaimedJob;

/// Longer than this, an SMTP exchange is abandoned (and retried); well within the worker's
/// lease.
const SMTP_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct Mailer {
    from: Mailbox,
    reply_to: Option<Mailbox>,
    transport: Transport,
}

#[derive(Clone)]
enum Transport {
    Smtp(Arc<AsyncSmtpTransport<Tokio1Executor>>),
    Outbox(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error(
        "MAIL_FROM « {0} » n'est pas une adresse valable (ex. : Association <dons@exemple.org>)"
    )]
    From(String),
    #[error("MAIL_REPLY_TO « {0} » n'est pas une adresse valable")]
    ReplyTo(String),
    #[error("SMTP_URL est invalide : {0} (ex. : smtp://utilisateur:motdepasse@hote:587)")]
    SmtpUrl(String),
}

impl Mailer {
    pub fn from_config(config: &Config) -> Result<Mailer, MailerError> {
        let from = config
            .mail_from
            .parse()
            .map_err(|_| MailerError::From(config.mail_from.clone()))?;
        let reply_to = match &config.mail_reply_to {
            Some(raw) => Some(raw.parse().map_err(|_| MailerError::ReplyTo(raw.clone()))?),
            None => None,
        };
        let transport = match &config.smtp_url {
            Some(url) => {
                // The error would echo the URL, password included: say what is wrong only.
                let url = with_starttls_by_default(url.expose_secret()).ok_or_else(|| {
                    MailerError::SmtpUrl("schéma smtp:// ou smtps:// et hôte attendus".to_owned())
                })?;
                let builder =
                    AsyncSmtpTransport::<Tokio1Executor>::from_url(&url).map_err(|_| {
                        MailerError::SmtpUrl(
                            "schéma smtp:// ou smtps://, hôte, port et tls=none|required|opportunistic attendus"
                                .to_owned(),
                        )
                    })?;
                Transport::Smtp(Arc::new(builder.timeout(Some(SMTP_TIMEOUT)).build()))
            }
            None => Transport::Outbox(config.data_dir.join("outbox")),
        };
        Ok(Mailer {
            from,
            reply_to,
            transport,
        })
    }

    /// Where messages go when no SMTP server is configured.
    pub fn outbox(&self) -> Option<&Path> {
        match &self.transport {
            Transport::Outbox(dir) => Some(dir),
            Transport::Smtp(_) => None,
        }
    }

    /// Sends `message`, built by [`Mailer::build`] from `composed`.
    pub async fn send(
        &self,
        message: MimeMessage,
        composed: &Composed,
        job: &ClaimedJob,
    ) -> Result<(), JobError> {
        match &self.transport {
            Transport::Smtp(transport) => match transport.send(message).await {
                Ok(_) => Ok(()),
                Err(error) if error.is_permanent() => Err(JobError::Permanent(format!(
                    "refusé par le serveur SMTP : {error}"
                ))),
                Err(error) => Err(JobError::Transient(format!("SMTP : {error}"))),
            },
            Transport::Outbox(dir) => {
                let path = dir.join(format!("{:08}.eml", job.id));
                let written = |error: std::io::Error| {
                    JobError::Transient(format!("écriture de {} : {error}", path.display()))
                };
                write_atomically(&path, &message.formatted())
                    .await
                    .map_err(written)?;
                // Beside it, what the demonstration's outbox page shows.
                let shown = OutboxEntry::new(composed, job);
                let json = serde_json::to_vec(&shown)
                    .map_err(|error| JobError::Permanent(error.to_string()))?;
                write_atomically(&path.with_extension("json"), &json)
                    .await
                    .map_err(written)?;
                tracing::info!(path = %path.display(), "email written to the outbox");
                Ok(())
            }
        }
    }

    /// The MIME message: both parts, the headers, nothing of the data outside encoded fields
    /// (lettre encodes names and subjects, and refuses addresses that are not addresses).
    pub fn build(&self, composed: &Composed, job: &ClaimedJob) -> Result<MimeMessage, JobError> {
        let address = composed
            .to_address
            .parse()
            .map_err(|_| JobError::Permanent("adresse du destinataire invalide".to_owned()))?;
        let to = Mailbox::new(Some(one_line(&composed.to_name)), address);
        let domain = self.from.email.domain().to_owned();
        let mut builder = MimeMessage::builder()
            .from(self.from.clone())
            .to(to)
            .subject(one_line(&composed.subject))
            .message_id(Some(format!(
                "<obole.job.{}.{}@{domain}>",
                job.id, job.created_at
            )));
        if let Some(reply_to) = &self.reply_to {
            builder = builder.reply_to(reply_to.clone());
        }
        if let Some(url) = &composed.unsubscribe {
            // RFC 8058: mail software offers « unsubscribe », and POSTs to the link at once.
            builder = builder
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{}>", one_line(url)),
                ))
                .raw_header(HeaderValue::new(
                    HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let body = MultiPart::alternative_plain_html(composed.text.clone(), composed.html.clone());
        let body = composed.attachments.iter().fold(
            if composed.attachments.is_empty() {
                body
            } else {
                MultiPart::mixed().multipart(body)
            },
            |mixed, file| {
                let content_type =
                    ContentType::parse(file.content_type).unwrap_or(ContentType::TEXT_PLAIN);
                mixed.singlepart(
                    Attachment::new(file.filename.clone()).body(file.bytes.clone(), content_type),
                )
            },
        );
        builder
            .multipart(body)
            .map_err(|error| JobError::Permanent(format!("message invalide : {error}")))
    }
}

/// An email of the outbox, as the demonstration's page lists and shows it (`{job id}.json`
/// beside its `.eml`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OutboxEntry {
    pub job_id: i64,
    pub written_at: i64,
    pub to: String,
    pub subject: String,
    pub html: String,
    pub text: String,
    pub unsubscribe: Option<String>,
    /// The names of the files it carried (in the `.eml`).
    #[serde(default)]
    pub attachments: Vec<String>,
}

impl OutboxEntry {
    fn new(composed: &Composed, job: &ClaimedJob) -> OutboxEntry {
        OutboxEntry {
            job_id: job.id,
            written_at: crate::domain::dates::now(),
            to: composed.to_address.clone(),
            subject: composed.subject.clone(),
            html: composed.html.clone(),
            text: composed.text.clone(),
            unsubscribe: composed.unsubscribe.clone(),
            attachments: composed
                .attachments
                .iter()
                .map(|a| a.filename.clone())
                .collect(),
        }
    }
}

/// The outbox's emails, newest first (at most `limit`).
pub async fn read_outbox(dir: &Path, limit: usize) -> std::io::Result<Vec<OutboxEntry>> {
    let mut names = Vec::new();
    let mut entries = match tokio::fs::read_dir(dir).await {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            names.push(name);
        }
    }
    // Zero-padded job ids: the names sort as the jobs were queued.
    names.sort_unstable_by(|a, b| b.cmp(a));
    let mut shown = Vec::new();
    for name in names.into_iter().take(limit) {
        if let Some(entry) = read_entry(&dir.join(name)).await {
            shown.push(entry);
        }
    }
    Ok(shown)
}

/// One email of the outbox, if it is there.
pub async fn read_outbox_entry(dir: &Path, job_id: i64) -> Option<OutboxEntry> {
    read_entry(&dir.join(format!("{job_id:08}.json"))).await
}

async fn read_entry(path: &Path) -> Option<OutboxEntry> {
    let bytes = tokio::fs::read(path).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A header value on one line: control characters (a line break in a name, say) become
/// spaces. lettre encodes what it is given, but a name is data, not headers.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `smtp://` means STARTTLS required (lettre alone would send in clear, password included);
/// `?tls=none` asks for clear text explicitly (a relay on the same machine, the tests).
fn with_starttls_by_default(raw: &str) -> Option<String> {
    let mut url = url::Url::parse(raw).ok()?;
    if url.scheme() != "smtp" {
        return Some(url.into());
    }
    let tls = url
        .query_pairs()
        .find(|(key, _)| key == "tls")
        .map(|(_, value)| value.into_owned());
    match tls.as_deref() {
        None => {
            url.query_pairs_mut().append_pair("tls", "required");
        }
        Some("none") => {
            let others: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(key, _)| key != "tls")
                .map(|(key, value)| (key.into_owned(), value.into_owned()))
                .collect();
            url.set_query(None);
            if !others.is_empty() {
                url.query_pairs_mut().extend_pairs(others);
            }
        }
        Some(_) => {}
    }
    Some(url.into())
}

/// Written whole or not at all: a reader never sees half a message.
async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    tokio::fs::create_dir_all(dir).await?;
    let temporary = path.with_extension(format!("tmp.{}", uuid::Uuid::new_v4().simple()));
    tokio::fs::write(&temporary, bytes).await?;
    tokio::fs::rename(&temporary, path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_smtp_urls_require_starttls_unless_told_otherwise() {
        let url = |raw| with_starttls_by_default(raw).unwrap();
        assert_eq!(
            url("smtp://u:p@mail.example.org:587"),
            "smtp://u:p@mail.example.org:587?tls=required"
        );
        assert_eq!(
            url("smtp://127.0.0.1:2525?tls=none"),
            "smtp://127.0.0.1:2525"
        );
        assert_eq!(
            url("smtp://h?tls=opportunistic"),
            "smtp://h?tls=opportunistic"
        );
        assert_eq!(url("smtps://u:p@h:465"), "smtps://u:p@h:465");
        assert!(with_starttls_by_default("pas une url").is_none());
    }
}
