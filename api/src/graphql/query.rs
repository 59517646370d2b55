use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Object};
use turnout_domain::auth::Scope;
use turnout_domain::forms;
use turnout_domain::people::{self, PageRequest, PersonFilter};

use super::context::{db, org_scope};
use super::form::Form;
use super::node::{self, Node};
use super::person::Person;
use crate::error::GqlResult;
use crate::ids::{NodeType, decode_cursor, decode_id_of, encode_cursor};

pub struct QueryRoot;

/// Filters on people; all given conditions must hold.
#[derive(InputObject, Default)]
pub struct PeopleFilter {
    /// People carrying at least one of these tags (by name).
    pub tags_any: Option<Vec<String>>,
    /// A case-insensitive piece of the first name, last name or email.
    pub search: Option<String>,
}

#[Object(name = "Query")]
impl QueryRoot {
    /// The organization's active people, oldest first, as a Relay connection.
    async fn people(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many people to return (at most 100; default 20).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return people after this cursor (an `endCursor`).")] after: Option<
            String,
        >,
        filter: Option<PeopleFilter>,
    ) -> async_graphql::Result<Connection<String, Person>> {
        let scope = org_scope(ctx, Scope::PeopleRead)?;
        let after = after
            .as_deref()
            .map(|c| decode_cursor("after", c))
            .transpose()?;
        let page = PageRequest::new(first, after).gql()?;
        let filter = filter.unwrap_or_default();
        let filter = PersonFilter {
            tags_any: filter.tags_any.unwrap_or_default(),
            search: filter.search,
        };
        let result = people::list(db(ctx), &scope, &filter, page).await.gql()?;
        let mut connection = Connection::new(after.is_some(), result.has_next_page);
        connection.edges.extend(
            result
                .items
                .into_iter()
                .map(|p| Edge::new(encode_cursor(p.id), Person(p))),
        );
        Ok(connection)
    }

    /// One person of the organization, by global ID.
    async fn person(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Person> {
        let scope = org_scope(ctx, Scope::PeopleRead)?;
        let uuid = decode_id_of("id", NodeType::Person, &id)?;
        Ok(Person(people::get(db(ctx), &scope, uuid).await.gql()?))
    }

    /// Any object of the organization, by global ID.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Node> {
        node::fetch(ctx, &id).await
    }

    /// The organization's sign-up forms.
    async fn forms(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Form>> {
        let scope = org_scope(ctx, Scope::PeopleRead)?;
        Ok(forms::list(db(ctx), &scope)
            .await
            .gql()?
            .into_iter()
            .map(Form)
            .collect())
    }

    /// A sign-up form by its public slug. Public: a sign-up page reads its fields here.
    async fn form(&self, ctx: &Context<'_>, slug: String) -> async_graphql::Result<Form> {
        Ok(Form(forms::by_slug(db(ctx), &slug).await.gql()?))
    }
}
