//! Tasks: follow-ups for staff ("call Ada back"), about a person or not, assigned to a user,
//! with a due time; completed and reopened.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use turnout_entity::{memberships, tasks};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{Actor, OrgScope};
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::outbox::{self, DomainEvent};
use crate::people::Page;
use crate::person_write::find_in;
use crate::values::required_text;

pub const OPEN: &str = "open";
pub const DONE: &str = "done";

#[derive(Clone, Debug)]
pub struct NewTask {
    pub person_id: Option<Uuid>,
    pub assignee_user_id: Option<Uuid>,
    pub title: String,
    pub description: Option<String>,
    pub due_at: Option<DateTime<Utc>>,
}

async fn check_member<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    user_id: Uuid,
) -> DomainResult<()> {
    memberships::Entity::find()
        .filter(memberships::Column::OrganizationId.eq(scope.org_id()))
        .filter(memberships::Column::UserId.eq(user_id))
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("user"))?;
    Ok(())
}

fn actor_user(scope: &OrgScope) -> Option<Uuid> {
    match scope.actor() {
        Some(Actor::User(u)) => Some(u),
        _ => None,
    }
}

/// Creates a task. The assignee must be a member of the organization.
pub async fn create(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    new: NewTask,
) -> DomainResult<tasks::Model> {
    let title = required_text("input.title", Some(&new.title), 200)?;
    let description = match new.description.as_deref().map(str::trim) {
        Some(d) if d.chars().count() > 10_000 => {
            return Err(DomainError::validation(
                "input.description",
                "is longer than 10000 characters",
            ));
        }
        Some("") | None => None,
        Some(d) => Some(d.to_owned()),
    };
    let tx = db.begin_write().await?;
    if let Some(person_id) = new.person_id {
        find_in(&tx, scope, person_id).await?;
    }
    if let Some(user_id) = new.assignee_user_id {
        check_member(&tx, scope, user_id).await?;
    }
    let now = Utc::now();
    let id = Uuid::now_v7();
    let task = tasks::ActiveModel {
        id: Set(id),
        organization_id: Set(scope.org_id()),
        person_id: Set(new.person_id),
        assignee_user_id: Set(new.assignee_user_id),
        created_by_user_id: Set(actor_user(scope)),
        title: Set(title),
        description: Set(description),
        due_at: Set(new.due_at),
        status: Set(OPEN.to_owned()),
        completed_at: Set(None),
        reminded_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx)
    .await?;
    let created = DomainEvent::TaskCreated {
        task_id: id,
        person_id: task.person_id,
        assignee_user_id: task.assignee_user_id,
        title: task.title.clone(),
    };
    outbox::record(&tx, scope, created).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "task.create",
        "task",
        Some(id),
        &[
            "title",
            "description",
            "person_id",
            "assignee_user_id",
            "due_at",
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(task)
}

/// A task of the scope's organization. Tasks about a person outside a chapter-limited scope are
/// not found.
async fn find_task<C: ConnectionTrait>(
    conn: &C,
    scope: &OrgScope,
    id: Uuid,
) -> DomainResult<tasks::Model> {
    let task = tasks::Entity::find_by_id(id)
        .filter(tasks::Column::OrganizationId.eq(scope.org_id()))
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("task"))?;
    if let (Some(person_id), Some(_)) = (task.person_id, scope.chapters()) {
        find_in(conn, scope, person_id)
            .await
            .map_err(|_| DomainError::not_found("task"))?;
    }
    Ok(task)
}

/// One task of the scope's organization.
pub async fn get(db: &Db, scope: &Can<perm::PeopleRead>, id: Uuid) -> DomainResult<tasks::Model> {
    find_task(db.conn(), scope, id).await
}

/// What a task change does.
#[derive(Clone, Debug)]
pub enum TaskChange {
    Complete,
    Reopen,
    /// Assign to a user, or unassign.
    Assign(Option<Uuid>),
    /// Change or clear the due time.
    Due(Option<DateTime<Utc>>),
}

