//! Who a message comes from: the email From address and the SMS and WhatsApp numbers of an
//! organization, and optionally of a chapter (a region's apply to the chapters inside it).
//! A message to a person of a chapter comes from the nearest chapter (up through its regions)
//! that sets one, else the organization's, else the deployment's (`TURNOUT_EMAIL_FROM`,
//! `TURNOUT_TWILIO_SMS_FROM`, `TURNOUT_TWILIO_WHATSAPP_FROM`). The provider account is the
//! deployment's: each number must belong to its Twilio account, each address be one its SMTP
//! relay may send as.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::error::{DomainError, DomainResult, Problems, Reason};
use crate::messaging::Channel;
use crate::values::{Email, Phone};
use turnout_entity::{chapters, organizations};

/// The longest display name of a From address.
const MAX_NAME_CHARS: usize = 100;

/// The senders one organization or chapter sets; `None` falls back to the next one out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Senders {
    /// `Name <address>` or a bare address.
    pub email_from: Option<String>,
    /// E.164.
    pub sms_from: Option<String>,
    /// E.164, without `whatsapp:`.
    pub whatsapp_from: Option<String>,
}

impl Senders {
    pub fn of_organization(org: &organizations::Model) -> Self {
        Self {
            email_from: org.email_from.clone(),
            sms_from: org.sms_from.clone(),
            whatsapp_from: org.whatsapp_from.clone(),
        }
    }

    pub fn of_chapter(chapter: &chapters::Model) -> Self {
        Self {
            email_from: chapter.email_from.clone(),
            sms_from: chapter.sms_from.clone(),
            whatsapp_from: chapter.whatsapp_from.clone(),
        }
    }

    fn for_channel(&self, channel: Channel) -> Option<&str> {
        match channel {
            Channel::Email => self.email_from.as_deref(),
            Channel::Sms => self.sms_from.as_deref(),
            Channel::Whatsapp => self.whatsapp_from.as_deref(),
        }
    }
}

/// A change of senders: `None` leaves one as it is, `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct SendersChanges {
    pub email_from: Option<Option<String>>,
    pub sms_from: Option<Option<String>>,
    pub whatsapp_from: Option<Option<String>>,
}

impl SendersChanges {
    pub fn is_empty(&self) -> bool {
        self.email_from.is_none() && self.sms_from.is_none() && self.whatsapp_from.is_none()
    }

    /// The changes, each value checked and normalized; every refused one goes to `problems`
    /// under `{prefix}emailFrom` and so on. Numbers typed without `+` are `region`'s.
    pub(crate) fn validate(
        self,
        problems: &mut Problems,
        prefix: &str,
        region: &str,
    ) -> DomainResult<SendersChanges> {
        let email_field = format!("{prefix}emailFrom");
        let email_from = match self.email_from {
            Some(Some(raw)) => problems
                .take(parse_email_from(&email_field, &raw))?
                .map(Some),
            other => other,
        };
        let number = |field: String, raw: Option<Option<String>>, problems: &mut Problems| match raw
        {
            Some(Some(raw)) => problems
                .take(Phone::parse(&field, &raw, region).map(|p| p.as_str().to_owned()))
                .map(|p| p.map(Some)),
            other => Ok(other),
        };
        let sms_from = number(format!("{prefix}smsFrom"), self.sms_from, problems)?;
        let whatsapp_from = number(
            format!("{prefix}whatsappFrom"),
            self.whatsapp_from,
            problems,
        )?;
        Ok(SendersChanges {
            email_from,
            sms_from,
            whatsapp_from,
        })
    }

    /// `senders` with the changes applied, and the columns that changed (for the audit log).
    pub(crate) fn apply(self, senders: &mut Senders) -> Vec<&'static str> {
        let mut fields = Vec::new();
        for (change, slot, column) in [
            (self.email_from, &mut senders.email_from, "email_from"),
            (self.sms_from, &mut senders.sms_from, "sms_from"),
            (
                self.whatsapp_from,
                &mut senders.whatsapp_from,
                "whatsapp_from",
            ),
        ] {
            if let Some(value) = change {
                if *slot != value {
                    fields.push(column);
                }
                *slot = value;
            }
        }
        fields
    }
}

