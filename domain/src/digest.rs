//! The point people's daily digest. In an organization that switches it on
//! (`organizer_digest`), each enabled member gets one email a day, on the first sweep after
//! [`SEND_AFTER_HOUR`] in the organization's time zone, listing what happened to *their*
//! people (those they are point person for) since their last digest (a first one: the last
//! day; never more than a week back):
//! people newly assigned to them, no-shows among them, and the member's open tasks due by this
//! time tomorrow (overdue ones included, every day until done). A day with none of these
//! sends nothing. `memberships.digest_sent_at` records when the last one went, and is claimed
//! against its old value, so two workers sweeping at once, or a restart, send each digest
//! once.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Timelike, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};
use turnout_entity::{events, memberships, organizations, people, rsvps, shifts, tasks, users};
use uuid::Uuid;

use crate::auth::OrgScope;
use crate::db::Db;
use crate::error::DomainResult;
use crate::messaging::{account, queue_account_email};
use crate::people::display_name;

/// The local hour from which the day's digest goes.
pub const SEND_AFTER_HOUR: u32 = 7;
/// What a first digest covers: the last day.
const WINDOW: Duration = Duration::hours(24);
/// The furthest back a digest looks, after a long outage or a member's days off.
const MAX_LOOKBACK: Duration = Duration::days(7);

/// Sends the digests due at `now`; returns how many were sent. A constant number of reads for
/// the whole sweep, then one transaction per member (claim the day, queue the email).
pub async fn send_due(db: &Db, now: DateTime<Utc>) -> DomainResult<usize> {
    let orgs: HashMap<Uuid, (organizations::Model, Tz)> = organizations::Entity::find()
        .filter(organizations::Column::OrganizerDigest.eq(true))
        .filter(organizations::Column::SuspendedAt.is_null())
        .all(db.conn())
        .await?
        .into_iter()
        .filter_map(|org| {
            let tz: Tz = org
                .time_zone
                .as_deref()
                .and_then(|z| z.parse().ok())
                .unwrap_or(chrono_tz::UTC);
            (now.with_timezone(&tz).hour() >= SEND_AFTER_HOUR).then_some((org.id, (org, tz)))
        })
        .collect();
    if orgs.is_empty() {
        return Ok(0);
    }
    let org_ids: Vec<Uuid> = orgs.keys().copied().collect();
    let members: Vec<memberships::Model> = memberships::Entity::find()
        .filter(memberships::Column::OrganizationId.is_in(org_ids.clone()))
        .filter(memberships::Column::DisabledAt.is_null())
        .all(db.conn())
        .await?
        .into_iter()
        .filter(|m| {
            // Not yet today, in the organization's zone.
            let Some((_, tz)) = orgs.get(&m.organization_id) else {
                return false;
            };
            let day = |t: DateTime<Utc>| t.with_timezone(tz).date_naive();
            m.digest_sent_at.map(day) != Some(day(now))
        })
        .collect();
    if members.is_empty() {
        return Ok(0);
    }
    let user_ids: Vec<Uuid> = members.iter().map(|m| m.user_id).collect();
    let users = crate::identity::enabled_users(db.conn(), user_ids.clone()).await?;
    // Each member's news is what happened since their last digest (a first one: the last day).
    let since_of = |m: &memberships::Model| {
        m.digest_sent_at
            .unwrap_or(now - WINDOW)
            .max(now - MAX_LOOKBACK)
    };
    let earliest = members.iter().map(since_of).min().unwrap_or(now - WINDOW);
    let news = News::load(db, now, earliest, &org_ids, &user_ids).await?;

    let mut sent = 0;
    for member in members {
        let (Some(user), Some((org, tz))) = (
            users.get(&member.user_id),
            orgs.get(&member.organization_id),
        ) else {
            continue;
        };
        let tx = db.begin_write().await?;
        let unchanged = match member.digest_sent_at {
            Some(at) => memberships::Column::DigestSentAt.eq(at),
            None => memberships::Column::DigestSentAt.is_null(),
        };
        let claimed = memberships::Entity::update_many()
            .col_expr(memberships::Column::DigestSentAt, Expr::value(now))
            .filter(memberships::Column::Id.eq(member.id))
            .filter(unchanged)
            .exec(&tx)
            .await?
            .rows_affected
            == 1;
        let digest = news.for_member(org, user, since_of(&member));
        if !claimed || digest.is_empty() {
            // Claimed with nothing to say: today is done for them all the same.
            tx.commit().await?;
            continue;
        }
        let email = account::digest(&org.default_language, digest, *tz);
        queue_account_email(&tx, &OrgScope::system(org.id), &user.email, email).await?;
        tx.commit().await?;
        sent += 1;
    }
    Ok(sent)
}

/// Everything the sweep's digests may list (the last day's), read at once; each member's
/// digest takes what happened since their own last one.
struct News {
    /// (organization, point person) → (when, person) newly theirs, oldest first.
    assigned: PerMember<(DateTime<Utc>, String)>,
    /// (organization, assignee) → open tasks due by tomorrow, soonest first.
    tasks: PerMember<(String, DateTime<Utc>)>,
    /// (organization, point person) → (when, (person, event title)) of each no-show.
    no_shows: PerMember<(DateTime<Utc>, (String, String))>,
}

