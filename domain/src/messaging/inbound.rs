//! Texts from people: each is kept in the person's conversation (the inbox); STOP and its
//! synonyms withdraw consent, START gives it back, and C confirms the shift a reminder was for.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use turnout_entity::{organizations, people};
use uuid::Uuid;

use super::Channel;
use crate::audit::{self, RequestContext};
use crate::auth::OrgScope;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::outbox;
use crate::values::Phone;

/// A reply that changes consent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyword {
    /// STOP, UNSUBSCRIBE, CANCEL, END, QUIT: no more messages on this channel.
    OptOut,
    /// STOPALL: no more SMS and no more WhatsApp.
    OptOutAll,
    /// START, UNSTOP: messages on this channel again.
    OptIn,
}

/// What an inbound message did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboundOutcome {
    /// The keyword the message was, if any; other messages change no consent.
    pub keyword: Option<Keyword>,
    /// The people whose consent changed (everyone with that number in the organizations
    /// searched).
    pub people: Vec<Uuid>,
    /// The RSVPs a "C" confirmed.
    pub confirmed: Vec<Uuid>,
}

/// Whether `body` confirms a shift: C, Y, YES, CONFIRM or SÍ, the whole message in any case (the
/// reminder says "Reply C to confirm").
pub fn is_confirmation(body: &str) -> bool {
    matches!(
        body.trim()
            .trim_end_matches(['.', '!'])
            .to_uppercase()
            .as_str(),
        "C" | "Y" | "YES" | "CONFIRM" | "SI" | "SÍ"
    )
}

/// The keyword `body` is: the whole message, trimmed, in any case.
pub fn parse_keyword(body: &str) -> Option<Keyword> {
    match body.trim().to_ascii_uppercase().as_str() {
        "STOP" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" => Some(Keyword::OptOut),
        "STOPALL" => Some(Keyword::OptOutAll),
        "START" | "UNSTOP" => Some(Keyword::OptIn),
        _ => None,
    }
}

/// A text (SMS or WhatsApp) that reached one of our numbers.
#[derive(Clone, Copy, Debug)]
pub struct InboundText<'a> {
    /// The sender: E.164, or `whatsapp:+…`.
    pub from: &'a str,
    /// Our number it was sent to, if the provider says.
    pub to: Option<&'a str>,
    pub body: &'a str,
    /// `Sms` or `Whatsapp`.
    pub channel: Channel,
    /// The provider's id of the message (Twilio's MessageSid): a retried webhook is a no-op.
    pub provider_id: Option<&'a str>,
}

