//! Notes, tasks and the ladder history of people.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::auth::{Can, perm};
use turnout_domain::notes::{self, NewNote};
use turnout_domain::people::PageRequest;
use turnout_domain::tasks::{self, NewTask, TaskChange};
use turnout_entity::{ladder_changes, notes as note_rows, tasks as task_rows};

use super::audit::request_context;
use super::context::{can, db};
use crate::error::GqlResult;
use crate::ids::{NodeType, decode_cursor, decode_id_of, encode_cursor, global_id};

/// What kind of contact a note records.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    /// A phone call.
    Call,
    /// A text message exchange.
    Text,
    /// A conversation in person (a door, a meeting).
    Conversation,
    /// Anything else.
    Other,
    /// An organizing one-on-one (logged with `logOneOnOne`, which adds its detail).
    OneOnOne,
}

impl NoteKind {
    fn as_str(self) -> &'static str {
        match self {
            NoteKind::Call => "call",
            NoteKind::Text => "text",
            NoteKind::Conversation => "conversation",
            NoteKind::Other => "other",
            NoteKind::OneOnOne => "one_on_one",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "call" => NoteKind::Call,
            "text" => NoteKind::Text,
            "conversation" => NoteKind::Conversation,
            "one_on_one" => NoteKind::OneOnOne,
            _ => NoteKind::Other,
        }
    }
}

/// A note on a contact with a person.
pub struct Note(pub note_rows::Model);

#[Object]
impl Note {
    /// The global ID of this note.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Note, self.0.id)
    }

    /// The person the note is about (global ID).
    async fn person_id(&self) -> ID {
        global_id(NodeType::Person, self.0.person_id)
    }

    /// The kind of contact.
    async fn kind(&self) -> NoteKind {
        NoteKind::parse(&self.0.kind)
    }

    /// How it went, e.g. `left voicemail`, `committed to attend`.
    async fn outcome(&self) -> Option<&str> {
        self.0.outcome.as_deref()
    }

    /// The note itself.
    async fn body(&self) -> &str {
        &self.0.body
    }

    /// The user who wrote it (UUID); null when written through an API key.
    async fn author_user_id(&self) -> Option<ID> {
        self.0.author_user_id.map(|id| ID(id.to_string()))
    }

    /// When the contact happened.
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }

    /// When the note was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Whether a task is still to do.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    /// Still to do.
    Open,
    /// Done.
    Done,
}

/// A follow-up for staff, maybe about a person.
pub struct Task(pub task_rows::Model);

#[Object]
impl Task {
    /// The global ID of this task.
    pub async fn id(&self) -> ID {
        global_id(NodeType::Task, self.0.id)
    }

    /// What to do.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// Details.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The person it is about (global ID).
    async fn person_id(&self) -> Option<ID> {
        self.0.person_id.map(|id| global_id(NodeType::Person, id))
    }

    /// The user who should do it (UUID).
    async fn assignee_user_id(&self) -> Option<ID> {
        self.0.assignee_user_id.map(|id| ID(id.to_string()))
    }

    /// The user who created it (UUID); null when created through an API key.
    async fn created_by_user_id(&self) -> Option<ID> {
        self.0.created_by_user_id.map(|id| ID(id.to_string()))
    }

    /// When it is due.
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.0.due_at
    }

    /// Open or done.
    async fn status(&self) -> TaskStatus {
        if self.0.status == tasks::DONE {
            TaskStatus::Done
        } else {
            TaskStatus::Open
        }
    }

    /// When it was completed (null while open).
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A change of a person's ladder stage or assessment.
#[derive(SimpleObject)]
pub struct LadderChange {
    /// `LADDER_STAGE` or `ASSESSMENT`.
    pub field: LadderField,
    /// The value before (null when there was none).
    #[graphql(name = "from")]
    pub from_value: Option<String>,
    /// The value after (null when cleared).
    #[graphql(name = "to")]
    pub to_value: Option<String>,
    /// The user who made the change (UUID), if a user did.
    pub changed_by_user_id: Option<ID>,
    /// The API key that made the change (UUID), if a key did.
    pub changed_by_api_key_id: Option<ID>,
    /// When.
    pub changed_at: DateTime<Utc>,
}

/// What a ladder change is about.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum LadderField {
    /// The stage on the ladder of engagement.
    LadderStage,
    /// The 1–5 assessment.
    Assessment,
}

impl From<ladder_changes::Model> for LadderChange {
    fn from(row: ladder_changes::Model) -> Self {
        Self {
            field: if row.field == turnout_domain::ladder::ASSESSMENT {
                LadderField::Assessment
            } else {
                LadderField::LadderStage
            },
            from_value: row.from_value,
            to_value: row.to_value,
            changed_by_user_id: row.actor_user_id.map(|id| ID(id.to_string())),
            changed_by_api_key_id: row.actor_api_key_id.map(|id| ID(id.to_string())),
            changed_at: row.changed_at,
        }
    }
}

/// A new note.
#[derive(InputObject)]
pub struct AddNoteInput {
    /// The person (global ID).
    pub person_id: ID,
    /// The kind of contact.
    pub kind: NoteKind,
    /// How it went (up to 100 characters).
    pub outcome: Option<String>,
    /// The note (1–10000 characters).
    pub body: String,
    /// When the contact happened; now when left out.
    pub occurred_at: Option<DateTime<Utc>>,
}