/// `hello@example.org` or `Campaign HQ <hello@example.org>`, normalized to the address alone
/// or `Name <address>`. The name may not hold line breaks, quotes or angle brackets, so it
/// cannot smuggle a header.
fn parse_email_from(field: &str, raw: &str) -> DomainResult<String> {
    let raw = raw.trim();
    let bad = |message: &str| DomainError::invalid(field, Reason::Invalid, message);
    let (name, address) = match raw.strip_suffix('>').and_then(|r| r.rsplit_once('<')) {
        Some((name, address)) => (name.trim(), address),
        None => ("", raw),
    };
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(bad("has a name longer than 100 characters"));
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, '<' | '>' | '"' | '\\'))
    {
        return Err(bad(
            "must be an address, or a name and an address as `Campaign <hello@example.org>`",
        ));
    }
    let email = Email::parse(field, address)?;
    Ok(if name.is_empty() {
        email.as_str().to_owned()
    } else {
        format!("{name} <{}>", email.as_str())
    })
}

/// The senders of an organization and its chapters, to resolve a message's From.
#[derive(Clone, Debug, Default)]
pub struct SenderBook {
    organization: Senders,
    /// Each chapter's own senders and the chapter it is inside.
    chapters: HashMap<Uuid, (Senders, Option<Uuid>)>,
}

impl SenderBook {
    pub fn new(organization: Senders) -> Self {
        Self {
            organization,
            chapters: HashMap::new(),
        }
    }

    pub fn add_chapter(&mut self, id: Uuid, parent: Option<Uuid>, senders: Senders) {
        self.chapters.insert(id, (senders, parent));
    }

    /// Who a message on `channel` to a person of `chapter` comes from; `None`: the
    /// deployment's sender. The walk up the regions stops at a cycle, which the domain never
    /// writes but a hand-edited database could hold.
    pub fn from_for(&self, channel: Channel, chapter: Option<Uuid>) -> Option<String> {
        let mut next = chapter;
        let mut steps = 0;
        while let Some(id) = next {
            let Some((senders, parent)) = self.chapters.get(&id) else {
                break;
            };
            if let Some(from) = senders.for_channel(channel) {
                return Some(from.to_owned());
            }
            steps += 1;
            if steps > self.chapters.len() {
                break;
            }
            next = *parent;
        }
        self.organization.for_channel(channel).map(str::to_owned)
    }
}

/// The sender book of organization `org`: its own senders, and its chapters' when a message
/// goes to a person of a chapter (`with_chapters`): one statement then, none otherwise.
pub async fn book<C: ConnectionTrait>(
    conn: &C,
    org: &organizations::Model,
    with_chapters: bool,
) -> DomainResult<SenderBook> {
    let mut book = SenderBook::new(Senders::of_organization(org));
    if with_chapters {
        let rows: Vec<ChapterSenders> = chapters::Entity::find()
            .filter(chapters::Column::OrganizationId.eq(org.id))
            .select_only()
            .column(chapters::Column::Id)
            .column(chapters::Column::ParentId)
            .column(chapters::Column::EmailFrom)
            .column(chapters::Column::SmsFrom)
            .column(chapters::Column::WhatsappFrom)
            .into_tuple()
            .all(conn)
            .await?;
        for (id, parent, email_from, sms_from, whatsapp_from) in rows {
            let senders = Senders {
                email_from,
                sms_from,
                whatsapp_from,
            };
            book.add_chapter(id, parent, senders);
        }
    }
    Ok(book)
}

