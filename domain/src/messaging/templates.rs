//! Message templates: the built-in wording of each template in English and Spanish, an
//! organization's overrides (`message_templates`), and rendering with MiniJinja.
//!
//! Rendering is strict: a variable the template uses but the context lacks is a validation
//! error naming the variable, never an empty gap in a message someone receives.

use std::collections::BTreeSet;

use chrono::Utc;
use minijinja::{Environment, UndefinedBehavior};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use turnout_entity::message_templates;
use uuid::Uuid;

use super::Channel;
use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};

/// The language used when neither the person's nor any better one has a template.
pub const DEFAULT_LANGUAGE: &str = "en";

/// The keys of the built-in templates.
pub const TEMPLATE_KEYS: &[&str] = &[
    "rsvp_confirmation",
    "shift_reminder",
    "shift_missed",
    "shift_thanks",
    "shift_changed",
    "welcome",
];

/// One built-in template in one language.
struct Builtin {
    key: &'static str,
    language: &'static str,
    subject: &'static str,
    /// The email body.
    email: &'static str,
    /// The SMS and WhatsApp body (short).
    text: &'static str,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        key: "rsvp_confirmation",
        language: "en",
        subject: "You're signed up: {{ event.title }}",
        email: "Hi{% if person.first_name %} {{ person.first_name }}{% endif %},\n\nThanks for signing up for {{ event.title }} on {{ shift.starts_at_local }}.{% if event.location %}\nWhere: {{ event.location }}{% endif %}\n\nThe attached invitation adds it to your calendar. To confirm, cancel or change your shift: {{ rsvp_url }}\n\n{{ org.name }}",
        text: "{{ org.name }}: you're signed up for {{ event.title }} on {{ shift.starts_at_local }}. Change or cancel: {{ rsvp_url }}",
    },
    Builtin {
        key: "rsvp_confirmation",
        language: "es",
        subject: "Estás inscrito: {{ event.title }}",
        email: "Hola{% if person.first_name %} {{ person.first_name }}{% endif %}:\n\nGracias por inscribirte en {{ event.title }} el {{ shift.starts_at_local }}.{% if event.location %}\nDónde: {{ event.location }}{% endif %}\n\nLa invitación adjunta lo añade a tu calendario. Para confirmar, cancelar o cambiar de turno: {{ rsvp_url }}\n\n{{ org.name }}",
        text: "{{ org.name }}: estás inscrito en {{ event.title }} el {{ shift.starts_at_local }}. Cambiar o cancelar: {{ rsvp_url }}",
    },
    Builtin {
        key: "shift_reminder",
        language: "en",
        subject: "Reminder: {{ event.title }} on {{ shift.starts_at_local }}",
        email: "Hi{% if person.first_name %} {{ person.first_name }}{% endif %},\n\nA reminder that {{ event.title }} starts {{ shift.starts_at_local }}.{% if event.location %}\nWhere: {{ event.location }}{% endif %}\n\nCan't make it? Let us know: {{ rsvp_url }}\n\nSee you there!\n{{ org.name }}",
        text: "{{ org.name }}: reminder, {{ event.title }} starts {{ shift.starts_at_local }}. Reply C to confirm. Can't make it? {{ rsvp_url }}",
    },
    Builtin {
        key: "shift_reminder",
        language: "es",
        subject: "Recordatorio: {{ event.title }} el {{ shift.starts_at_local }}",
        email: "Hola{% if person.first_name %} {{ person.first_name }}{% endif %}:\n\nTe recordamos que {{ event.title }} empieza el {{ shift.starts_at_local }}.{% if event.location %}\nDónde: {{ event.location }}{% endif %}\n\n¿No puedes ir? Avísanos: {{ rsvp_url }}\n\n¡Nos vemos allí!\n{{ org.name }}",
        text: "{{ org.name }}: recordatorio, {{ event.title }} empieza el {{ shift.starts_at_local }}. Responde C para confirmar. ¿No puedes ir? {{ rsvp_url }}",
    },
    Builtin {
        key: "shift_changed",
        language: "en",
        subject: "{% if cancelled %}Cancelled{% else %}Changed{% endif %}: {{ event.title }}",
        email: "Hi{% if person.first_name %} {{ person.first_name }}{% endif %},\n\n{% if cancelled %}{{ event.title }} on {{ shift.starts_at_local }} is cancelled. We're sorry; the attached update takes it off your calendar.{% else %}{{ event.title }} has changed: it is now {{ shift.starts_at_local }}{% if event.location %} at {{ event.location }}{% endif %}. The attached invitation updates your calendar.{% endif %}\n\nYour RSVP: {{ rsvp_url }}\n\n{{ org.name }}",
        text: "{{ org.name }}: {% if cancelled %}{{ event.title }} on {{ shift.starts_at_local }} is cancelled.{% else %}{{ event.title }} has changed: now {{ shift.starts_at_local }}{% if event.location %} at {{ event.location }}{% endif %}.{% endif %} {{ rsvp_url }}",
    },
    Builtin {
        key: "shift_changed",
        language: "es",
        subject: "{% if cancelled %}Cancelado{% else %}Cambio{% endif %}: {{ event.title }}",
        email: "Hola{% if person.first_name %} {{ person.first_name }}{% endif %}:\n\n{% if cancelled %}{{ event.title }} el {{ shift.starts_at_local }} se ha cancelado. Lo sentimos; la actualización adjunta lo quita de tu calendario.{% else %}{{ event.title }} ha cambiado: ahora es el {{ shift.starts_at_local }}{% if event.location %} en {{ event.location }}{% endif %}. La invitación adjunta actualiza tu calendario.{% endif %}\n\nTu inscripción: {{ rsvp_url }}\n\n{{ org.name }}",
        text: "{{ org.name }}: {% if cancelled %}{{ event.title }} el {{ shift.starts_at_local }} se ha cancelado.{% else %}{{ event.title }} ha cambiado: ahora el {{ shift.starts_at_local }}{% if event.location %} en {{ event.location }}{% endif %}.{% endif %} {{ rsvp_url }}",
    },
    Builtin {
        key: "shift_missed",
        language: "en",
        subject: "We missed you at {{ event.title }}",
        email: "Hi{% if person.first_name %} {{ person.first_name }}{% endif %},\n\nWe missed you at {{ event.title }}. Everything OK? There are more ways to help, and we'd love to see you at the next one.\n\n{{ org.name }}",
        text: "{{ org.name }}: we missed you at {{ event.title }}. Everything OK? We'd love to see you next time.",
    },
    Builtin {
        key: "shift_missed",
        language: "es",
        subject: "Te echamos de menos en {{ event.title }}",
        email: "Hola{% if person.first_name %} {{ person.first_name }}{% endif %}:\n\nTe echamos de menos en {{ event.title }}. ¿Todo bien? Hay más formas de ayudar y nos encantaría verte en la próxima.\n\n{{ org.name }}",
        text: "{{ org.name }}: te echamos de menos en {{ event.title }}. ¿Todo bien? Nos encantaría verte la próxima vez.",
    },
    Builtin {
        key: "shift_thanks",
        language: "en",
        subject: "Thank you for coming to {{ event.title }}",
        email: "Hi{% if person.first_name %} {{ person.first_name }}{% endif %},\n\nThank you for showing up for {{ event.title }}. It made a difference, and we hope to see you again.\n\nWhat's next: {{ events_url }}\n\n{{ org.name }}",
        text: "{{ org.name }}: thank you for coming to {{ event.title }}! What's next: {{ events_url }}",
    },
    Builtin {
        key: "shift_thanks",
        language: "es",
        subject: "Gracias por venir a {{ event.title }}",
        email: "Hola{% if person.first_name %} {{ person.first_name }}{% endif %}:\n\nGracias por participar en {{ event.title }}. Marcó la diferencia y esperamos verte de nuevo.\n\nLo próximo: {{ events_url }}\n\n{{ org.name }}",
        text: "{{ org.name }}: ¡gracias por venir a {{ event.title }}! Lo próximo: {{ events_url }}",
    },
    Builtin {
        key: "welcome",
        language: "en",
        subject: "Welcome to {{ org.name }}",
        email: "Hi{% if person.first_name %} {{ person.first_name }}{% endif %},\n\nWelcome to {{ org.name }}! Thanks for joining. We'll be in touch soon about ways to get involved.\n\n{{ org.name }}",
        text: "Welcome to {{ org.name }}{% if person.first_name %}, {{ person.first_name }}{% endif %}! Thanks for joining.",
    },
    Builtin {
        key: "welcome",
        language: "es",
        subject: "Bienvenido a {{ org.name }}",
        email: "Hola{% if person.first_name %} {{ person.first_name }}{% endif %}:\n\n¡Bienvenido a {{ org.name }}! Gracias por unirte. Pronto te contaremos cómo participar.\n\n{{ org.name }}",
        text: "¡Bienvenido a {{ org.name }}{% if person.first_name %}, {{ person.first_name }}{% endif %}! Gracias por unirte.",
    },
];

