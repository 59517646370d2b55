//! First start: an empty database gets an organization, its owner, an admin API key and a
//! sign-up form, so a newcomer can make an authenticated query within minutes. Later
//! organizations (`turnout org create`) get an owner invitation instead, and a key if asked.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    Set,
};
use turnout_entity::{memberships, organizations, users};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{self, OrgScope, Role, Scope};
use crate::db::Db;
use crate::error::{DomainResult, Problems};
use crate::forms::{self, FieldKey, FormField, NewForm};
use crate::identity::{self, NewInvitation};
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

/// An organization and its owner, inserted in the caller's transaction.
struct Inserted {
    org_id: Uuid,
    slug: String,
    name: String,
    owner_email: Email,
    owner_id: Uuid,
}

async fn insert_organization(
    tx: &DatabaseTransaction,
    name: &str,
    owner_email: &str,
) -> DomainResult<Inserted> {
    let mut problems = Problems::new();
    let name = problems.take(required_text("name", Some(name), 200))?;
    let owner_email = problems.take(Email::parse("ownerEmail", owner_email))?;
    problems.finish()?;
    let (Some(name), Some(owner_email)) = (name, owner_email) else {
        return Err(crate::DomainError::internal("checked fields went missing"));
    };
    let now = Utc::now();
    let org_id = Uuid::now_v7();
    let slug = format!("{}-{}", slugify(&name), auth::random_code(6));
    organizations::ActiveModel {
        id: Set(org_id),
        name: Set(name.clone()),
        slug: Set(slug.clone()),
        created_at: Set(now),
        phone_region: Set(crate::organization::settings::DEFAULT_PHONE_REGION.to_owned()),
        brand_color: Set(None),
        logo_data_url: Set(None),
        frame_ancestors: Set(None),
        suspended_at: Set(None),
        suspended_reason: Set(None),
        time_zone: Set(None),
        default_language: Set(crate::organization::settings::DEFAULT_LANGUAGE.to_owned()),
        email_from: Set(None),
        sms_from: Set(None),
        whatsapp_from: Set(None),
        thank_attendees: Set(false),
        follow_up_no_shows: Set(false),
        organizer_digest: Set(false),
    }
    .insert(tx)
    .await?;
    let user_id = match users::Entity::find()
        .filter(users::Column::Email.eq(owner_email.as_str()))
        .one(tx)
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
            .insert(tx)
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
        disabled_at: Set(None),
        digest_sent_at: Set(None),
    }
    .insert(tx)
    .await?;
    Ok(Inserted {
        org_id,
        slug,
        name,
        owner_email,
        owner_id: user_id,
    })
}

/// Creates an organization with an owner, an admin API key and, if asked, a starter sign-up
/// form with that slug. All of it or nothing.
pub async fn create_organization(
    db: &Db,
    name: &str,
    owner_email: &str,
    starter_form: Option<&str>,
) -> DomainResult<Bootstrapped> {
    let tx = db.begin_write().await?;
    let Inserted {
        org_id,
        name,
        owner_email,
        owner_id,
        ..
    } = insert_organization(&tx, name, owner_email).await?;
    let key = auth::create_api_key(
        &tx,
        org_id,
        "bootstrap admin key",
        &[Scope::Admin],
        Some(owner_id),
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
                    chapter_id: None,
                    slug: slug.to_owned(),
                    title: "Volunteer with us".into(),
                    description: Some(
                        "Join the campaign: tell us how to reach you and we'll be in touch about ways to help.".into(),
                    ),
                    fields: vec![
                        FormField::new(FieldKey::FirstName, true),
                        FormField::new(FieldKey::LastName, false),
                        FormField::new(FieldKey::Email, true),
                        FormField::new(FieldKey::Phone, false),
                        FormField::new(FieldKey::Zip, false),
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

/// A new organization made by the operator (`turnout org create`): the owner's invitation,
/// and an admin API key if one was asked for. Both are shown once and not stored.
#[derive(Debug)]
pub struct NewOrganization {
    pub organization_id: Uuid,
    pub slug: String,
    pub name: String,
    pub owner_invitation: NewInvitation,
    pub api_key: Option<String>,
}

/// Creates an organization, its owner and the owner's invitation (accepted with
/// `acceptInvitation`, which sets the owner's password), and with `admin_key` an admin API
/// key. All of it or nothing; audited as `organization.create`. With `links` (the API knows
/// the public address; the CLI prints the token instead) the invitation is also emailed.
pub async fn create_with_owner(
    db: &Db,
    ctx: &RequestContext,
    links: Option<&crate::links::PublicLinks>,
    name: &str,
    owner_email: &str,
    admin_key: bool,
) -> DomainResult<NewOrganization> {
    let tx = db.begin_write().await?;
    let org = insert_organization(&tx, name, owner_email).await?;
    let scope = OrgScope::system(org.org_id);
    audit::record(
        &tx,
        &scope,
        ctx,
        "organization.create",
        "organization",
        Some(org.org_id),
        &["name", "slug"],
    )
    .await?;
    let owner_invitation = identity::insert_invitation(
        &tx,
        &scope,
        ctx,
        &org.owner_email,
        Role::Owner,
        Vec::new(),
        None,
    )
    .await?;
    if let Some(links) = links {
        identity::email_invitation(&tx, &scope, links, &owner_invitation).await?;
    }
    let api_key = if admin_key {
        let key = auth::create_api_key(
            &tx,
            org.org_id,
            "operator admin key",
            &[Scope::Admin],
            Some(org.owner_id),
            None,
        )
        .await?;
        Some(key.token)
    } else {
        None
    };
    tx.commit().await?;
    Ok(NewOrganization {
        organization_id: org.org_id,
        slug: org.slug,
        name: org.name,
        owner_invitation,
        api_key,
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