type ChapterSenders = (
    Uuid,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The organizations that send from `number` (E.164) themselves or through a chapter: two
/// statements. Empty when none does, so the number is the deployment's, shared by all.
pub async fn organizations_sending_from<C: ConnectionTrait>(
    conn: &C,
    number: &str,
) -> DomainResult<Vec<Uuid>> {
    let mut ids: Vec<Uuid> = organizations::Entity::find()
        .filter(
            Condition::any()
                .add(organizations::Column::SmsFrom.eq(number))
                .add(organizations::Column::WhatsappFrom.eq(number)),
        )
        .select_only()
        .column(organizations::Column::Id)
        .into_tuple()
        .all(conn)
        .await?;
    let through_chapters: Vec<Uuid> = chapters::Entity::find()
        .filter(
            Condition::any()
                .add(chapters::Column::SmsFrom.eq(number))
                .add(chapters::Column::WhatsappFrom.eq(number)),
        )
        .select_only()
        .column(chapters::Column::OrganizationId)
        .into_tuple()
        .all(conn)
        .await?;
    ids.extend(through_chapters);
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// The open chapter of `org_id` that sends from `number` itself, if exactly one does (a
/// stranger who texts a chapter's number is that chapter's; two sharing it say nothing).
pub(crate) async fn chapter_sending_from<C: ConnectionTrait>(
    conn: &C,
    org_id: Uuid,
    number: &str,
) -> DomainResult<Option<Uuid>> {
    let found: Vec<Uuid> = chapters::Entity::find()
        .filter(chapters::Column::OrganizationId.eq(org_id))
        .filter(chapters::Column::ArchivedAt.is_null())
        .filter(
            Condition::any()
                .add(chapters::Column::SmsFrom.eq(number))
                .add(chapters::Column::WhatsappFrom.eq(number)),
        )
        .select_only()
        .column(chapters::Column::Id)
        .limit(2)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_addresses_are_normalized_and_headers_cannot_be_smuggled() {
        let ok = |raw: &str| parse_email_from("f", raw).unwrap();
        assert_eq!(ok(" Hello@Example.ORG "), "hello@example.org");
        assert_eq!(
            ok("Campaign HQ <HQ@example.org>"),
            "Campaign HQ <hq@example.org>"
        );
        for bad in [
            "nope",
            "Evil\r\nBcc: x@y.z <a@example.org>",
            "\"Quoted\" <a@example.org>",
            "A <not an address>",
        ] {
            assert!(parse_email_from("f", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_nearest_chapter_that_sets_a_sender_wins() {
        let (region, chapter, other) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let mut book = SenderBook::new(Senders {
            email_from: Some("org@example.org".into()),
            sms_from: Some("+15550000001".into()),
            whatsapp_from: None,
        });
        book.add_chapter(
            region,
            None,
            Senders {
                sms_from: Some("+15550000002".into()),
                ..Senders::default()
            },
        );
        book.add_chapter(
            chapter,
            Some(region),
            Senders {
                email_from: Some("chapter@example.org".into()),
                ..Senders::default()
            },
        );
        let from = |channel, at| book.from_for(channel, at);
        assert_eq!(
            from(Channel::Email, Some(chapter)).as_deref(),
            Some("chapter@example.org")
        );
        assert_eq!(
            from(Channel::Sms, Some(chapter)).as_deref(),
            Some("+15550000002")
        );
        assert_eq!(
            from(Channel::Sms, Some(other)).as_deref(),
            Some("+15550000001")
        );
        assert_eq!(
            from(Channel::Email, None).as_deref(),
            Some("org@example.org")
        );
        assert_eq!(from(Channel::Whatsapp, Some(chapter)), None);
    }

    #[test]
    fn a_cycle_in_the_regions_ends_the_walk() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let mut book = SenderBook::new(Senders::default());
        book.add_chapter(a, Some(b), Senders::default());
        book.add_chapter(b, Some(a), Senders::default());
        assert_eq!(book.from_for(Channel::Sms, Some(a)), None);
    }
}