/// A template's source for one channel and language: where it came from, and its text.
#[derive(Clone, Debug)]
pub(crate) struct Source {
    pub language: String,
    pub subject: Option<String>,
    pub body: String,
    /// WhatsApp: the approved template sent outside the 24-hour window (an organization's
    /// own wording only; the built-ins have none).
    pub approved: Option<super::whatsapp::Approved>,
}

/// The languages to try, best first: the person's (`es-MX`), its primary subtag (`es`), the
/// organization's (and its primary subtag), English.
pub(crate) fn language_chain(preferred: Option<&str>, org_language: &str) -> Vec<String> {
    let mut chain: Vec<String> = Vec::new();
    for tag in [preferred, Some(org_language)]
        .into_iter()
        .flatten()
        .map(|p| p.trim().to_lowercase().replace('_', "-"))
        .filter(|p| !p.is_empty())
    {
        chain.push(tag.clone());
        if let Some((primary, _)) = tag.split_once('-') {
            chain.push(primary.to_owned());
        }
    }
    chain.push(DEFAULT_LANGUAGE.to_owned());
    let mut seen = BTreeSet::new();
    chain.retain(|l| seen.insert(l.clone()));
    chain
}

/// Finds the template `key` for `channel`: per language in `languages`, the organization's
/// override first, then the built-in.
pub(crate) async fn find<C: ConnectionTrait>(
    conn: &C,
    org_id: Uuid,
    key: &str,
    channel: Channel,
    languages: &[String],
) -> DomainResult<Source> {
    if !TEMPLATE_KEYS.contains(&key) {
        let overrides = message_templates::Entity::find()
            .filter(message_templates::Column::OrganizationId.eq(org_id))
            .filter(message_templates::Column::Key.eq(key))
            .one(conn)
            .await?;
        if overrides.is_none() {
            return Err(DomainError::validation(
                "content.key",
                format!("there is no message template `{key}`"),
            ));
        }
    }
    let overrides = message_templates::Entity::find()
        .filter(message_templates::Column::OrganizationId.eq(org_id))
        .filter(message_templates::Column::Key.eq(key))
        .filter(message_templates::Column::Channel.eq(channel.as_str()))
        .all(conn)
        .await?;
    for language in languages {
        if let Some(o) = overrides.iter().find(|o| &o.language == language) {
            return Ok(Source {
                language: language.clone(),
                subject: o.subject.clone(),
                body: o.body.clone(),
                approved: super::whatsapp::Approved::of(o),
            });
        }
        if let Some(b) = BUILTINS
            .iter()
            .find(|b| b.key == key && b.language == language)
        {
            return Ok(builtin_source(b, channel));
        }
    }
    Err(DomainError::validation(
        "content.key",
        format!(
            "the message template `{key}` has no {} version in {}",
            channel.as_str(),
            languages.join(", ")
        ),
    ))
}

