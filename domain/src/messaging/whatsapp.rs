//! WhatsApp's 24-hour rule. A business may send free text only within a day of the person's
//! last message to it; outside that window only a template Meta approved (a Twilio Content
//! template, `HX…`, with numbered variables) goes through. An organization's `whatsapp`
//! template may name its approved twin ([`Approved`]); each queued message carries both forms,
//! and at send time [`form`] picks by the person's window (`whatsapp_window_ends_at`, moved
//! forward by every WhatsApp message they send us). Outside the window with no approved
//! template, the message is blocked with [`WINDOW_CLOSED`], never sent as refused free text.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use turnout_entity::{message_templates, messages, people};
use uuid::Uuid;

use super::templates;
use crate::error::{DomainError, DomainResult};

/// How long after a person's message free text may be sent.
pub const WINDOW: Duration = Duration::hours(24);
/// The most variables an approved template takes here.
pub const MAX_VARIABLES: usize = 10;
/// The longest source of one variable.
const MAX_VARIABLE_CHARS: usize = 1_000;
/// Why a message was not sent: outside the window, without an approved template.
pub const WINDOW_CLOSED: &str = "outside the 24-hour WhatsApp window, and its template names no approved WhatsApp template (whatsappContentSid)";

/// An approved template as an organization's template names it: the Content SID and the
/// MiniJinja source of each variable, `{{1}}` first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approved {
    pub content_sid: String,
    pub variables: Vec<String>,
}

impl Approved {
    /// The approved twin a template row names, if any.
    pub fn of(row: &message_templates::Model) -> Option<Self> {
        let content_sid = row.whatsapp_content_sid.clone()?;
        let variables = row
            .whatsapp_variables
            .as_deref()
            .and_then(|v| serde_json::from_str(v).ok())
            .unwrap_or_default();
        Some(Self {
            content_sid,
            variables,
        })
    }

    /// Checks what an admin gives: a Content SID (`HX` and 32 hex digits) and at most
    /// [`MAX_VARIABLES`] variables that parse. Returns the SID as stored and the variables as
    /// a JSON array.
    pub(crate) fn parse(content_sid: &str, variables: &[String]) -> DomainResult<(String, String)> {
        let sid = content_sid.trim();
        let valid = sid.len() == 34
            && sid.starts_with("HX")
            && sid[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if !valid {
            return Err(DomainError::validation(
                "input.whatsappContentSid",
                "must be a Twilio Content template SID: HX and 32 hexadecimal digits",
            ));
        }
        if variables.len() > MAX_VARIABLES {
            return Err(DomainError::validation(
                "input.whatsappVariables",
                format!("at most {MAX_VARIABLES} variables"),
            ));
        }
        for (i, source) in variables.iter().enumerate() {
            let field = format!("input.whatsappVariables.{i}");
            if source.trim().is_empty() || source.chars().count() > MAX_VARIABLE_CHARS {
                return Err(DomainError::validation(
                    field,
                    format!("must be 1 to {MAX_VARIABLE_CHARS} characters"),
                ));
            }
            templates::check_syntax(&field, source)?;
        }
        let json = serde_json::to_string(variables)
            .map_err(|e| DomainError::internal(format!("variables: {e}")))?;
        Ok((sid.to_owned(), json))
    }

    /// The variables for one message, rendered, as Twilio's `ContentVariables` takes them.
    pub(crate) fn render(&self, context: &serde_json::Value) -> DomainResult<Rendered> {
        let mut variables = serde_json::Map::new();
        for (i, source) in self.variables.iter().enumerate() {
            let value = templates::render(source, context)?;
            variables.insert((i + 1).to_string(), serde_json::Value::String(value));
        }
        Ok(Rendered {
            content_sid: self.content_sid.clone(),
            variables: serde_json::Value::Object(variables).to_string(),
        })
    }
}

/// An approved template filled in for one message.
#[derive(Clone, Debug)]
pub struct Rendered {
    pub content_sid: String,
    /// A JSON object: `{"1": "Ada", "2": "Saturday canvass"}`.
    pub variables: String,
}

/// Whether free text may go to `person` at `now`.
pub fn window_open(person: &people::Model, now: DateTime<Utc>) -> bool {
    person.whatsapp_window_ends_at.is_some_and(|end| end > now)
}

/// What a WhatsApp message is sent as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Form<'a> {
    /// The body, as free text (inside the window).
    Text,
    /// The approved template (outside it).
    Template {
        content_sid: &'a str,
        variables: &'a str,
    },
}

/// How `message` may go to `person` at `now`, or why it may not.
pub fn form<'a>(
    message: &'a messages::Model,
    person: Option<&people::Model>,
    now: DateTime<Utc>,
) -> Result<Form<'a>, &'static str> {
    if person.is_some_and(|p| window_open(p, now)) {
        return Ok(Form::Text);
    }
    match &message.content_sid {
        Some(sid) => Ok(Form::Template {
            content_sid: sid,
            variables: message.content_variables.as_deref().unwrap_or("{}"),
        }),
        None => Err(WINDOW_CLOSED),
    }
}

/// The person wrote to us on WhatsApp at `at`: their window runs a day from then.
pub(crate) async fn opened<C: ConnectionTrait>(
    conn: &C,
    person_id: Uuid,
    at: DateTime<Utc>,
) -> DomainResult<()> {
    people::Entity::update_many()
        .col_expr(
            people::Column::WhatsappWindowEndsAt,
            Expr::value(at + WINDOW),
        )
        .filter(people::Column::Id.eq(person_id))
        .exec(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SID: &str = "HX0123456789abcdef0123456789abcdef";

    #[test]
    fn content_sids_and_variables_are_checked() {
        let (sid, vars) = Approved::parse(SID, &["{{ person.first_name }}".into()]).unwrap();
        assert_eq!(sid, SID);
        assert_eq!(vars, r#"["{{ person.first_name }}"]"#);
        assert!(Approved::parse("MG0123456789abcdef0123456789abcdef", &[]).is_err());
        assert!(Approved::parse("HX123", &[]).is_err());
        assert!(Approved::parse(SID, &["{{ unclosed".into()]).is_err());
        assert!(Approved::parse(SID, &vec!["x".to_owned(); 11]).is_err());
    }

    #[test]
    fn variables_render_numbered_from_one() {
        let approved = Approved {
            content_sid: SID.into(),
            variables: vec!["{{ person.first_name }}".into(), "{{ event.title }}".into()],
        };
        let rendered = approved
            .render(&json!({ "person": { "first_name": "Ada" }, "event": { "title": "Canvass" } }))
            .unwrap();
        let vars: serde_json::Value = serde_json::from_str(&rendered.variables).unwrap();
        assert_eq!(vars, json!({ "1": "Ada", "2": "Canvass" }));
        assert!(approved.render(&json!({ "person": {} })).is_err());
    }
}
