//! Chapters: the local groups of an organization, which can nest (a region and the chapters
//! in it). People, events, forms and members belong to one; a member limited to chapters sees
//! and works in those and the chapters within them. An archived chapter keeps its people and
//! history but takes nobody new.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use turnout_entity::chapters;
use uuid::Uuid;

use super::chapter_rules;
use super::senders::{Senders, SendersChanges};

use crate::audit::{self, RequestContext};
use crate::auth::{Can, Principal, perm};
use crate::db::{Db, taken_if_unique};
use crate::error::{DomainError, DomainResult, Problems};
use crate::values::required_text;

/// The longest chapter name.
const MAX_NAME: usize = 100;

/// A chapter with the zip codes that place new people in it.
#[derive(Clone, Debug)]
pub struct ChapterInfo {
    pub row: chapters::Model,
    /// Normalized codes (or prefixes), sorted.
    pub zip_codes: Vec<String>,
}

impl ChapterInfo {
    /// A chapter that holds no zip codes (new, or archived).
    fn without_codes(row: chapters::Model) -> Self {
        Self {
            row,
            zip_codes: Vec::new(),
        }
    }
}

/// The chapters the caller may see, by name: all of the organization's, or for a caller
/// limited to chapters, those (and the chapters within them). Archived chapters only when
/// asked. Any credential of the organization may read them; two statements.
pub async fn list(
    db: &Db,
    principal: &Principal,
    include_archived: bool,
) -> DomainResult<Vec<ChapterInfo>> {
    let mut q = chapters::Entity::find()
        .filter(chapters::Column::OrganizationId.eq(principal.org_id()))
        .order_by_asc(chapters::Column::Name)
        .order_by_asc(chapters::Column::Id);
    if let Some(own) = principal.chapters() {
        q = q.filter(chapters::Column::Id.is_in(own.iter().copied()));
    }
    if !include_archived {
        q = q.filter(chapters::Column::ArchivedAt.is_null());
    }
    let rows = q.all(db.conn()).await?;
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let mut codes = chapter_rules::codes_of(db.conn(), principal.org_id(), &ids).await?;
    Ok(rows
        .into_iter()
        .map(|row| ChapterInfo {
            zip_codes: codes.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect())
}

/// One chapter of the organization, with its codes.
async fn info<C: ConnectionTrait>(
    conn: &C,
    org_id: Uuid,
    row: chapters::Model,
) -> DomainResult<ChapterInfo> {
    let mut codes = chapter_rules::codes_of(conn, org_id, &[row.id]).await?;
    Ok(ChapterInfo {
        zip_codes: codes.remove(&row.id).unwrap_or_default(),
        row,
    })
}

/// Chapter `id` of organization `org_id`, archived or not; `NOT_FOUND` for another's.
pub(crate) async fn find<C: ConnectionTrait>(
    conn: &C,
    org_id: Uuid,
    id: Uuid,
) -> DomainResult<chapters::Model> {
    chapters::Entity::find_by_id(id)
        .filter(chapters::Column::OrganizationId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(DomainError::not_found("chapter"))
}

/// `roots` and every chapter nested in them, at any depth: one statement. A member limited
/// to a region works in its chapters too.
pub(crate) async fn with_descendants<C: ConnectionTrait>(
    conn: &C,
    org_id: Uuid,
    roots: Vec<Uuid>,
) -> DomainResult<Vec<Uuid>> {
    if roots.is_empty() {
        return Ok(roots);
    }
    let links: Vec<(Uuid, Option<Uuid>)> = chapters::Entity::find()
        .filter(chapters::Column::OrganizationId.eq(org_id))
        .filter(chapters::Column::ParentId.is_not_null())
        .select_only()
        .column(chapters::Column::Id)
        .column(chapters::Column::ParentId)
        .into_tuple()
        .all(conn)
        .await?;
    let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for (id, parent) in links {
        if let Some(parent) = parent {
            children.entry(parent).or_default().push(id);
        }
    }
    let mut seen: HashSet<Uuid> = HashSet::new();
    let mut stack = roots;
    let mut out = Vec::new();
    while let Some(id) = stack.pop() {
        if seen.insert(id) {
            out.push(id);
            stack.extend(children.get(&id).into_iter().flatten().copied());
        }
    }
    out.sort();
    Ok(out)
}

/// The organization's chapters as the public sees them (id and name, by name), to filter its
/// public events by.
pub async fn public_names(db: &Db, org_id: Uuid) -> DomainResult<Vec<(Uuid, String)>> {
    Ok(chapters::Entity::find()
        .filter(chapters::Column::OrganizationId.eq(org_id))
        .filter(chapters::Column::ArchivedAt.is_null())
        .order_by_asc(chapters::Column::Name)
        .order_by_asc(chapters::Column::Id)
        .all(db.conn())
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

/// Creates a chapter, within chapter `parent` (a region) if given. Its slug comes from the
/// name and stays when the chapter is renamed.
pub async fn create(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    name: &str,
    parent: Option<Uuid>,
) -> DomainResult<ChapterInfo> {
    refuse_if_limited(scope)?;
    let name = required_text("name", Some(name), MAX_NAME)?;
    let slug = slugify(&name);
    let tx = db.begin_write().await?;
    refuse_taken_name(&tx, scope, None, &slug).await?;
    if let Some(parent) = parent {
        open_parent(&tx, scope.org_id(), parent).await?;
    }
    let row = chapters::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        name: Set(name),
        slug: Set(slug),
        created_at: Set(Utc::now()),
        parent_id: Set(parent),
        archived_at: Set(None),
        email_from: Set(None),
        sms_from: Set(None),
        whatsapp_from: Set(None),
    }
    .insert(&tx)
    .await
    .map_err(|e| taken_if_unique(e, "name", "a chapter with this name already exists"))?;
    audit::record(
        &tx,
        scope,
        ctx,
        "chapter.create",
        "chapter",
        Some(row.id),
        &["name", "slug", "parent_id"],
    )
    .await?;
    tx.commit().await?;
    Ok(ChapterInfo::without_codes(row))
}

/// Renames a chapter of the organization.
pub async fn rename(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    id: Uuid,
    name: &str,
) -> DomainResult<ChapterInfo> {
    refuse_if_limited(scope)?;
    let name = required_text("name", Some(name), MAX_NAME)?;
    let tx = db.begin_write().await?;
    let row = find(&tx, scope.org_id(), id).await?;
    refuse_taken_name(&tx, scope, Some(id), &slugify(&name)).await?;
    let mut active: chapters::ActiveModel = row.into();
    active.name = Set(name);
    let row = active.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "chapter.rename",
        "chapter",
        Some(row.id),
        &["name"],
    )
    .await?;
    let info = info(&tx, scope.org_id(), row).await?;
    tx.commit().await?;
    Ok(info)
}

/// Moves chapter `id` into chapter `parent` (a region), or to the top with `None`. The parent
/// must be an open chapter of the organization and not the chapter itself or one within it
/// (`VALIDATION` on `parentId`). Members limited to the parent work in the chapter from their
/// next request. Audited as `chapter.move`.
pub async fn set_parent(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    id: Uuid,
    parent: Option<Uuid>,
) -> DomainResult<ChapterInfo> {
    refuse_if_limited(scope)?;
    let tx = db.begin_write().await?;
    let row = find(&tx, scope.org_id(), id).await?;
    if row.parent_id == parent {
        let info = info(&tx, scope.org_id(), row).await?;
        tx.commit().await?;
        return Ok(info);
    }
    if let Some(parent) = parent {
        open_parent(&tx, scope.org_id(), parent).await?;
        let within = with_descendants(&tx, scope.org_id(), vec![id]).await?;
        if within.contains(&parent) {
            return Err(DomainError::validation(
                "parentId",
                "a chapter cannot be placed within itself or a chapter inside it",
            ));
        }
    }
    let mut active: chapters::ActiveModel = row.into();
    active.parent_id = Set(parent);
    let row = active.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "chapter.move",
        "chapter",
        Some(id),
        &["parent_id"],
    )
    .await?;
    let info = info(&tx, scope.org_id(), row).await?;
    // Who works in which chapter follows the nesting: cached principals are read again.
    crate::credential_cache::commit_change(db, tx).await?;
    Ok(info)
}

/// Archives chapter `id`: it leaves the lists and the public pages, no new person or event
/// goes into it, and its zip codes are removed (free for the chapters that take over). Its
/// people, events and members stay as they are. A chapter with open chapters inside it is
/// `CONFLICT` (move or archive those first). Audited as `chapter.archive`; archiving an
/// archived chapter changes nothing.
pub async fn archive(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<ChapterInfo> {
    refuse_if_limited(scope)?;
    let tx = db.begin_write().await?;
    let row = find(&tx, scope.org_id(), id).await?;
    if row.archived_at.is_some() {
        tx.commit().await?;
        return Ok(ChapterInfo::without_codes(row));
    }
    let open_children = chapters::Entity::find()
        .filter(chapters::Column::OrganizationId.eq(scope.org_id()))
        .filter(chapters::Column::ParentId.eq(id))
        .filter(chapters::Column::ArchivedAt.is_null())
        .order_by_asc(chapters::Column::Name)
        .all(&tx)
        .await?;
    if let Some(child) = open_children.first() {
        return Err(DomainError::Conflict(format!(
            "chapter “{}” is inside this one; move or archive it first",
            child.name
        )));
    }
    chapter_rules::clear(&tx, id).await?;
    let mut active: chapters::ActiveModel = row.into();
    active.archived_at = Set(Some(Utc::now()));
    let row = active.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "chapter.archive",
        "chapter",
        Some(id),
        &["archived_at", "zip_codes"],
    )
    .await?;
    tx.commit().await?;
    Ok(ChapterInfo::without_codes(row))
}

/// Restores an archived chapter (without the zip codes it had: set them again). Its parent
/// must be open. Audited as `chapter.restore`.
pub async fn restore(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    id: Uuid,
) -> DomainResult<ChapterInfo> {
    refuse_if_limited(scope)?;
    let tx = db.begin_write().await?;
    let row = find(&tx, scope.org_id(), id).await?;
    if row.archived_at.is_none() {
        let info = info(&tx, scope.org_id(), row).await?;
        tx.commit().await?;
        return Ok(info);
    }
    if let Some(parent) = row.parent_id {
        open_parent(&tx, scope.org_id(), parent)
            .await
            .map_err(|_| {
                DomainError::Conflict(
                    "the chapter this one is inside is archived; restore it first".into(),
                )
            })?;
    }
    let mut active: chapters::ActiveModel = row.into();
    active.archived_at = Set(None);
    let row = active.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "chapter.restore",
        "chapter",
        Some(id),
        &["archived_at"],
    )
    .await?;
    tx.commit().await?;
    Ok(ChapterInfo::without_codes(row))
}

/// Sets who messages to the chapter's people come from (and to the people of the chapters
/// inside it that set none): `None` in `changes` leaves a sender, `Some(None)` clears it, so
/// the region's or the organization's applies. Every refused value is reported at once, under
/// `input.emailFrom`, `input.smsFrom` and `input.whatsappFrom`. Audited as `chapter.senders`.
pub async fn set_senders(
    db: &Db,
    scope: &Can<perm::Admin>,
    ctx: &RequestContext,
    id: Uuid,
    changes: SendersChanges,
) -> DomainResult<ChapterInfo> {
    if scope.chapters().is_some() {
        return Err(DomainError::Forbidden(
            "a caller limited to chapters cannot change who messages come from".into(),
        ));
    }
    let tx = db.begin_write().await?;
    let row = find(&tx, scope.org_id(), id).await?;
    let org = turnout_entity::organizations::Entity::find_by_id(scope.org_id())
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("organization"))?;
    let mut problems = Problems::new();
    let changes = changes.validate(&mut problems, "input.", &org.phone_region)?;
    problems.finish()?;
    let mut senders = Senders::of_chapter(&row);
    let fields = changes.apply(&mut senders);
    let mut active: chapters::ActiveModel = row.into();
    active.email_from = Set(senders.email_from);
    active.sms_from = Set(senders.sms_from);
    active.whatsapp_from = Set(senders.whatsapp_from);
    let row = active.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "chapter.senders",
        "chapter",
        Some(id),
        &fields,
    )
    .await?;
    let info = info(&tx, scope.org_id(), row).await?;
    tx.commit().await?;
    Ok(info)
}

