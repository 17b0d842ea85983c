//! Outgoing e-mail (the digests) over SMTP with lettre: configured by one URL (`smtp://host:25` with STARTTLS when
//! the server offers it, `smtps://` for TLS, credentials in the URL), or not at all: no mail setting, no mail.

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// How often the digest job looks for digests due.
    pub interval: Duration,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// From configuration; an error names the setting that is wrong (the URL's password is never repeated).
    pub fn new(url: &str, from: &str, interval: Duration) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| "VERSORGUNG_SMTP_URL is not a valid smtp:// or smtps:// URL".to_owned())?
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from = from
            .parse()
            .map_err(|e| format!("VERSORGUNG_MAIL_FROM is not a mail address: {e}"))?;
        Ok(Self {
            transport,
            from,
            interval,
        })
    }

    /// Sends one plain-text message in UTF-8.
    pub async fn send(&self, to: &str, subject: &str, body: String) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("recipient {to}: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| format!("building the message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("SMTP: {e}"))
    }
}
