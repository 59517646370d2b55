//! First start: an empty database gets an organization, its owner, an admin API key and a
//! sign-up form, so a newcomer can make an authenticated query within minutes.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use turnout_entity::{memberships, organizations, users};
use uuid::Uuid;

use crate::auth::{self, OrgScope, Scope};
use crate::db::Db;
use crate::error::DomainResult;
use crate::forms::{self, FieldKey, FormField, NewForm};
use crate::values::{Email, required_text};

/// What first start created; the key is shown once and not stored.
#[derive(Debug)]
pub struct Bootstrapped {
    pub organization_id: Uuid,
    pub organization_name: String,
    pub owner_email: String,
    pub api_key: String,
    pub form_slug: String,
}

/// The sign-up form every new organization starts with.
pub const STARTER_FORM_SLUG: &str = "volunteer";

/// Sets up the database if it holds no organization yet; otherwise does nothing.
pub async fn bootstrap_if_empty(
    db: &Db,
    org_name: &str,
    owner_email: &str,
) -> DomainResult<Option<Bootstrapped>> {
    if organizations::Entity::find().count(db.conn()).await? > 0 {
        return Ok(None);
    }
    create_organization(db, org_name, owner_email, Some(STARTER_FORM_SLUG))
        .await
        .map(Some)
}

/// Creates an organization with an owner, an admin API key and, if asked, a starter sign-up
/// form with that slug. All of it or nothing.
pub async fn create_organization(
    db: &Db,
    name: &str,
    owner_email: &str,
    starter_form: Option<&str>,
) -> DomainResult<Bootstrapped> {
    let name = required_text("name", Some(name), 200)?;
    let owner_email = Email::parse("ownerEmail", owner_email)?;
    let now = Utc::now();
    let org_id = Uuid::now_v7();
    let tx = db.begin_write().await?;
    let slug = format!("{}-{}", slugify(&name), auth::random_code(6));
    organizations::ActiveModel {
        id: Set(org_id),
        name: Set(name.clone()),
        slug: Set(slug),
        created_at: Set(now),
    }
    .insert(&tx)
    .await?;
    let user_id = match users::Entity::find()
        .filter(users::Column::Email.eq(owner_email.as_str()))
        .one(&tx)
        .await?
    {
        Some(user) => user.id,
        None => {
            let id = Uuid::now_v7();
            users::ActiveModel {
                id: Set(id),
                email: Set(owner_email.as_str().to_owned()),
                name: Set("Owner".into()),
                password_hash: Set(None),
                disabled_at: Set(None),
                created_at: Set(now),
            }
            .insert(&tx)
            .await?;
            id
        }
    };
    memberships::ActiveModel {
        id: Set(Uuid::now_v7()),
        organization_id: Set(org_id),
        user_id: Set(user_id),
        role: Set("owner".into()),
        created_at: Set(now),
    }
    .insert(&tx)
    .await?;
    let key = auth::create_api_key(
        &tx,
        org_id,
        "bootstrap admin key",
        &[Scope::Admin],
        Some(user_id),
        None,
    )
    .await?;
    let scope = OrgScope::system(org_id);
    let form_slug = match starter_form {
        Some(slug) => {
            let form = forms::insert(
                &tx,
                &scope,
                NewForm {
                    slug: slug.to_owned(),
                    title: "Volunteer with us".into(),
                    fields: vec![
                        FormField { key: FieldKey::FirstName, required: true },
                        FormField { key: FieldKey::LastName, required: false },
                        FormField { key: FieldKey::Email, required: true },
                        FormField { key: FieldKey::Phone, required: false },
                        FormField { key: FieldKey::Zip, required: false },
                    ],
                    default_tags: vec!["volunteer".into()],
                    consent_text: Some(
                        "I agree to receive texts about volunteering. Msg & data rates may apply. Reply STOP to opt out."
                            .into(),
                    ),
                },
            )
            .await?;
            form.row.slug
        }
        None => String::new(),
    };
    tx.commit().await?;
    Ok(Bootstrapped {
        organization_id: org_id,
        organization_name: name,
        owner_email: owner_email.as_str().to_owned(),
        api_key: key.token,
        form_slug,
    })
}

fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    if slug.is_empty() {
        "org".into()
    } else {
        slug.chars().take(40).collect()
    }
}

/// The recovery path (`turnout org recover`, on the server): a new admin API key for the
/// organization named by `org` (its UUID or slug), for when every key was revoked and no owner
/// can sign in. Only someone with the database can do this; it is audited as
/// `api_key.recover`.
pub async fn recover_admin_key(db: &Db, org: &str) -> DomainResult<(Uuid, auth::NewApiKey)> {
    let org = org.trim();
    let by_id = Uuid::parse_str(org).ok();
    let found = organizations::Entity::find()
        .filter(match by_id {
            Some(id) => organizations::Column::Id.eq(id),
            None => organizations::Column::Slug.eq(org),
        })
        .one(db.conn())
        .await?
        .ok_or(crate::DomainError::not_found("organization"))?;
    let tx = db.begin_write().await?;
    let key = auth::create_api_key(
        &tx,
        found.id,
        "recovery admin key",
        &[Scope::Admin],
        None,
        None,
    )
    .await?;
    crate::audit::record(
        &tx,
        &OrgScope::system(found.id),
        &crate::audit::RequestContext {
            client_ip: Some("turnout org recover".into()),
        },
        "api_key.recover",
        "api_key",
        Some(key.id),
        &["name", "scopes"],
    )
    .await?;
    tx.commit().await?;
    Ok((found.id, key))
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs_from_names() {
        assert_eq!(slugify("Mayor 2026 — NYC!"), "mayor-2026-nyc");
        assert_eq!(slugify("!!!"), "org");
    }
}