/// Completes, reopens, reassigns or reschedules a task. Completing a done task (or reopening
/// an open one) changes nothing.
pub async fn change(
    db: &Db,
    scope: &Can<perm::PeopleWrite>,
    ctx: &RequestContext,
    id: Uuid,
    change: TaskChange,
) -> DomainResult<tasks::Model> {
    let tx = db.begin_write().await?;
    let task = find_task(&tx, scope, id).await?;
    let now = Utc::now();
    let mut model = task.clone().into_active_model();
    let (action, field) = match change {
        TaskChange::Complete => {
            if task.status == DONE {
                return Ok(task);
            }
            model.status = Set(DONE.to_owned());
            model.completed_at = Set(Some(now));
            ("task.complete", "status")
        }
        TaskChange::Reopen => {
            if task.status == OPEN {
                return Ok(task);
            }
            model.status = Set(OPEN.to_owned());
            model.completed_at = Set(None);
            ("task.reopen", "status")
        }
        TaskChange::Assign(user) => {
            if let Some(user_id) = user {
                check_member(&tx, scope, user_id).await?;
            }
            model.assignee_user_id = Set(user);
            // A new assignee hears of a due task too.
            model.reminded_at = Set(None);
            ("task.assign", "assignee_user_id")
        }
        TaskChange::Due(at) => {
            model.due_at = Set(at);
            model.reminded_at = Set(None);
            ("task.reschedule", "due_at")
        }
    };
    model.updated_at = Set(now);
    let before = task;
    let task = model.update(&tx).await?;
    let event = match action {
        "task.complete" => Some(DomainEvent::TaskCompleted {
            task_id: id,
            person_id: task.person_id,
            assignee_user_id: task.assignee_user_id,
        }),
        "task.assign" if before.assignee_user_id != task.assignee_user_id => {
            Some(DomainEvent::TaskReassigned {
                task_id: id,
                person_id: task.person_id,
                from_user_id: before.assignee_user_id,
                to_user_id: task.assignee_user_id,
            })
        }
        _ => None,
    };
    if let Some(event) = event {
        outbox::record(&tx, scope, event).await?;
    }
    audit::record(&tx, scope, ctx, action, "task", Some(id), &[field]).await?;
    tx.commit().await?;
    Ok(task)
}

/// The tasks of each of `person_ids`, open first then by due time, in one query.
pub async fn of_people(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    person_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<tasks::Model>>> {
    let rows = tasks::Entity::find()
        .filter(tasks::Column::OrganizationId.eq(scope.org_id()))
        .filter(tasks::Column::PersonId.is_in(person_ids.iter().copied()))
        .order_by_desc(tasks::Column::Status) // "open" after "done" descending: open first
        .order_by_asc(tasks::Column::DueAt)
        .order_by_asc(tasks::Column::Id)
        .all(db.conn())
        .await?;
    let mut by_person: HashMap<Uuid, Vec<tasks::Model>> = HashMap::new();
    for row in rows {
        if let Some(p) = row.person_id {
            by_person.entry(p).or_default().push(row);
        }
    }
    Ok(by_person)
}

/// How many tasks [`mine`] lists (all pages), in one statement.
pub async fn count_mine(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    include_done: bool,
) -> DomainResult<u64> {
    Ok(mine_query(scope, include_done)?.count(db.conn()).await?)
}

/// The signed-in user's tasks (open ones only unless `include_done`).
fn mine_query(
    scope: &Can<perm::PeopleRead>,
    include_done: bool,
) -> DomainResult<sea_orm::Select<tasks::Entity>> {
    let Some(user_id) = actor_user(scope) else {
        return Err(DomainError::Forbidden(
            "`myTasks` needs a signed-in user, not an API key".into(),
        ));
    };
    let q = tasks::Entity::find()
        .filter(tasks::Column::OrganizationId.eq(scope.org_id()))
        .filter(tasks::Column::AssigneeUserId.eq(user_id));
    Ok(if include_done {
        q
    } else {
        q.filter(tasks::Column::Status.eq(OPEN))
    })
}

/// The tasks assigned to the calling user, oldest first; only open ones unless
/// `include_done`. Needs a user session, not an API key.
pub async fn mine(
    db: &Db,
    scope: &Can<perm::PeopleRead>,
    include_done: bool,
    first: u64,
    after: Option<Uuid>,
) -> DomainResult<Page<tasks::Model>> {
    let mut q = mine_query(scope, include_done)?;
    if let Some(after) = after {
        q = q.filter(tasks::Column::Id.gt(after));
    }
    let mut items = q
        .order_by_asc(tasks::Column::Id)
        .limit(first + 1)
        .all(db.conn())
        .await?;
    let has_next_page = items.len() as u64 > first;
    items.truncate(first as usize);
    Ok(Page {
        items,
        has_next_page,
    })
}