/// Handles a text from a person: it goes into the conversation of every person with the
/// sender's number (see [`super::inbox`]), and STOP/START change their consent. When
/// organizations send from the `to` number themselves (their own or a chapter's), only their
/// people are matched; otherwise it is the deployment's number, shared by every organization
/// that sets none, so a STOP reaches every person with that number in any organization. Each
/// consent change is audited and recorded as a `person.consent_changed` event. A number
/// nobody has becomes a new person (see [`newcomer`]) in the one organization the text was
/// for: the only one sending from the `to` number, or the only organization there is; when
/// several share the number, nobody can tell whose, and the text is dropped.
pub async fn handle_inbound(db: &Db, text: InboundText<'_>) -> DomainResult<InboundOutcome> {
    let channel = text.channel;
    if channel == Channel::Email {
        return Err(DomainError::validation(
            "channel",
            "inbound replies come by SMS or WhatsApp",
        ));
    }
    let keyword = parse_keyword(text.body);
    let raw = text.from.trim();
    let raw = raw.strip_prefix("whatsapp:").unwrap_or(raw);
    let phone = Phone::parse("from", raw, "US")?;
    let word = text.body.trim().to_ascii_uppercase();
    let source = format!("inbound:{}:{word}", channel.as_str());

    let tx = db.begin_write().await?;
    let ours = text.to.map(|to| {
        let to = to.trim();
        to.strip_prefix("whatsapp:").unwrap_or(to).to_owned()
    });
    let orgs = match ours.as_deref().filter(|to| to.starts_with('+')) {
        Some(to) => crate::organization::senders::organizations_sending_from(&tx, to).await?,
        None => Vec::new(),
    };
    let mut query = people::Entity::find().filter(people::Column::Phone.eq(phone.as_str()));
    if !orgs.is_empty() {
        query = query.filter(people::Column::OrganizationId.is_in(orgs.clone()));
    }
    let mut matches = query.all(&tx).await?;
    let now = Utc::now();
    // Someone new texting in (the number on a flyer, a reply to a forwarded text) becomes a
    // person, where it is clear whose: a keyword from a stranger changes nothing.
    if matches.is_empty()
        && keyword.is_none()
        && let Some(org_id) = newcomers_organization(&tx, &orgs, channel).await?
    {
        let chapter = match ours.as_deref() {
            Some(to) => crate::organization::senders::chapter_sending_from(&tx, org_id, to).await?,
            None => None,
        };
        matches.push(newcomer(&tx, org_id, chapter, phone.as_str(), channel, now).await?);
    }
    let mut changed = Vec::new();
    let mut texted = Vec::new();
    for person in matches {
        let kept = super::inbox::receive(
            &tx,
            &person,
            channel,
            phone.as_str(),
            ours.as_deref(),
            text.body,
            text.provider_id,
            keyword.map(|_| word.as_str()),
            now,
        )
        .await?;
        if kept.is_none() {
            // A webhook Twilio retried: what it does is done.
            continue;
        }
        texted.push(person.id);
        let Some(keyword) = keyword else {
            continue;
        };
        let (channels, consent): (&[Channel], bool) = match keyword {
            Keyword::OptOut => (std::slice::from_ref(&channel), false),
            Keyword::OptOutAll => (&[Channel::Sms, Channel::Whatsapp], false),
            Keyword::OptIn => (std::slice::from_ref(&channel), true),
        };
        let scope = OrgScope::system(person.organization_id);
        let person_id = person.id;
        let mut row: people::ActiveModel = person.into();
        let mut fields = Vec::new();
        for ch in channels {
            match ch {
                Channel::Sms => {
                    row.sms_consent = Set(consent);
                    row.sms_consent_at = Set(Some(now));
                    row.sms_consent_source = Set(Some(source.clone()));
                    fields.push("sms_consent");
                }
                Channel::Whatsapp => {
                    row.whatsapp_consent = Set(consent);
                    row.whatsapp_consent_at = Set(Some(now));
                    row.whatsapp_consent_source = Set(Some(source.clone()));
                    fields.push("whatsapp_consent");
                }
                Channel::Email => {}
            }
        }
        row.updated_at = Set(now);
        row.update(&tx).await?;
        audit::record(
            &tx,
            &scope,
            &RequestContext::default(),
            "person.consent_changed",
            "person",
            Some(person_id),
            &fields,
        )
        .await?;
        outbox::record(
            &tx,
            &scope,
            outbox::DomainEvent::PersonConsentChanged {
                person_id,
                channels: channels.iter().map(|c| c.as_str().to_owned()).collect(),
                consent,
                source: source.to_owned(),
            },
        )
        .await?;
        changed.push(person_id);
    }
    tx.commit().await?;
    if keyword.is_some() {
        tracing::info!(?keyword, people = changed.len(), "inbound consent keyword");
    }
    let mut confirmed = Vec::new();
    if is_confirmation(text.body) {
        for person_id in texted {
            if let Some(rsvp) = crate::events::rsvps::confirm_next_by_text(db, person_id).await? {
                confirmed.push(rsvp.id);
            }
        }
    }
    Ok(InboundOutcome {
        keyword,
        people: changed,
        confirmed,
    })
}

