//! The inbox over GraphQL: conversations with their unread counts, a conversation's texts
//! either way, replies (and any one-off message to a person), assignment and read marks.
//! Everything needs `MESSAGES_SEND`.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::auth::{Actor, Can, perm};
use turnout_domain::messaging::inbox::{self, ConversationFilter, Direction};
use turnout_domain::people::PageRequest;

use super::audit::request_context;
use super::context::{can, db, principal};
use super::messaging::MessageChannel;
use super::person::Person;
use crate::error::GqlResult;
use crate::ids::{NodeType, decode_cursor, decode_id_of, encode_cursor, parse_uuid};

/// A person's conversation with the organization: made by their first text.
pub struct Conversation(inbox::Conversation);

#[Object]
impl Conversation {
    /// The person it is with.
    async fn person(&self) -> Person {
        Person::from(self.0.person.clone())
    }

    /// The member (user id) it is assigned to: the person's point person when it began.
    async fn assigned_user_id(&self) -> Option<ID> {
        self.0.row.assigned_user_id.map(|id| ID(id.to_string()))
    }

    /// Texts from the person nobody has read yet (`markConversationRead`, or a reply).
    async fn unread_count(&self) -> i32 {
        self.0.row.unread_count
    }

    /// When the person last texted.
    async fn last_message_at(&self) -> DateTime<Utc> {
        self.0.row.last_message_at
    }

    /// When a member last read it.
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.row.read_at
    }

    /// The last texts (SMS and WhatsApp) either way, oldest first: theirs and ours (replies,
    /// broadcasts, reminders), with our messages' delivery status.
    async fn messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (at most 200).", default = 50)] last: i32,
    ) -> async_graphql::Result<Vec<ConversationMessage>> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let last = u64::try_from(last)
            .map_err(|_| turnout_domain::DomainError::validation("last", "must not be negative"));
        let last = last.gql()?;
        let rows = inbox::messages(db(ctx), &scope, self.0.person.id, last)
            .await
            .gql()?;
        Ok(rows.into_iter().map(ConversationMessage::from).collect())
    }
}

/// Which way a message went.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum MessageDirection {
    /// From the person.
    Inbound,
    /// To the person.
    Outbound,
}

/// One message of a conversation.
#[derive(SimpleObject)]
pub struct ConversationMessage {
    pub id: ID,
    pub direction: MessageDirection,
    pub channel: MessageChannel,
    pub body: String,
    /// Ours only: `queued`, `blocked`, `sending`, `sent`, `delivered`, `failed`,
    /// `undelivered`, `unknown` or `cancelled`.
    pub status: Option<String>,
    /// Ours only: why it was blocked or failed (`no SMS consent` …).
    pub error: Option<String>,
    /// When it was received, or queued.
    pub at: DateTime<Utc>,
}

impl From<inbox::ConversationMessage> for ConversationMessage {
    fn from(m: inbox::ConversationMessage) -> Self {
        let channel = match m.channel.as_str() {
            "sms" => MessageChannel::Sms,
            "whatsapp" => MessageChannel::Whatsapp,
            _ => MessageChannel::Email,
        };
        Self {
            id: ID(m.id.to_string()),
            direction: match m.direction {
                Direction::Inbound => MessageDirection::Inbound,
                Direction::Outbound => MessageDirection::Outbound,
            },
            channel,
            body: m.body,
            status: m.status,
            error: m.error,
            at: m.at,
        }
    }
}

/// Which conversations to list; the conditions combine.
#[derive(InputObject, Default)]
pub struct ConversationFilterInput {
    /// Only those with unread texts.
    #[graphql(default)]
    pub unread: bool,
    /// Only those assigned to the calling user.
    #[graphql(default)]
    pub assigned_to_me: bool,
    /// Only those assigned to this member (a user id).
    pub assigned_user_id: Option<ID>,
    /// Only those assigned to nobody.
    #[graphql(default)]
    pub unassigned: bool,
}

fn filter_of(
    ctx: &Context<'_>,
    input: Option<ConversationFilterInput>,
) -> async_graphql::Result<ConversationFilter> {
    let input = input.unwrap_or_default();
    let mut assigned = input
        .assigned_user_id
        .as_ref()
        .map(|id| parse_uuid("filter.assignedUserId", id))
        .transpose()?;
    if input.assigned_to_me {
        match principal(ctx)?.actor() {
            Actor::User(id) => assigned = Some(id),
            Actor::ApiKey(_) => {
                return Err(turnout_domain::DomainError::validation(
                    "filter.assignedToMe",
                    "needs a user's session; an API key is nobody's",
                ))
                .gql();
            }
        }
    }
    Ok(ConversationFilter {
        unread: input.unread,
        assigned_user_id: assigned,
        unassigned: input.unassigned,
    })
}

/// Unread texts in the inbox.
#[derive(SimpleObject)]
pub struct InboxUnread {
    /// Conversations with unread texts.
    pub conversations: u64,
    /// Unread texts in all.
    pub messages: u64,
}