/// A new task.
#[derive(InputObject)]
pub struct CreateTaskInput {
    /// What to do (1–200 characters).
    pub title: String,
    /// Details.
    pub description: Option<String>,
    /// The person it is about (global ID).
    pub person_id: Option<ID>,
    /// The user who should do it (UUID; a member of the organization).
    pub assignee_user_id: Option<ID>,
    /// When it is due.
    pub due_at: Option<DateTime<Utc>>,
}

fn user_id(field: &str, id: &ID) -> async_graphql::Result<uuid::Uuid> {
    crate::ids::parse_uuid(field, id)
}

/// Totals of the signed-in user's tasks.
pub struct TaskTotals {
    scope: Can<perm::PeopleRead>,
    include_done: bool,
}

#[Object]
impl TaskTotals {
    /// How many tasks the list holds (all pages). One `COUNT` query; ask only when needed.
    async fn total_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        tasks::count_mine(db(ctx), &self.scope, self.include_done)
            .await
            .gql()
    }
}

/// Reading one's tasks.
#[derive(Default)]
pub struct TasksQuery;

#[Object]
impl TasksQuery {
    /// The tasks assigned to the signed-in user (a user session, not an API key), oldest
    /// first; only open ones unless `includeDone`.
    async fn my_tasks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many (at most 100; default 20).")] first: Option<i32>,
        #[graphql(desc = "After this cursor.")] after: Option<String>,
        #[graphql(default, desc = "Include completed tasks.")] include_done: bool,
    ) -> async_graphql::Result<Connection<String, Task, TaskTotals>> {
        let scope = can::<perm::PeopleRead>(ctx)?;
        let after = after
            .as_deref()
            .map(|c| decode_cursor("after", c))
            .transpose()?;
        let page = PageRequest::new(first, after).gql()?;
        let result = tasks::mine(db(ctx), &scope, include_done, page.first, page.after)
            .await
            .gql()?;
        let mut connection = Connection::with_additional_fields(
            after.is_some(),
            result.has_next_page,
            TaskTotals {
                scope,
                include_done,
            },
        );
        connection.edges.extend(
            result
                .items
                .into_iter()
                .map(|t| Edge::new(encode_cursor(t.id), Task(t))),
        );
        Ok(connection)
    }
}

/// Writing notes and tasks. Needs `people:write`.
#[derive(Default)]
pub struct NotesTasksMutation;

#[Object]
impl NotesTasksMutation {
    /// Record a contact with a person.
    async fn add_note(
        &self,
        ctx: &Context<'_>,
        input: AddNoteInput,
    ) -> async_graphql::Result<Note> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let new = NewNote {
            person_id: decode_id_of("input.personId", NodeType::Person, &input.person_id)?,
            kind: input.kind.as_str().to_owned(),
            outcome: input.outcome,
            body: input.body,
            occurred_at: input.occurred_at,
        };
        Ok(Note(
            notes::create(db(ctx), &scope, &request_context(ctx), new)
                .await
                .gql()?,
        ))
    }

    /// Create a task, maybe about a person and assigned to a user.
    async fn create_task(
        &self,
        ctx: &Context<'_>,
        input: CreateTaskInput,
    ) -> async_graphql::Result<Task> {
        let scope = can::<perm::PeopleWrite>(ctx)?;
        let new = NewTask {
            person_id: input
                .person_id
                .as_ref()
                .map(|id| decode_id_of("input.personId", NodeType::Person, id))
                .transpose()?,
            assignee_user_id: input
                .assignee_user_id
                .as_ref()
                .map(|id| user_id("input.assigneeUserId", id))
                .transpose()?,
            title: input.title,
            description: input.description,
            due_at: input.due_at,
        };
        Ok(Task(
            tasks::create(db(ctx), &scope, &request_context(ctx), new)
                .await
                .gql()?,
        ))
    }

    /// Mark a task done.
    async fn complete_task(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Task> {
        change(ctx, &id, TaskChange::Complete).await
    }

    /// Mark a done task open again.
    async fn reopen_task(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Task> {
        change(ctx, &id, TaskChange::Reopen).await
    }

    /// Assign a task to a user (UUID), or unassign it with `null`.
    async fn assign_task(
        &self,
        ctx: &Context<'_>,
        id: ID,
        assignee_user_id: Option<ID>,
    ) -> async_graphql::Result<Task> {
        let user = assignee_user_id
            .as_ref()
            .map(|u| user_id("assigneeUserId", u))
            .transpose()?;
        change(ctx, &id, TaskChange::Assign(user)).await
    }

    /// Change or clear (`null`) a task's due time.
    async fn reschedule_task(
        &self,
        ctx: &Context<'_>,
        id: ID,
        due_at: MaybeUndefined<DateTime<Utc>>,
    ) -> async_graphql::Result<Task> {
        change(ctx, &id, TaskChange::Due(due_at.take())).await
    }
}

async fn change(ctx: &Context<'_>, id: &ID, what: TaskChange) -> async_graphql::Result<Task> {
    let scope = can::<perm::PeopleWrite>(ctx)?;
    let id = decode_id_of("id", NodeType::Task, id)?;
    Ok(Task(
        tasks::change(db(ctx), &scope, &request_context(ctx), id, what)
            .await
            .gql()?,
    ))
}