/// The organization a stranger's text is for, if only one can be: the one sending from the
/// number it reached, else (the deployment's number) the only active one that sends from the
/// deployment's number on this channel.
async fn newcomers_organization<C: ConnectionTrait>(
    conn: &C,
    sending_from: &[Uuid],
    channel: Channel,
) -> DomainResult<Option<Uuid>> {
    let own_number = match channel {
        Channel::Whatsapp => organizations::Column::WhatsappFrom,
        _ => organizations::Column::SmsFrom,
    };
    let candidates: Vec<Uuid> = match sending_from {
        [] => {
            organizations::Entity::find()
                .filter(organizations::Column::SuspendedAt.is_null())
                .filter(own_number.is_null())
                .select_only()
                .column(organizations::Column::Id)
                .limit(2)
                .into_tuple()
                .all(conn)
                .await?
        }
        [one] => {
            organizations::Entity::find_by_id(*one)
                .filter(organizations::Column::SuspendedAt.is_null())
                .select_only()
                .column(organizations::Column::Id)
                .into_tuple()
                .all(conn)
                .await?
        }
        _ => Vec::new(),
    };
    Ok(match candidates.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

/// A person who texted in first: their number, the chapter whose number they wrote to, and
/// consent to the channel they wrote on (they started the conversation; STOP ends it),
/// recorded as `inbound:sms` or `inbound:whatsapp`. Recorded as `person.created`, and audited
/// as the system's.
async fn newcomer<C: ConnectionTrait>(
    conn: &C,
    org_id: Uuid,
    chapter_id: Option<Uuid>,
    phone: &str,
    channel: Channel,
    now: chrono::DateTime<Utc>,
) -> DomainResult<people::Model> {
    let source = format!("inbound:{}", channel.as_str());
    let mut row = crate::person_write::blank(org_id, Uuid::now_v7(), now);
    row.phone = Set(Some(phone.to_owned()));
    row.chapter_id = Set(chapter_id);
    row.source = Set(Some(source.clone()));
    let consent = if channel == Channel::Whatsapp {
        row.whatsapp_consent = Set(true);
        row.whatsapp_consent_at = Set(Some(now));
        row.whatsapp_consent_source = Set(Some(source));
        "whatsapp_consent"
    } else {
        row.sms_consent = Set(true);
        row.sms_consent_at = Set(Some(now));
        row.sms_consent_source = Set(Some(source));
        "sms_consent"
    };
    let person = row.insert(conn).await?;
    let mut fields = vec!["phone", "source", consent];
    if chapter_id.is_some() {
        fields.push("chapter_id");
    }
    let scope = OrgScope::system(org_id);
    outbox::record(
        conn,
        &scope,
        outbox::DomainEvent::PersonCreated {
            person_id: person.id,
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        },
    )
    .await?;
    audit::record(
        conn,
        &scope,
        &RequestContext::default(),
        "person.create",
        "person",
        Some(person.id),
        &fields,
    )
    .await?;
    Ok(person)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_whole_messages_in_any_case() {
        assert_eq!(parse_keyword(" stop "), Some(Keyword::OptOut));
        assert_eq!(parse_keyword("Unsubscribe"), Some(Keyword::OptOut));
        assert_eq!(parse_keyword("QUIT"), Some(Keyword::OptOut));
        assert_eq!(parse_keyword("stopall"), Some(Keyword::OptOutAll));
        assert_eq!(parse_keyword("start"), Some(Keyword::OptIn));
        assert_eq!(parse_keyword("UNSTOP"), Some(Keyword::OptIn));
        assert_eq!(parse_keyword("please stop"), None);
        assert_eq!(parse_keyword("stop it"), None);
    }

    #[test]
    fn a_confirmation_is_the_whole_message() {
        for yes in ["c", " C ", "y", "Yes!", "confirm", "sí"] {
            assert!(is_confirmation(yes), "{yes}");
        }
        for no in ["cool", "yes but later", "no"] {
            assert!(!is_confirmation(no), "{no}");
        }
    }
}