/// Rows by (organization, member).
type PerMember<T> = HashMap<(Uuid, Uuid), Vec<T>>;

impl News {
    /// What happened after `since` and up to `now` (a later change is the next digest's).
    async fn load(
        db: &Db,
        now: DateTime<Utc>,
        since: DateTime<Utc>,
        org_ids: &[Uuid],
        user_ids: &[Uuid],
    ) -> DomainResult<Self> {
        let mut assigned: PerMember<(DateTime<Utc>, String)> = HashMap::new();
        for p in people::Entity::find()
            .filter(people::Column::OrganizationId.is_in(org_ids.to_vec()))
            .filter(people::Column::PointPersonUserId.is_in(user_ids.to_vec()))
            .filter(people::Column::PointPersonAssignedAt.gt(since))
            .filter(people::Column::PointPersonAssignedAt.lte(now))
            .filter(people::Column::ArchivedAt.is_null())
            .order_by_asc(people::Column::PointPersonAssignedAt)
            .all(db.conn())
            .await?
        {
            if let (Some(user), Some(at)) = (p.point_person_user_id, p.point_person_assigned_at) {
                assigned
                    .entry((p.organization_id, user))
                    .or_default()
                    .push((at, display_name(&p)));
            }
        }
        let mut due: PerMember<(String, DateTime<Utc>)> = HashMap::new();
        for t in tasks::Entity::find()
            .filter(tasks::Column::OrganizationId.is_in(org_ids.to_vec()))
            .filter(tasks::Column::Status.eq(crate::tasks::OPEN))
            .filter(tasks::Column::AssigneeUserId.is_in(user_ids.to_vec()))
            .filter(tasks::Column::DueAt.lte(now + WINDOW))
            .order_by_asc(tasks::Column::DueAt)
            .all(db.conn())
            .await?
        {
            if let (Some(user), Some(at)) = (t.assignee_user_id, t.due_at) {
                due.entry((t.organization_id, user))
                    .or_default()
                    .push((t.title, at));
            }
        }
        // Marked by the sweep (`missed_at`, which nothing else moves) or by staff (then only
        // `updated_at` says when).
        let when = |col: rsvps::Column| Condition::all().add(col.gt(since)).add(col.lte(now));
        let missed = rsvps::Entity::find()
            .filter(rsvps::Column::OrganizationId.is_in(org_ids.to_vec()))
            .filter(rsvps::Column::Status.eq("no_show"))
            .filter(
                Condition::any()
                    .add(when(rsvps::Column::MissedAt))
                    .add(when(rsvps::Column::UpdatedAt).add(rsvps::Column::MissedAt.is_null())),
            )
            .order_by_asc(rsvps::Column::UpdatedAt)
            .all(db.conn())
            .await?;
        let mut no_shows: PerMember<(DateTime<Utc>, (String, String))> = HashMap::new();
        if !missed.is_empty() {
            let person_ids: HashSet<Uuid> = missed.iter().map(|r| r.person_id).collect();
            let theirs: HashMap<Uuid, people::Model> = people::Entity::find()
                .filter(people::Column::Id.is_in(person_ids))
                .filter(people::Column::PointPersonUserId.is_in(user_ids.to_vec()))
                .filter(people::Column::ArchivedAt.is_null())
                .all(db.conn())
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect();
            let shift_ids: HashSet<Uuid> = missed.iter().map(|r| r.shift_id).collect();
            let event_of: HashMap<Uuid, Uuid> = shifts::Entity::find()
                .filter(shifts::Column::Id.is_in(shift_ids))
                .all(db.conn())
                .await?
                .into_iter()
                .map(|s| (s.id, s.event_id))
                .collect();
            let titles: HashMap<Uuid, String> = events::Entity::find()
                .filter(events::Column::Id.is_in(event_of.values().copied().collect::<Vec<_>>()))
                .all(db.conn())
                .await?
                .into_iter()
                .map(|e| (e.id, e.title))
                .collect();
            for r in &missed {
                let Some(person) = theirs.get(&r.person_id) else {
                    continue;
                };
                let (Some(user), Some(title)) = (
                    person.point_person_user_id,
                    event_of.get(&r.shift_id).and_then(|e| titles.get(e)),
                ) else {
                    continue;
                };
                no_shows
                    .entry((r.organization_id, user))
                    .or_default()
                    .push((
                        r.missed_at.unwrap_or(r.updated_at),
                        (display_name(person), title.clone()),
                    ));
            }
        }
        Ok(Self {
            assigned,
            tasks: due,
            no_shows,
        })
    }

    fn for_member<'a>(
        &'a self,
        org: &'a organizations::Model,
        user: &'a users::Model,
        since: DateTime<Utc>,
    ) -> account::Digest<'a> {
        fn after<T: Clone>(rows: Option<&Vec<(DateTime<Utc>, T)>>, since: DateTime<Utc>) -> Vec<T> {
            rows.into_iter()
                .flatten()
                .filter(|(at, _)| *at > since)
                .map(|(_, v)| v.clone())
                .collect()
        }
        let key = (org.id, user.id);
        account::Digest {
            org_name: &org.name,
            member: &user.name,
            new_people: after(self.assigned.get(&key), since),
            tasks: self.tasks.get(&key).cloned().unwrap_or_default(),
            no_shows: after(self.no_shows.get(&key), since),
        }
    }
}