/// An open (not archived) chapter of the organization, for something to go into;
/// `VALIDATION` on `field` otherwise (an unknown or another organization's id is the same).
pub(crate) async fn open_chapter<C: ConnectionTrait>(
    conn: &C,
    org_id: Uuid,
    id: Uuid,
    field: &str,
) -> DomainResult<chapters::Model> {
    let row = find(conn, org_id, id).await?;
    if row.archived_at.is_some() {
        return Err(DomainError::validation(
            field,
            format!("chapter “{}” is archived", row.name),
        ));
    }
    Ok(row)
}

async fn open_parent<C: ConnectionTrait>(conn: &C, org_id: Uuid, id: Uuid) -> DomainResult<()> {
    open_chapter(conn, org_id, id, "parentId").await.map(|_| ())
}

/// `CONFLICT` on `name` when another chapter of the organization has this name up to case and
/// punctuation, by its current name or by its slug (which keeps its first name). The unique
/// slug index stays the backstop for two creations racing.
async fn refuse_taken_name<C: ConnectionTrait>(
    conn: &C,
    scope: &Can<perm::MembersManage>,
    except: Option<Uuid>,
    slug: &str,
) -> DomainResult<()> {
    let mut q =
        chapters::Entity::find().filter(chapters::Column::OrganizationId.eq(scope.org_id()));
    if let Some(id) = except {
        q = q.filter(chapters::Column::Id.ne(id));
    }
    let taken = q
        .all(conn)
        .await?
        .iter()
        .any(|c| c.slug == slug || slugify(&c.name) == slug);
    if taken {
        return Err(DomainError::taken(
            "name",
            "a chapter with this name already exists",
        ));
    }
    Ok(())
}

/// Chapters shape the whole organization: a member limited to some of them does not make,
/// rename, move or archive any.
pub(crate) fn refuse_if_limited(scope: &Can<perm::MembersManage>) -> DomainResult<()> {
    if scope.chapters().is_some() {
        return Err(DomainError::Forbidden(
            "a caller limited to chapters cannot change chapters".into(),
        ));
    }
    Ok(())
}

/// `North Side (Brooklyn)` → `north-side-brooklyn`; unique per organization, so two chapters
/// cannot share a name up to case and punctuation.
fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "chapter".into()
    } else {
        slug.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_fold_case_and_punctuation() {
        assert_eq!(slugify("North Side (Brooklyn)"), "north-side-brooklyn");
        assert_eq!(slugify("  Zona Sur—Ñuñoa "), "zona-sur-ñuñoa");
        assert_eq!(slugify("!!!"), "chapter");
    }
}
