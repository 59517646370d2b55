//! The providers that carry messages: a log (sends nothing), SMTP (lettre), Twilio (reqwest).

use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use turnout_domain::messaging::{Attachment, Channel};
use turnout_entity::messages;

use super::config::{EmailProvider, MessagingConfig, SmtpTls, TextProvider};

/// Why a send did not happen.
#[derive(Debug)]
pub(super) enum SendError {
    /// Try again later: connection trouble, a 5xx, a 429, an SMTP 4xx.
    Transient(String),
    /// Never going to work: the provider refused this message.
    Permanent(String),
    /// The request was written but no readable answer came back (a timeout, a connection
    /// dropped after the request, an unreadable 2xx): it may have been sent.
    Unknown(String),
}

pub(super) struct Providers {
    email: Option<Smtp>,
    sms: Option<Twilio>,
    whatsapp: Option<Twilio>,
}

impl Providers {
    pub(super) fn new(config: &MessagingConfig) -> anyhow::Result<Self> {
        let email = match config.email_provider {
            EmailProvider::Log => None,
            EmailProvider::Smtp => Some(Smtp::new(config)?),
        };
        let twilio = |from: &Option<String>, what: &str, prefix: &'static str| match from {
            Some(from) => Twilio::new(config, from, prefix),
            None => Err(anyhow::anyhow!(
                "the Twilio {what} provider needs a from number (TURNOUT_TWILIO_{}_FROM)",
                what.to_uppercase()
            )),
        };
        let sms = match config.sms_provider {
            TextProvider::Log => None,
            TextProvider::Twilio => Some(twilio(&config.twilio_sms_from, "sms", "")?),
        };
        let whatsapp = match config.whatsapp_provider {
            TextProvider::Log => None,
            TextProvider::Twilio => Some(twilio(
                &config.twilio_whatsapp_from,
                "whatsapp",
                "whatsapp:",
            )?),
        };
        Ok(Self {
            email,
            sms,
            whatsapp,
        })
    }

    pub(super) fn name(&self, channel: Channel) -> &'static str {
        match channel {
            Channel::Email if self.email.is_some() => "smtp",
            Channel::Sms if self.sms.is_some() => "twilio",
            Channel::Whatsapp if self.whatsapp.is_some() => "twilio",
            _ => "log",
        }
    }

    /// Sends `message` from `from` (the organization's or chapter's sender; `None`: the
    /// deployment's), as the approved WhatsApp template `approved` (Content SID, variables)
    /// instead of its body when given; the provider's id for it on success.
    pub(super) async fn send(
        &self,
        channel: Channel,
        message: &messages::Model,
        attachments: &[Attachment],
        unsubscribe: Option<&str>,
        from: Option<&str>,
        approved: Option<(&str, &str)>,
    ) -> Result<String, SendError> {
        match channel {
            Channel::Email => match &self.email {
                Some(smtp) => smtp.send(message, attachments, unsubscribe, from).await,
                None => Ok(log(channel, message, attachments, from)),
            },
            Channel::Sms | Channel::Whatsapp => {
                let provider = if channel == Channel::Sms {
                    &self.sms
                } else {
                    &self.whatsapp
                };
                match provider {
                    Some(twilio) => twilio.send(message, from, approved).await,
                    None => {
                        if let Some((sid, vars)) = approved {
                            tracing::info!(message_id = %message.id, content_sid = sid, variables = vars, "as the approved WhatsApp template");
                        }
                        Ok(log(channel, message, attachments, from))
                    }
                }
            }
        }
    }
}

/// The `log` provider: records the message as sent and logs it; nothing leaves the process.
fn log(
    channel: Channel,
    message: &messages::Model,
    attachments: &[Attachment],
    from: Option<&str>,
) -> String {
    tracing::info!(
        message_id = %message.id,
        channel = channel.as_str(),
        from = from.unwrap_or("(the deployment's)"),
        to = %message.to_address,
        subject = message.subject.as_deref().unwrap_or(""),
        attachments = attachments.len(),
        "message (log provider, not sent):\n{}",
        message.body
    );
    format!("log-{}", message.id)
}

struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Smtp {
    fn new(config: &MessagingConfig) -> anyhow::Result<Self> {
        let host = config.smtp_host.as_str();
        let mut builder = match config.smtp_tls {
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)?,
        }
        .port(config.smtp_port)
        .timeout(Some(Duration::from_secs(30)));
        if let (Some(user), Some(password)) = (&config.smtp_username, &config.smtp_password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let from = config.email_from.parse::<Mailbox>().map_err(|err| {
            anyhow::anyhow!(
                "the email From `{}` is not an address: {err}",
                config.email_from
            )
        })?;
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    async fn send(
        &self,
        message: &messages::Model,
        attachments: &[Attachment],
        unsubscribe: Option<&str>,
        from: Option<&str>,
    ) -> Result<String, SendError> {
        let permanent = |what: &str, err: &dyn std::fmt::Display| {
            SendError::Permanent(format!("{what}: {err}"))
        };
        let from = match from {
            Some(from) => from
                .parse::<Mailbox>()
                .map_err(|e| permanent("the organization's From is not an address", &e))?,
            None => self.from.clone(),
        };
        let to = message
            .to_address
            .parse::<Mailbox>()
            .map_err(|e| permanent("not an email address", &e))?;
        let message_id = format!("<{}@turnout>", message.id);
        let builder = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(message.subject.clone().unwrap_or_default())
            .message_id(Some(message_id.clone()));
        // A broadcast: mail clients show an unsubscribe button that POSTs (RFC 8058).
        let builder = match unsubscribe {
            Some(url) => builder
                .header(ListUnsubscribe(format!("<{url}>")))
                .header(ListUnsubscribePost),
            None => builder,
        };
        let email = if attachments.is_empty() {
            builder
                .header(ContentType::TEXT_PLAIN)
                .body(message.body.clone())
        } else {
            let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(message.body.clone()));
            for a in attachments {
                let ct = ContentType::parse(&a.content_type)
                    .map_err(|e| permanent("attachment content type", &e))?;
                parts = parts.singlepart(
                    lettre::message::Attachment::new(a.filename.clone()).body(a.bytes.clone(), ct),
                );
            }
            builder.multipart(parts)
        }
        .map_err(|e| permanent("cannot build the email", &e))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(message_id),
            Err(err) if err.is_permanent() => Err(SendError::Permanent(format!("smtp: {err}"))),
            Err(err) => Err(SendError::Transient(format!("smtp: {err}"))),
        }
    }
}

/// `List-Unsubscribe: <https://…/u/<token>>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

struct Twilio {
    client: reqwest::Client,
    url: String,
    account_sid: String,
    auth_token: String,
    from: String,
    /// `whatsapp:` for WhatsApp, nothing for SMS.
    prefix: &'static str,
    status_callback: Option<String>,
}

#[derive(serde::Deserialize)]
struct TwilioMessage {
    sid: String,
}

#[derive(serde::Deserialize)]
struct TwilioError {
    message: Option<String>,
    code: Option<i64>,
}

impl Twilio {
    fn new(config: &MessagingConfig, from: &str, prefix: &'static str) -> anyhow::Result<Self> {
        let (Some(sid), Some(token)) = (&config.twilio_account_sid, &config.twilio_auth_token)
        else {
            anyhow::bail!(
                "the Twilio provider needs TURNOUT_TWILIO_ACCOUNT_SID and TURNOUT_TWILIO_AUTH_TOKEN"
            );
        };
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            client,
            url: format!(
                "{}/2010-04-01/Accounts/{sid}/Messages.json",
                config.twilio_base_url.trim_end_matches('/')
            ),
            account_sid: sid.clone(),
            auth_token: token.clone(),
            from: from.trim().to_owned(),
            prefix,
            status_callback: config.twilio_status_callback.clone(),
        })
    }

    async fn send(
        &self,
        message: &messages::Model,
        from: Option<&str>,
        approved: Option<(&str, &str)>,
    ) -> Result<String, SendError> {
        let to = format!("{}{}", self.prefix, message.to_address);
        let from = format!("{}{}", self.prefix, from.unwrap_or(&self.from));
        let mut form = vec![("To", to.as_str()), ("From", from.as_str())];
        match approved {
            // Twilio's Content API: the template and its numbered variables, no body.
            Some((sid, variables)) => {
                form.push(("ContentSid", sid));
                form.push(("ContentVariables", variables));
            }
            None => form.push(("Body", message.body.as_str())),
        }
        if let Some(cb) = &self.status_callback {
            form.push(("StatusCallback", cb.as_str()));
        }
        let resp = self
            .client
            .post(&self.url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .form(&form)
            .send()
            .await
            .map_err(|err| {
                // Only a failure to connect proves Twilio never saw the request.
                if err.is_connect() {
                    SendError::Transient(format!("twilio: {err}"))
                } else {
                    SendError::Unknown(format!("twilio: no answer: {}", err.without_url()))
                }
            })?;
        let status = resp.status();
        if status.is_success() {
            let body: TwilioMessage = resp
                .json()
                .await
                .map_err(|err| SendError::Unknown(format!("twilio: unreadable answer: {err}")))?;
            return Ok(body.sid);
        }
        let detail = match resp.json::<TwilioError>().await {
            Ok(e) => format!(
                "{} (code {})",
                e.message.unwrap_or_default(),
                e.code.map(|c| c.to_string()).unwrap_or_default()
            ),
            Err(_) => String::new(),
        };
        let err = format!("twilio: HTTP {status} {detail}");
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            Err(SendError::Transient(err))
        } else {
            Err(SendError::Permanent(err))
        }
    }
}
