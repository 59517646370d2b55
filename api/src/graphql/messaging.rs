//! Message templates: an organization's own wording of the built-in messages per channel and
//! language.

use async_graphql::{Context, Enum, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use turnout_domain::auth::perm;
use turnout_domain::messaging::Channel;
use turnout_domain::messaging::templates::{self, TemplateInput};
use turnout_entity::message_templates;

use super::context::{can, db};
use crate::error::GqlResult;

/// How a message travels.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum MessageChannel {
    Email,
    Sms,
    Whatsapp,
}

impl From<MessageChannel> for Channel {
    fn from(c: MessageChannel) -> Self {
        match c {
            MessageChannel::Email => Channel::Email,
            MessageChannel::Sms => Channel::Sms,
            MessageChannel::Whatsapp => Channel::Whatsapp,
        }
    }
}

/// An organization's wording of a message template for one channel and language. It replaces
/// the built-in one (`rsvp_confirmation`, `shift_reminder`, `shift_missed`, `shift_thanks`,
/// `shift_changed`, `welcome`) or adds a template of the organization's own.
pub struct MessageTemplate(message_templates::Model);

#[Object]
impl MessageTemplate {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The template's key, e.g. `shift_reminder`.
    async fn key(&self) -> &str {
        &self.0.key
    }

    /// The channel this wording is for.
    async fn channel(&self) -> MessageChannel {
        match self.0.channel.as_str() {
            "sms" => MessageChannel::Sms,
            "whatsapp" => MessageChannel::Whatsapp,
            _ => MessageChannel::Email,
        }
    }

    /// The language tag, lowercase (`es`, `pt-br`).
    async fn language(&self) -> &str {
        &self.0.language
    }

    /// The email subject (MiniJinja); absent for SMS and WhatsApp.
    async fn subject(&self) -> Option<&str> {
        self.0.subject.as_deref()
    }

    /// The body (MiniJinja): `{{ person.first_name }}`, `{{ org.name }}`, `{{ event.title }}`,
    /// `{{ shift.starts_at_local }}` and the variables the sender passes.
    async fn body(&self) -> &str {
        &self.0.body
    }

    /// WhatsApp only: the approved template sent outside the 24-hour window.
    async fn whatsapp_content_sid(&self) -> Option<&str> {
        self.0.whatsapp_content_sid.as_deref()
    }

    /// The sources of the approved template's variables, `{{1}}` first.
    async fn whatsapp_variables(&self) -> Vec<String> {
        turnout_domain::messaging::whatsapp::Approved::of(&self.0)
            .map(|a| a.variables)
            .unwrap_or_default()
    }

    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// The wording of a template for one channel and language.
#[derive(InputObject)]
pub struct MessageTemplateInput {
    /// Lowercase letters, digits and underscores, e.g. `shift_reminder`.
    pub key: String,
    pub channel: MessageChannel,
    /// A language tag such as `es` or `pt-BR`.
    pub language: String,
    /// Required for email; ignored for SMS and WhatsApp.
    pub subject: Option<String>,
    pub body: String,
    /// WhatsApp only: the approved Twilio Content template (`HX` and 32 hex digits) that says
    /// the same, sent instead of `body` to a person outside their 24-hour window (WhatsApp
    /// refuses free text there; without one such messages are blocked).
    pub whatsapp_content_sid: Option<String>,
    /// The MiniJinja source of each of its variables, `{{1}}` first (at most 10):
    /// `["{{ person.first_name }}", "{{ shift.starts_at_local }}"]`.
    #[graphql(default)]
    pub whatsapp_variables: Vec<String>,
}

#[derive(Default)]
pub struct MessagingQuery;

#[Object]
impl MessagingQuery {
    /// The organization's message templates. Needs `admin`.
    async fn message_templates(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<MessageTemplate>> {
        let rows = templates::list_templates(db(ctx), &can::<perm::Admin>(ctx)?)
            .await
            .gql()?;
        Ok(rows.into_iter().map(MessageTemplate).collect())
    }
}

#[derive(Default)]
pub struct MessagingMutation;

#[Object]
impl MessagingMutation {
    /// Create or replace the organization's wording of a template for a channel and language.
    /// Needs `admin`.
    async fn upsert_message_template(
        &self,
        ctx: &Context<'_>,
        input: MessageTemplateInput,
    ) -> async_graphql::Result<MessageTemplate> {
        let input = TemplateInput {
            key: input.key,
            channel: input.channel.into(),
            language: input.language,
            subject: input.subject,
            body: input.body,
            whatsapp_content_sid: input.whatsapp_content_sid,
            whatsapp_variables: input.whatsapp_variables,
        };
        let row = templates::upsert_template(
            db(ctx),
            &can::<perm::Admin>(ctx)?,
            &super::audit::request_context(ctx),
            input,
        )
        .await
        .gql()?;
        Ok(MessageTemplate(row))
    }
}
