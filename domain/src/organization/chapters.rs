//! Chapters: the local groups of an organization. People, events, forms and members belong to
//! one; a member limited to chapters sees and works in those only.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use turnout_entity::chapters;
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{Can, Principal, perm};
use crate::db::{Db, taken_if_unique};
use crate::error::{DomainError, DomainResult};
use crate::values::required_text;

/// The longest chapter name.
const MAX_NAME: usize = 100;

/// The chapters the caller may see, by name: all of the organization's, or for a caller
/// limited to chapters, those. Any credential of the organization may read them.
pub async fn list(db: &Db, principal: &Principal) -> DomainResult<Vec<chapters::Model>> {
    let mut q = chapters::Entity::find()
        .filter(chapters::Column::OrganizationId.eq(principal.org_id()))
        .order_by_asc(chapters::Column::Name)
        .order_by_asc(chapters::Column::Id);
    if let Some(own) = principal.chapters() {
        q = q.filter(chapters::Column::Id.is_in(own.iter().copied()));
    }
    Ok(q.all(db.conn()).await?)
}

/// The organization's chapters as the public sees them (id and name, by name), to filter its
/// public events by.
pub async fn public_names(db: &Db, org_id: Uuid) -> DomainResult<Vec<(Uuid, String)>> {
    Ok(chapters::Entity::find()
        .filter(chapters::Column::OrganizationId.eq(org_id))
        .order_by_asc(chapters::Column::Name)
        .order_by_asc(chapters::Column::Id)
        .all(db.conn())
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect())
}

/// Creates a chapter. Its slug comes from the name and stays when the chapter is renamed.
pub async fn create(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    name: &str,
) -> DomainResult<chapters::Model> {
    refuse_if_limited(scope)?;
    let name = required_text("name", Some(name), MAX_NAME)?;
    let slug = slugify(&name);
    let tx = db.begin_write().await?;
    refuse_taken_name(&tx, scope, None, &slug).await?;
    let row = chapters::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(scope.org_id()),
        name: Set(name),
        slug: Set(slug),
        created_at: Set(Utc::now()),
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
        &["name", "slug"],
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Renames a chapter of the organization.
pub async fn rename(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    id: Uuid,
    name: &str,
) -> DomainResult<chapters::Model> {
    refuse_if_limited(scope)?;
    let name = required_text("name", Some(name), MAX_NAME)?;
    let tx = db.begin_write().await?;
    let row = chapters::Entity::find_by_id(id)
        .filter(chapters::Column::OrganizationId.eq(scope.org_id()))
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("chapter"))?;
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
    tx.commit().await?;
    Ok(row)
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

/// Chapters shape the whole organization: a member limited to some of them does not make or
/// rename any.
fn refuse_if_limited(scope: &Can<perm::MembersManage>) -> DomainResult<()> {
    if scope.chapters().is_some() {
        return Err(DomainError::Forbidden(
            "a caller limited to chapters cannot create or rename chapters".into(),
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
