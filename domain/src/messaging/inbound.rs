//! Replies from people: STOP and its synonyms withdraw consent, START gives it back.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use turnout_entity::people;
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
    /// The keyword the message was, if any; other messages change nothing.
    pub keyword: Option<Keyword>,
    /// The people whose consent changed (everyone with that number in the organizations
    /// searched).
    pub people: Vec<Uuid>,
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

/// Handles a message from `from_phone` (E.164, or `whatsapp:+…`) received on `channel` (SMS or
/// WhatsApp). With `org`, only that organization's people are matched; without, every person
/// with that number in any organization (a number the deployment texts from is shared by its
/// organizations, so a STOP must reach all of them). Each consent change is audited and
/// recorded as a `person.consent_changed` event.
pub async fn handle_inbound(
    db: &Db,
    org: Option<Uuid>,
    from_phone: &str,
    body: &str,
    channel: Channel,
) -> DomainResult<InboundOutcome> {
    if channel == Channel::Email {
        return Err(DomainError::validation(
            "channel",
            "inbound replies come by SMS or WhatsApp",
        ));
    }
    let Some(keyword) = parse_keyword(body) else {
        return Ok(InboundOutcome {
            keyword: None,
            people: Vec::new(),
        });
    };
    let raw = from_phone.trim();
    let raw = raw.strip_prefix("whatsapp:").unwrap_or(raw);
    let phone = Phone::parse("from", raw, "US")?;
    let (channels, consent): (&[Channel], bool) = match keyword {
        Keyword::OptOut => (std::slice::from_ref(&channel), false),
        Keyword::OptOutAll => (&[Channel::Sms, Channel::Whatsapp], false),
        Keyword::OptIn => (std::slice::from_ref(&channel), true),
    };
    let word = body.trim().to_ascii_uppercase();
    let source = format!("inbound:{}:{word}", channel.as_str());

    let tx = db.begin_write().await?;
    let mut query = people::Entity::find().filter(people::Column::Phone.eq(phone.as_str()));
    if let Some(org) = org {
        query = query.filter(people::Column::OrganizationId.eq(org));
    }
    let matches = query.all(&tx).await?;
    let now = Utc::now();
    let mut changed = Vec::new();
    for person in matches {
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
    tracing::info!(?keyword, people = changed.len(), "inbound consent keyword");
    Ok(InboundOutcome {
        keyword: Some(keyword),
        people: changed,
    })
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
}
