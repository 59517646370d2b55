//! Due tasks remind their assignee: when an open task with an assignee falls due, the
//! assignee is emailed once (an account email to their sign-in address, in the organization's
//! language). A task rescheduled or reassigned reminds again. Tasks that fell due more than
//! [`LOOKBACK_HOURS`] ago are not reminded, so turning this on does not mail a backlog.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use turnout_entity::{memberships, organizations, people, tasks};
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::db::Db;
use crate::error::DomainResult;
use crate::messaging::{account, queue_account_email};

/// How long after its due time a task is still reminded.
pub const LOOKBACK_HOURS: i64 = 24;
/// The most reminders one sweep sends; the next sweep takes the rest.
const BATCH: u64 = 500;

/// Emails the assignees of the tasks due by `now`; returns how many were reminded. Five reads
/// for the batch, then one transaction per task (claim it, queue the email), so two workers
/// sweeping at once remind each task once.
pub async fn remind_due(db: &Db, now: DateTime<Utc>) -> DomainResult<usize> {
    let due = tasks::Entity::find()
        .filter(tasks::Column::Status.eq(crate::tasks::OPEN))
        .filter(tasks::Column::RemindedAt.is_null())
        .filter(tasks::Column::AssigneeUserId.is_not_null())
        .filter(tasks::Column::DueAt.lte(now))
        .filter(tasks::Column::DueAt.gt(now - Duration::hours(LOOKBACK_HOURS)))
        .order_by_asc(tasks::Column::DueAt)
        .limit(BATCH)
        .all(db.conn())
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let user_ids: Vec<Uuid> = due.iter().filter_map(|t| t.assignee_user_id).collect();
    let org_ids: Vec<Uuid> = due.iter().map(|t| t.organization_id).collect();
    let person_ids: Vec<Uuid> = due.iter().filter_map(|t| t.person_id).collect();
    let users = crate::identity::enabled_users(db.conn(), user_ids.clone()).await?;
    // Only members still enabled in the task's organization are reminded.
    let enabled: Vec<(Uuid, Uuid)> = memberships::Entity::find()
        .filter(memberships::Column::UserId.is_in(user_ids))
        .filter(memberships::Column::DisabledAt.is_null())
        .select_only()
        .column(memberships::Column::OrganizationId)
        .column(memberships::Column::UserId)
        .into_tuple()
        .all(db.conn())
        .await?;
    let orgs: HashMap<Uuid, organizations::Model> = organizations::Entity::find()
        .filter(organizations::Column::Id.is_in(org_ids))
        .filter(organizations::Column::SuspendedAt.is_null())
        .all(db.conn())
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let names: HashMap<Uuid, String> = people::Entity::find()
        .filter(people::Column::Id.is_in(person_ids))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|p| (p.id, crate::people::display_name(&p)))
        .collect();
    let mut reminded = 0;
    for task in due {
        let Some(user_id) = task.assignee_user_id else {
            continue;
        };
        let (Some(user), Some(org)) = (users.get(&user_id), orgs.get(&task.organization_id)) else {
            continue;
        };
        if !enabled.contains(&(org.id, user_id)) {
            continue;
        }
        let tx = db.begin_write().await?;
        let claimed = tasks::Entity::update_many()
            .col_expr(tasks::Column::RemindedAt, Expr::value(now))
            .filter(tasks::Column::Id.eq(task.id))
            .filter(tasks::Column::RemindedAt.is_null())
            .exec(&tx)
            .await?
            .rows_affected
            == 1;
        if !claimed {
            continue;
        }
        let tz = org
            .time_zone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        let email = account::task_due(
            &org.default_language,
            account::DueTask {
                org_name: &org.name,
                assignee: &user.name,
                title: &task.title,
                description: task.description.as_deref(),
                about: task
                    .person_id
                    .and_then(|p| names.get(&p))
                    .map(String::as_str),
                due_at: task.due_at.unwrap_or(now),
            },
            tz,
        );
        queue_account_email(&tx, &OrgScope::system(org.id), &user.email, email).await?;
        tx.commit().await?;
        reminded += 1;
    }
    Ok(reminded)
}