fn builtin_source(b: &Builtin, channel: Channel) -> Source {
    match channel {
        Channel::Email => Source {
            language: b.language.to_owned(),
            subject: Some(b.subject.to_owned()),
            body: b.email.to_owned(),
            approved: None,
        },
        Channel::Sms | Channel::Whatsapp => Source {
            language: b.language.to_owned(),
            subject: None,
            body: b.text.to_owned(),
            approved: None,
        },
    }
}

/// Renders `source` with `context`. Every variable the template uses must be in the context;
/// a missing one is a validation error naming it.
pub fn render(source: &str, context: &serde_json::Value) -> DomainResult<String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    let invalid = |err: minijinja::Error| {
        DomainError::validation("content", format!("the template is not valid: {err}"))
    };
    let template = env.template_from_str(source).map_err(invalid)?;
    let missing: Vec<String> = template
        .undeclared_variables(true)
        .into_iter()
        .filter(|path| !has_path(context, path))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !missing.is_empty() {
        return Err(DomainError::validation(
            "content.vars",
            format!(
                "the template needs variables that were not given: {}",
                missing.join(", ")
            ),
        ));
    }
    template.render(context).map_err(|err| {
        DomainError::validation("content.vars", format!("the template cannot render: {err}"))
    })
}

/// True when the dotted `path` (`event.title`) names a value (null included) in `value`.
fn has_path(value: &serde_json::Value, path: &str) -> bool {
    let mut cur = value;
    for part in path.split('.') {
        match cur.get(part) {
            Some(next) => cur = next,
            None => return false,
        }
    }
    true
}

