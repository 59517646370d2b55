//! Relay global object IDs: `base64url("Person:<uuid>")`. A client treats them as opaque; the
//! server learns from one both the type and the row. Cursors are the 16 bytes of a row's id.

use async_graphql::ID;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use turnout_domain::events::listing::PublicEventCursor;
use turnout_domain::people::PersonCursor;
use uuid::Uuid;

use crate::error::invalid;

/// The types that implement `Node`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeType {
    Person,
    Tag,
    Form,
    Event,
    Shift,
    Rsvp,
    Segment,
    Note,
    Task,
    CustomField,
}

impl NodeType {
    fn as_str(self) -> &'static str {
        match self {
            NodeType::Person => "Person",
            NodeType::Tag => "Tag",
            NodeType::Form => "Form",
            NodeType::Event => "Event",
            NodeType::Shift => "Shift",
            NodeType::Rsvp => "Rsvp",
            NodeType::Segment => "Segment",
            NodeType::Note => "Note",
            NodeType::Task => "Task",
            NodeType::CustomField => "CustomField",
        }
    }

    const ALL: [NodeType; 10] = [
        NodeType::Person,
        NodeType::Tag,
        NodeType::Form,
        NodeType::Event,
        NodeType::Shift,
        NodeType::Rsvp,
        NodeType::Segment,
        NodeType::Note,
        NodeType::Task,
        NodeType::CustomField,
    ];

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// An id that is a plain UUID (chapters, users, automations, plugins, keys, webhook endpoints):
/// the one parser, with the one message.
pub fn parse_uuid(field: &str, id: &ID) -> async_graphql::Result<Uuid> {
    Uuid::parse_str(id.as_str()).map_err(|_| invalid(field, "is not a valid ID (a UUID)"))
}

/// The longest type name (`CustomField`), the colon and a hyphenated uuid; the test below
/// checks every type fits.
const MAX_RAW_ID: usize = 11 + 1 + uuid::fmt::Hyphenated::LENGTH;

/// `base64url("<Type>:<uuid>")`. Called for every object of every response, so the raw text is
/// assembled on the stack and the ID is the only allocation.
pub fn global_id(ty: NodeType, id: Uuid) -> ID {
    let name = ty.as_str().as_bytes();
    let mut raw = [0u8; MAX_RAW_ID];
    raw[..name.len()].copy_from_slice(name);
    raw[name.len()] = b':';
    let end = name.len() + 1 + uuid::fmt::Hyphenated::LENGTH;
    id.hyphenated().encode_lower(&mut raw[name.len() + 1..end]);
    ID(URL_SAFE_NO_PAD.encode(&raw[..end]))
}

/// Decodes any global ID. `field` names the argument in the error.
pub fn decode_global_id(field: &str, id: &ID) -> async_graphql::Result<(NodeType, Uuid)> {
    let bad = || invalid(field, "is not a valid ID");
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).map_err(|_| bad())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
    let (ty, uuid) = text.split_once(':').ok_or_else(bad)?;
    let ty = NodeType::parse(ty).ok_or_else(bad)?;
    let uuid = Uuid::parse_str(uuid).map_err(|_| bad())?;
    Ok((ty, uuid))
}

/// Decodes a global ID that must be of type `expected`.
pub fn decode_id_of(field: &str, expected: NodeType, id: &ID) -> async_graphql::Result<Uuid> {
    match decode_global_id(field, id)? {
        (ty, uuid) if ty == expected => Ok(uuid),
        _ => Err(invalid(
            field,
            &format!("is not the ID of a {}", expected.as_str()),
        )),
    }
}

pub fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

pub fn decode_cursor(field: &str, cursor: &str) -> async_graphql::Result<Uuid> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid(field, "is not a valid cursor"))?;
    Uuid::from_slice(&bytes).map_err(|_| invalid(field, "is not a valid cursor"))
}

/// The cursor of a person in a sort order: `c|<RFC 3339 instant>|<uuid>` (created) or
/// `n|<last name>|<uuid>` (last name), base64url. The uuid is the fixed-length tail.
pub fn encode_person_cursor(cursor: &PersonCursor) -> String {
    let raw = match cursor {
        PersonCursor::Created(at, id) => format!(
            "c|{}|{id}",
            at.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
        ),
        PersonCursor::LastName(name, id) => format!("n|{name}|{id}"),
    };
    URL_SAFE_NO_PAD.encode(raw)
}

/// `base64url("p|<next start, RFC 3339>|<uuid>")`.
pub fn encode_public_event_cursor(cursor: &PublicEventCursor) -> String {
    URL_SAFE_NO_PAD.encode(format!(
        "p|{}|{}",
        cursor
            .next_starts_at
            .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        cursor.id
    ))
}

pub fn decode_public_event_cursor(
    field: &str,
    cursor: &str,
) -> async_graphql::Result<PublicEventCursor> {
    let bad = || invalid(field, "is not a valid cursor");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let rest = text.strip_prefix("p|").ok_or_else(bad)?;
    let (at, id) = rest.rsplit_once('|').ok_or_else(bad)?;
    Ok(PublicEventCursor {
        next_starts_at: chrono::DateTime::parse_from_rfc3339(at)
            .map_err(|_| bad())?
            .with_timezone(&chrono::Utc),
        id: Uuid::parse_str(id).map_err(|_| bad())?,
    })
}

pub fn decode_person_cursor(field: &str, cursor: &str) -> async_graphql::Result<PersonCursor> {
    let bad = || invalid(field, "is not a valid cursor");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (kind, rest) = text.split_at_checked(2).ok_or_else(bad)?;
    let (key, id) = rest.rsplit_once('|').ok_or_else(bad)?;
    let id = Uuid::parse_str(id).map_err(|_| bad())?;
    match kind {
        "c|" => {
            let at = chrono::DateTime::parse_from_rfc3339(key).map_err(|_| bad())?;
            Ok(PersonCursor::Created(at.with_timezone(&chrono::Utc), id))
        }
        "n|" => Ok(PersonCursor::LastName(key.to_owned(), id)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_carry_their_type() {
        let id = Uuid::now_v7();
        let gid = global_id(NodeType::Person, id);
        assert_eq!(
            decode_global_id("id", &gid).unwrap(),
            (NodeType::Person, id)
        );
        assert_eq!(decode_id_of("id", NodeType::Person, &gid).unwrap(), id);
        assert!(decode_id_of("id", NodeType::Tag, &gid).is_err());
        assert!(decode_global_id("id", &ID("not base64!".into())).is_err());
        assert!(decode_global_id("id", &ID(URL_SAFE_NO_PAD.encode("Planet:x"))).is_err());
    }

    #[test]
    fn global_ids_are_base64url_of_type_colon_uuid_for_every_type() {
        // IDs are a public contract: clients store them. The stack-built text must be exactly
        // `<Type>:<hyphenated lowercase uuid>`.
        let id = Uuid::now_v7();
        for ty in NodeType::ALL {
            let expected = URL_SAFE_NO_PAD.encode(format!("{}:{}", ty.as_str(), id));
            assert_eq!(global_id(ty, id).0, expected, "{ty:?}");
            assert_eq!(NodeType::parse(ty.as_str()), Some(ty));
        }
    }

    #[test]
    fn cursors_round_trip() {
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor("after", &encode_cursor(id)).unwrap(), id);
        assert!(decode_cursor("after", "AAAA").is_err());
    }
}
