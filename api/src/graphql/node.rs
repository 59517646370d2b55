use async_graphql::{Context, ID, Interface, Object};
use turnout_domain::auth::{Scope, perm};
use turnout_domain::{forms, people};

use super::context::{can, db};
use super::custom_field::CustomField;
use super::event::{Event, Rsvp, Shift};
use super::form::Form;
use super::note_task::{Note, Task};
use super::person::Person;
use super::segment::Segment;
use super::tag::Tag;
use crate::error::GqlResult;
use crate::ids::{NodeType, decode_global_id};

/// An object with a global ID (Relay Global Object Identification).
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The global ID of the object."))]
pub enum Node {
    Person(Box<Person>),
    Tag(Tag),
    Form(Box<Form>),
    Event(Box<Event>),
    Shift(Box<Shift>),
    Rsvp(Box<Rsvp>),
    Segment(Box<Segment>),
    Note(Box<Note>),
    Task(Box<Task>),
    CustomField(Box<CustomField>),
}

/// Fetches any node of the caller's organization by global ID; another organization's object
/// is `NOT_FOUND`, exactly like a missing one.
pub async fn fetch(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Node> {
    let (ty, uuid) = decode_global_id("id", id)?;
    let db = db(ctx);
    if let Some(node) = super::event::fetch_node(ctx, ty, uuid).await? {
        return Ok(node);
    }
    let scope = can::<perm::PeopleRead>(ctx)?;
    Ok(match ty {
        NodeType::Person => Node::Person(Box::new(Person::from(
            people::get(db, &scope, uuid).await.gql()?,
        ))),
        NodeType::Tag => Node::Tag(Tag(people::get_tag(db, &scope, uuid).await.gql()?)),
        NodeType::Form => Node::Form(Box::new(Form(forms::get(db, &scope, uuid).await.gql()?))),
        NodeType::Event | NodeType::Shift | NodeType::Rsvp => {
            return Err(crate::error::to_gql(
                turnout_domain::DomainError::not_found("node"),
            ));
        }
        NodeType::Segment => Node::Segment(Box::new(Segment(
            turnout_domain::segments::get(db, &scope, uuid)
                .await
                .gql()?,
        ))),
        NodeType::Note => Node::Note(Box::new(Note(
            turnout_domain::notes::get(db, &scope, uuid).await.gql()?,
        ))),
        NodeType::Task => Node::Task(Box::new(Task(
            turnout_domain::tasks::get(db, &scope, uuid).await.gql()?,
        ))),
        NodeType::CustomField => {
            let access = turnout_domain::custom_fields::RestrictedAccess(
                super::context::principal(ctx)?.has(Scope::PeopleRestricted),
            );
            Node::CustomField(Box::new(CustomField(
                turnout_domain::custom_fields::get(db, &scope, access, uuid)
                    .await
                    .gql()?,
            )))
        }
    })
}

/// Relay's `node` field.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object of the organization, by global ID. Nullable, as Relay's spec has it: an id
    /// that names nothing the caller may see is `null` with a `NOT_FOUND` error, and the rest
    /// of the response stands.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        fetch(ctx, &id).await.map(Some)
    }
}
