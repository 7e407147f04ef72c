//! Email through an SMTP server, with lettre. Configured by a URL:
//! `smtp://host:port` (plain, for a relay on the same machine),
//! `smtp://host:587?tls=required` (STARTTLS) or `smtps://host:465`, with
//! `user:password@` when the server wants a login.

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub(crate) struct Email {
    pub subject: String,
    pub body: String,
}

pub(crate) struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub(crate) fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("reading the SMTP URL")?
            .build();
        let from = from.parse().context("reading the sender's address")?;
        Ok(Self { transport, from })
    }

    pub(crate) async fn send(&self, to: &str, email: Email) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.parse().context("reading the recipient's address")?)
            .subject(email.subject)
            .body(email.body)
            .context("building the email")?;
        self.transport
            .send(message)
            .await
            .context("sending through the SMTP server")?;
        Ok(())
    }
}