/// Totals of a conversations connection.
pub struct ConversationTotals {
    scope: Can<perm::MessagesSend>,
    filter: ConversationFilter,
}

#[Object]
impl ConversationTotals {
    /// How many conversations match the filter (all pages). One `COUNT` query.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        inbox::count(db(ctx), &self.scope, &self.filter).await.gql()
    }
}

/// Reading the inbox.
#[derive(Default)]
pub struct InboxQuery;

#[Object]
impl InboxQuery {
    /// Conversations, the latest text first (a conversation that gets a text moves to the
    /// top). Needs `MESSAGES_SEND`; a member limited to chapters sees their people's.
    async fn conversations(
        &self,
        ctx: &Context<'_>,
        filter: Option<ConversationFilterInput>,
        #[graphql(desc = "How many (at most 100; default 20).")] first: Option<i32>,
        #[graphql(desc = "Conversations after this cursor (an `endCursor`).")] after: Option<
            String,
        >,
    ) -> async_graphql::Result<Connection<String, Conversation, ConversationTotals>> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let filter = filter_of(ctx, filter)?;
        let after = after
            .as_deref()
            .map(|c| decode_cursor("after", c))
            .transpose()?;
        let page = PageRequest::new(first, after).gql()?;
        let result = inbox::list(db(ctx), &scope, &filter, page).await.gql()?;
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            result.has_next_page,
            ConversationTotals { scope, filter },
        );
        connection.edges.extend(
            result
                .items
                .into_iter()
                .map(|c| Edge::new(encode_cursor(c.row.id), Conversation(c))),
        );
        Ok(connection)
    }

    /// The conversation with a person; null before their first text.
    async fn conversation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's id.")] person_id: ID,
    ) -> async_graphql::Result<Option<Conversation>> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let person_id = decode_id_of("personId", NodeType::Person, &person_id)?;
        let row = inbox::get(db(ctx), &scope, person_id).await.gql()?;
        Ok(row.map(Conversation))
    }

    /// How many conversations (matching `filter`) have unread texts, and how many texts.
    async fn inbox_unread(
        &self,
        ctx: &Context<'_>,
        filter: Option<ConversationFilterInput>,
    ) -> async_graphql::Result<InboxUnread> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let filter = filter_of(ctx, filter)?;
        let (conversations, messages) = inbox::unread(db(ctx), &scope, &filter).await.gql()?;
        Ok(InboxUnread {
            conversations,
            messages,
        })
    }
}

/// A message from staff to one person.
#[derive(InputObject)]
pub struct SendMessageInput {
    /// The person's id.
    pub person_id: ID,
    pub channel: MessageChannel,
    /// Email only.
    pub subject: Option<String>,
    /// The text (at most 10,000 characters; SMS get the opt-out line appended).
    pub body: String,
    /// A key of your own (at most 150 characters): the same key sends once.
    pub idempotency_key: Option<String>,
}

/// Replying, assigning and reading.
#[derive(Default)]
pub struct InboxMutation;

#[Object]
impl InboxMutation {
    /// Send one person a message (a reply in their conversation, or any one-off). It is
    /// queued like every message: without consent or an address it comes back `blocked`
    /// with the reason and is never sent, a STOP before it goes out stops it, and quiet hours
    /// hold it. Marks their conversation read. Needs `MESSAGES_SEND`.
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        input: SendMessageInput,
    ) -> async_graphql::Result<ConversationMessage> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let person_id = decode_id_of("input.personId", NodeType::Person, &input.person_id)?;
        let message = inbox::StaffMessage {
            person_id,
            channel: input.channel.into(),
            subject: input.subject,
            body: input.body,
            idempotency_key: input.idempotency_key,
        };
        let message = inbox::send(db(ctx), &scope, &request_context(ctx), message)
            .await
            .gql()?;
        Ok(message.into())
    }

    /// Mark the conversation with a person read.
    async fn mark_conversation_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's id.")] person_id: ID,
    ) -> async_graphql::Result<Conversation> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let person_id = decode_id_of("personId", NodeType::Person, &person_id)?;
        let row = inbox::mark_read(db(ctx), &scope, person_id).await.gql()?;
        Ok(Conversation(row))
    }

    /// Assign the conversation with a person to a member (a user id), or to nobody with
    /// null. A user who is not an enabled member is `NOT_FOUND`.
    async fn assign_conversation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The person's id.")] person_id: ID,
        #[graphql(desc = "The member's user id; null: nobody.")] user_id: Option<ID>,
    ) -> async_graphql::Result<Conversation> {
        let scope = can::<perm::MessagesSend>(ctx)?;
        let person_id = decode_id_of("personId", NodeType::Person, &person_id)?;
        let user_id = user_id
            .as_ref()
            .map(|id| parse_uuid("userId", id))
            .transpose()?;
        let row = inbox::assign(db(ctx), &scope, &request_context(ctx), person_id, user_id)
            .await
            .gql()?;
        Ok(Conversation(row))
    }
}