/// An organization's wording of a template for one channel and language.
#[derive(Clone, Debug)]
pub struct TemplateInput {
    pub key: String,
    pub channel: Channel,
    /// A language tag (`es`, `pt-br`); stored lowercase.
    pub language: String,
    /// Email only.
    pub subject: Option<String>,
    pub body: String,
    /// WhatsApp only: the approved Twilio Content template sent outside the 24-hour window,
    /// and the MiniJinja source of each of its variables (`{{1}}` first).
    pub whatsapp_content_sid: Option<String>,
    pub whatsapp_variables: Vec<String>,
}

/// The organization's template overrides, by key, channel and language. Needs `admin`.
pub async fn list_templates(
    db: &Db,
    scope: &Can<perm::Admin>,
) -> DomainResult<Vec<message_templates::Model>> {
    Ok(message_templates::Entity::find()
        .filter(message_templates::Column::OrganizationId.eq(scope.org_id()))
        .order_by_asc(message_templates::Column::Key)
        .order_by_asc(message_templates::Column::Channel)
        .order_by_asc(message_templates::Column::Language)
        .all(db.conn())
        .await?)
}

/// Creates or replaces the organization's wording of template `key` for a channel and
/// language. The template must parse; variables are checked when a message is queued. Needs
/// `admin`.
pub async fn upsert_template(
    db: &Db,
    scope: &Can<perm::Admin>,
    ctx: &RequestContext,
    input: TemplateInput,
) -> DomainResult<message_templates::Model> {
    let key = input.key.trim().to_owned();
    if key.is_empty()
        || key.len() > 64
        || !key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(DomainError::validation(
            "input.key",
            "must be 1 to 64 lowercase letters, digits or underscores",
        ));
    }
    let language = input.language.trim().to_lowercase().replace('_', "-");
    let valid_language = {
        let mut parts = language.split('-');
        let primary_ok = parts.next().is_some_and(|p| {
            (2..=3).contains(&p.len()) && p.chars().all(|c| c.is_ascii_lowercase())
        });
        primary_ok
            && parts
                .all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
    };
    if !valid_language {
        return Err(DomainError::validation(
            "input.language",
            "must be a language tag such as `es` or `pt-br`",
        ));
    }
    let subject = match input.channel {
        Channel::Email => Some(crate::values::required_text(
            "input.subject",
            input.subject.as_deref(),
            300,
        )?),
        _ => None,
    };
    let body = input.body.trim().to_owned();
    if body.is_empty() || body.chars().count() > 10_000 {
        return Err(DomainError::validation(
            "input.body",
            "must be 1 to 10000 characters",
        ));
    }
    for (field, source) in [
        ("input.subject", subject.as_deref()),
        ("input.body", Some(&body)),
    ] {
        if let Some(source) = source {
            check_syntax(field, source)?;
        }
    }
    let approved = match (&input.whatsapp_content_sid, input.channel) {
        (Some(sid), Channel::Whatsapp) => Some(super::whatsapp::Approved::parse(
            sid,
            &input.whatsapp_variables,
        )?),
        (Some(_), _) => {
            return Err(DomainError::validation(
                "input.whatsappContentSid",
                "is for WhatsApp templates only",
            ));
        }
        (None, _) if !input.whatsapp_variables.is_empty() => {
            return Err(DomainError::validation(
                "input.whatsappVariables",
                "need the approved template they fill in (whatsappContentSid)",
            ));
        }
        (None, _) => None,
    };
    let (content_sid, variables) = approved.unzip();
    let tx = db.begin_write().await?;
    let now = Utc::now();
    let existing = message_templates::Entity::find()
        .filter(message_templates::Column::OrganizationId.eq(scope.org_id()))
        .filter(message_templates::Column::Key.eq(key.as_str()))
        .filter(message_templates::Column::Channel.eq(input.channel.as_str()))
        .filter(message_templates::Column::Language.eq(language.as_str()))
        .one(&tx)
        .await?;
    let saved = match existing {
        Some(row) => {
            let mut row: message_templates::ActiveModel = row.into();
            row.subject = Set(subject);
            row.body = Set(body);
            row.whatsapp_content_sid = Set(content_sid);
            row.whatsapp_variables = Set(variables);
            row.updated_at = Set(now);
            row.update(&tx).await?
        }
        None => {
            message_templates::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(scope.org_id()),
                key: Set(key),
                channel: Set(input.channel.as_str().to_owned()),
                language: Set(language),
                subject: Set(subject),
                body: Set(body),
                whatsapp_content_sid: Set(content_sid),
                whatsapp_variables: Set(variables),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&tx)
            .await?
        }
    };
    audit::record(
        &tx,
        scope,
        ctx,
        "message_template.upsert",
        "message_template",
        Some(saved.id),
        &[
            "key",
            "channel",
            "language",
            "subject",
            "body",
            "whatsapp_content_sid",
            "whatsapp_variables",
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(saved)
}

/// A validation error when `source` is not a valid template.
pub(crate) fn check_syntax(field: &str, source: &str) -> DomainResult<()> {
    let env = Environment::new();
    env.template_from_str(source)
        .map(|_| ())
        .map_err(|err| DomainError::validation(field, format!("is not a valid template: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn languages_fall_back_to_the_primary_subtag_then_english() {
        assert_eq!(language_chain(Some("es-MX"), "en"), ["es-mx", "es", "en"]);
        assert_eq!(language_chain(Some("EN"), "en"), ["en"]);
        assert_eq!(language_chain(None, "en"), ["en"]);
        // Without a language of their own, a person reads the organization's.
        assert_eq!(language_chain(None, "es"), ["es", "en"]);
        assert_eq!(
            language_chain(Some("pt-BR"), "es"),
            ["pt-br", "pt", "es", "en"]
        );
    }

    #[test]
    fn missing_variables_are_named() {
        let err = render(
            "Hi {{ person.first_name }} at {{ event.title }}",
            &json!({"person": {"first_name": "Ada"}}),
        )
        .unwrap_err();
        assert!(err.to_string().contains("event.title"), "{err}");
        assert_eq!(
            render(
                "Hi {{ person.first_name }}",
                &json!({"person": {"first_name": "Ada"}})
            )
            .unwrap(),
            "Hi Ada"
        );
        assert!(render("{% if %}", &json!({})).is_err());
    }

    #[test]
    fn every_builtin_has_english_and_spanish() {
        for key in TEMPLATE_KEYS {
            for lang in ["en", "es"] {
                assert!(
                    BUILTINS.iter().any(|b| b.key == *key && b.language == lang),
                    "{key} {lang}"
                );
            }
        }
    }
}
