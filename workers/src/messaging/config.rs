//! How messages leave Turnout: a provider per channel, quiet hours, send rates and the SMS
//! opt-out wording. Every field is a `turnout serve` flag and an environment variable.

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

/// The email provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum EmailProvider {
    /// Record and log the message; send nothing (development).
    #[default]
    Log,
    /// Send through an SMTP server.
    Smtp,
}

/// The SMS or WhatsApp provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TextProvider {
    /// Record and log the message; send nothing (development).
    #[default]
    Log,
    /// Send through Twilio's Messages API.
    Twilio,
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// STARTTLS on a plain connection (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No TLS at all: only for a relay on loopback or in tests.
    None,
}

/// Messaging configuration (`clap` flags with `TURNOUT_…` environment variables, or serde).
#[derive(Clone, Debug, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct MessagingConfig {
    /// Email provider: `log` (send nothing) or `smtp`.
    #[arg(long, env = "TURNOUT_EMAIL_PROVIDER", value_enum, default_value_t = EmailProvider::Log)]
    pub email_provider: EmailProvider,
    /// SMS provider: `log` (send nothing) or `twilio`.
    #[arg(long, env = "TURNOUT_SMS_PROVIDER", value_enum, default_value_t = TextProvider::Log)]
    pub sms_provider: TextProvider,
    /// WhatsApp provider: `log` (send nothing) or `twilio`.
    #[arg(long, env = "TURNOUT_WHATSAPP_PROVIDER", value_enum, default_value_t = TextProvider::Log)]
    pub whatsapp_provider: TextProvider,

    /// SMTP server host.
    #[arg(long, env = "TURNOUT_SMTP_HOST", default_value = "localhost")]
    pub smtp_host: String,
    /// SMTP server port.
    #[arg(long, env = "TURNOUT_SMTP_PORT", default_value_t = 587)]
    pub smtp_port: u16,
    /// `starttls`, `tls`, or `none` (loopback relays and tests only).
    #[arg(long, env = "TURNOUT_SMTP_TLS", value_enum, default_value_t = SmtpTls::Starttls)]
    pub smtp_tls: SmtpTls,
    /// SMTP user name (with `smtp_password`); none means no authentication.
    #[arg(long, env = "TURNOUT_SMTP_USERNAME")]
    pub smtp_username: Option<String>,
    #[arg(long, env = "TURNOUT_SMTP_PASSWORD", hide_env_values = true)]
    pub smtp_password: Option<String>,
    /// The From address of emails (`Campaign <hello@example.org>`).
    #[arg(
        long,
        env = "TURNOUT_EMAIL_FROM",
        default_value = "Turnout <no-reply@localhost>"
    )]
    pub email_from: String,

    /// Twilio API base URL (changed only in tests).
    #[arg(
        long,
        env = "TURNOUT_TWILIO_BASE_URL",
        default_value = "https://api.twilio.com"
    )]
    pub twilio_base_url: String,
    #[arg(long, env = "TURNOUT_TWILIO_ACCOUNT_SID")]
    pub twilio_account_sid: Option<String>,
    /// Also verifies Twilio's webhook signatures (the API needs the same value).
    #[arg(long, env = "TURNOUT_TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub twilio_auth_token: Option<String>,
    /// The number SMS are sent from (E.164).
    #[arg(long, env = "TURNOUT_TWILIO_SMS_FROM")]
    pub twilio_sms_from: Option<String>,
    /// The number WhatsApp messages are sent from (E.164, without `whatsapp:`).
    #[arg(long, env = "TURNOUT_TWILIO_WHATSAPP_FROM")]
    pub twilio_whatsapp_from: Option<String>,
    /// Where Twilio posts delivery receipts: `https://<host>/webhooks/twilio/status`.
    #[arg(long, env = "TURNOUT_TWILIO_STATUS_CALLBACK")]
    pub twilio_status_callback: Option<String>,

    /// Quiet hours for SMS and WhatsApp in the person's time zone, `HH:MM-HH:MM`, or `off`.
    #[arg(long, env = "TURNOUT_QUIET_HOURS", default_value = "21:00-09:00")]
    pub quiet_hours: String,
    /// The time zone for people without one (an IANA name).
    #[arg(long, env = "TURNOUT_DEFAULT_TIME_ZONE", default_value = "UTC")]
    pub default_time_zone: String,

    /// Emails per second at most (0: no limit).
    #[arg(long, env = "TURNOUT_EMAIL_PER_SECOND", default_value_t = 10)]
    pub email_per_second: u32,
    /// SMS per second at most (0: no limit).
    #[arg(long, env = "TURNOUT_SMS_PER_SECOND", default_value_t = 1)]
    pub sms_per_second: u32,
    /// WhatsApp messages per second at most (0: no limit).
    #[arg(long, env = "TURNOUT_WHATSAPP_PER_SECOND", default_value_t = 1)]
    pub whatsapp_per_second: u32,

    /// Appended to every SMS that does not already mention STOP.
    #[arg(
        long,
        env = "TURNOUT_SMS_OPT_OUT_TEXT",
        default_value = "Reply STOP to opt out"
    )]
    pub sms_opt_out_text: String,
}

impl Default for MessagingConfig {
    fn default() -> Self {
        Self {
            email_provider: EmailProvider::Log,
            sms_provider: TextProvider::Log,
            whatsapp_provider: TextProvider::Log,
            smtp_host: "localhost".into(),
            smtp_port: 587,
            smtp_tls: SmtpTls::Starttls,
            smtp_username: None,
            smtp_password: None,
            email_from: "Turnout <no-reply@localhost>".into(),
            twilio_base_url: "https://api.twilio.com".into(),
            twilio_account_sid: None,
            twilio_auth_token: None,
            twilio_sms_from: None,
            twilio_whatsapp_from: None,
            twilio_status_callback: None,
            quiet_hours: "21:00-09:00".into(),
            default_time_zone: "UTC".into(),
            email_per_second: 10,
            sms_per_second: 1,
            whatsapp_per_second: 1,
            sms_opt_out_text: "Reply STOP to opt out".into(),
        }
    }
}

/// Quiet hours: from `start` to `end` local time (wrapping past midnight when `start > end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuietHours {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl QuietHours {
    /// Parses `HH:MM-HH:MM`; `off` (or empty) is `None`.
    pub fn parse(s: &str) -> anyhow::Result<Option<Self>> {
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| anyhow::anyhow!("quiet hours must look like 21:00-09:00 or be `off`"))?;
        let time = |t: &str| {
            NaiveTime::parse_from_str(t.trim(), "%H:%M")
                .map_err(|_| anyhow::anyhow!("quiet hours: `{t}` is not a time like 21:00"))
        };
        let (start, end) = (time(a)?, time(b)?);
        if start == end {
            return Ok(None);
        }
        Ok(Some(Self { start, end }))
    }
}
