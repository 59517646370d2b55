//! Who is calling, and what they may touch.
//!
//! A [`Principal`] is made only by authenticating a credential here. A tenant query needs an
//! [`OrgScope`], and an `OrgScope` comes only from a principal (or, inside this crate, from a
//! public form that names its organization). So no service can read a tenant's rows without
//! having been told which tenant, by someone who proved it.
//!
//! Every staff service names the permission it needs in its signature, as a [`Can<P>`] whose
//! `P` is one of the [`perm`] types, and the only public way to get a `Can<P>` is
//! [`Principal::can`], which checks `P`. So a scope obtained for reading does not compile into a
//! write service:
//!
//! ```compile_fail,E0308
//! use turnout_domain::auth::{perm, Can, Principal};
//! fn write(_: &Can<perm::PeopleWrite>) {}
//! fn resolver(caller: &Principal) {
//!     let read = caller.can::<perm::PeopleRead>().unwrap();
//!     write(&read); // expected `Can<PeopleWrite>`, found `Can<PeopleRead>`
//! }
//! ```
//!
//! while the scope checked for writing does:
//!
//! ```
//! use turnout_domain::auth::{perm, Can, Principal};
//! fn write(_: &Can<perm::PeopleWrite>) {}
//! fn resolver(caller: &Principal) -> turnout_domain::DomainResult<()> {
//!     write(&caller.can::<perm::PeopleWrite>()?);
//!     Ok(())
//! }
//! ```
//!
//! The few public functions that take a bare `OrgScope` are steps that run inside another
//! service's transaction (`outbox::record`, `messaging::queue_message`) and the automation read
//! model, whose permission is the automation's capability grants, checked by the plugin host.

use std::marker::PhantomData;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use turnout_entity::{api_keys, membership_chapters, memberships, organizations, users};
use uuid::Uuid;

use crate::credential_cache;
use crate::db::Db;
use crate::error::{DomainError, DomainResult};

/// What an API key may do. Users get scopes from their role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    PeopleRead,
    PeopleWrite,
    /// Read and write restricted custom fields (sensitive data such as union membership).
    PeopleRestricted,
    EventsRead,
    EventsWrite,
    FormsWrite,
    AutomationsWrite,
    /// Install plugins, create and change automations, read runs, dry-run and replay.
    AutomationsManage,
    WebhooksWrite,
    /// Create, list and revoke API keys.
    KeysManage,
    /// Invite users and manage memberships.
    MembersManage,
    /// Read workplaces, employment, organizing campaigns, assessments, relationships and
    /// one-on-ones: the most sensitive data Turnout holds (every wall-chart read is audited).
    OrganizingRead,
    /// Change them.
    OrganizingWrite,
    /// Create and send broadcasts (a message to a whole segment) and read their progress.
    MessagesSend,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 15] = [
        Scope::PeopleRead,
        Scope::PeopleWrite,
        Scope::PeopleRestricted,
        Scope::EventsRead,
        Scope::EventsWrite,
        Scope::FormsWrite,
        Scope::AutomationsWrite,
        Scope::AutomationsManage,
        Scope::WebhooksWrite,
        Scope::KeysManage,
        Scope::MembersManage,
        Scope::OrganizingRead,
        Scope::OrganizingWrite,
        Scope::MessagesSend,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::PeopleRead => "people:read",
            Scope::PeopleWrite => "people:write",
            Scope::PeopleRestricted => "people:restricted",
            Scope::EventsRead => "events:read",
            Scope::EventsWrite => "events:write",
            Scope::FormsWrite => "forms:write",
            Scope::AutomationsWrite => "automations:write",
            Scope::AutomationsManage => "automations:manage",
            Scope::WebhooksWrite => "webhooks:write",
            Scope::KeysManage => "keys:manage",
            Scope::MembersManage => "members:manage",
            Scope::OrganizingRead => "organizing:read",
            Scope::OrganizingWrite => "organizing:write",
            Scope::MessagesSend => "messages:send",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }
}

/// A user's role in an organization. Users get their scopes from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything, including making other owners.
    Owner,
    /// People, events, forms, API keys and invitations.
    Admin,
    /// Reads and writes people and events.
    Organizer,
    /// Reads people and events.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Organizer, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Organizer => "organizer",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The scopes the role grants.
    pub fn scopes(self) -> &'static [Scope] {
        use Scope::*;
        match self {
            Role::Owner => &[Admin],
            Role::Admin => &[
                PeopleRead,
                PeopleWrite,
                PeopleRestricted,
                EventsRead,
                EventsWrite,
                FormsWrite,
                KeysManage,
                MembersManage,
                AutomationsManage,
                OrganizingRead,
                OrganizingWrite,
                MessagesSend,
            ],
            Role::Organizer => &[
                PeopleRead,
                PeopleWrite,
                EventsRead,
                EventsWrite,
                OrganizingRead,
                OrganizingWrite,
                MessagesSend,
            ],
            Role::Viewer => &[PeopleRead, EventsRead],
        }
    }
}

/// The credential a principal authenticated with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    User(Uuid),
    ApiKey(Uuid),
}

/// An authenticated caller, acting within one organization.
#[derive(Clone, Debug)]
pub struct Principal {
    org_id: Uuid,
    actor: Actor,
    scopes: Vec<Scope>,
    /// The user's role; `None` for API keys.
    role: Option<Role>,
    /// The chapters the caller is limited to; `None` means all chapters.
    chapters: Option<Arc<[Uuid]>>,
}

impl Principal {
    #[cfg(test)]
    pub(crate) fn for_tests(org_id: Uuid, actor: Actor, scopes: Vec<Scope>) -> Self {
        Self {
            org_id,
            actor,
            scopes,
            role: None,
            chapters: None,
        }
    }

    pub fn actor(&self) -> Actor {
        self.actor
    }

    pub fn org_id(&self) -> Uuid {
        self.org_id
    }

    pub fn role(&self) -> Option<Role> {
        self.role
    }

    /// The chapters the caller is limited to; `None` means the whole organization.
    pub fn chapters(&self) -> Option<&[Uuid]> {
        self.chapters.as_deref()
    }

    /// The scopes the caller holds (`admin` implies every other).
    pub fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&Scope::Admin) || self.scopes.contains(&scope)
    }

    /// Proof that the caller holds permission `P`, for the services that need it.
    pub fn can<P: Permission>(&self) -> DomainResult<Can<P>> {
        self.require(P::SCOPE)?;
        Ok(Can {
            scope: OrgScope {
                org_id: self.org_id,
                actor: Some(self.actor),
                chapters: self.chapters.clone(),
            },
            held: self.scopes.clone().into(),
            permission: PhantomData,
        })
    }

    /// `Forbidden` unless the caller holds `scope` (for a scope chosen at run time, such as the
    /// one an event kind needs).
    pub fn require(&self, scope: Scope) -> DomainResult<()> {
        if self.has(scope) {
            Ok(())
        } else {
            Err(DomainError::Forbidden(format!(
                "this credential lacks the `{}` scope",
                scope.as_str()
            )))
        }
    }
}

/// The permissions a service can ask for, one type per [`Scope`].
pub mod perm {
    use super::Scope;

    /// A permission: the scope a caller must hold to get a [`super::Can`] of it.
    pub trait Permission: sealed::Sealed + Send + Sync + 'static {
        const SCOPE: Scope;
    }

    mod sealed {
        pub trait Sealed {}
    }

    macro_rules! permissions {
        ($($(#[$doc:meta])* $name:ident;)*) => {$(
            $(#[$doc])*
            #[derive(Debug)]
            pub enum $name {}
            impl sealed::Sealed for $name {}
            impl Permission for $name {
                const SCOPE: Scope = Scope::$name;
            }
        )*};
    }

    permissions! {
        /// Read people, their tags, notes, tasks and history.
        PeopleRead;
        /// Create, change, tag, merge and import people.
        PeopleWrite;
        /// Read and write restricted custom fields.
        PeopleRestricted;
        /// Read events, shifts and RSVPs.
        EventsRead;
        /// Create and change events and shifts; book and change RSVPs.
        EventsWrite;
        /// Create forms.
        FormsWrite;
        /// Reserved for automations that write.
        AutomationsWrite;
        /// Install plugins, manage automations, read and replay runs.
        AutomationsManage;
        /// Manage webhook endpoints and read their deliveries.
        WebhooksWrite;
        /// Issue, list and revoke API keys.
        KeysManage;
        /// Invite users and manage memberships.
        MembersManage;
        /// Read workplaces, employment, campaigns, assessments, relationships, one-on-ones.
        OrganizingRead;
        /// Change them.
        OrganizingWrite;
        /// Create and send broadcasts, and read their progress.
        MessagesSend;
        /// Everything, including the audit log, dead letters and message templates.
        Admin;
    }
}

pub use perm::Permission;

/// An [`OrgScope`] whose holder was checked for permission `P`. It derefs to the `OrgScope`,
/// so a service passes it on to the queries that need the tenant.
pub struct Can<P: Permission> {
    scope: OrgScope,
    /// Everything the holder holds besides `P` (to check that a grant stays within it).
    held: Arc<[Scope]>,
    permission: PhantomData<fn() -> P>,
}

impl<P: Permission> Can<P> {
    /// Whether the holder also holds `scope` (`admin` implies every other).
    pub fn holds(&self, scope: Scope) -> bool {
        self.held.contains(&Scope::Admin) || self.held.contains(&scope)
    }

    /// [`Can::vouched`], also holding `held`: a job doing later what a caller was allowed
    /// when it asked (a broadcast's audience, checked when the broadcast was created).
    pub(crate) fn vouched_holding(scope: &OrgScope, held: &[Scope]) -> Self {
        Self {
            scope: scope.clone(),
            held: Arc::from(held),
            permission: PhantomData,
        }
    }

    /// For a step inside a service whose permission was proven another way: the service's own
    /// `Can` (booking an RSVP reads the shift it books), a host link, or a public form.
    pub(crate) fn vouched(scope: &OrgScope) -> Self {
        Self {
            scope: scope.clone(),
            held: Arc::from([]),
            permission: PhantomData,
        }
    }
}

impl<P: Permission> Clone for Can<P> {
    fn clone(&self) -> Self {
        Self {
            scope: self.scope.clone(),
            held: self.held.clone(),
            permission: PhantomData,
        }
    }
}

impl<P: Permission> std::fmt::Debug for Can<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Can")
            .field("permission", &P::SCOPE.as_str())
            .field("scope", &self.scope)
            .finish()
    }
}

impl<P: Permission> std::ops::Deref for Can<P> {
    type Target = OrgScope;
    fn deref(&self) -> &OrgScope {
        &self.scope
    }
}

/// Proof that the caller may act within one organization. Every tenant query takes one.
#[derive(Clone, Debug)]
pub struct OrgScope {
    org_id: Uuid,
    actor: Option<Actor>,
    chapters: Option<Arc<[Uuid]>>,
}

impl OrgScope {
    pub fn org_id(&self) -> Uuid {
        self.org_id
    }

    /// `None` for public actions (a sign-up through a form).
    pub fn actor(&self) -> Option<Actor> {
        self.actor
    }

    /// The user and the API key behind the scope, for "who did it" columns.
    pub fn actor_ids(&self) -> (Option<Uuid>, Option<Uuid>) {
        match self.actor {
            Some(Actor::User(id)) => (Some(id), None),
            Some(Actor::ApiKey(id)) => (None, Some(id)),
            None => (None, None),
        }
    }

    /// The chapters this scope is limited to; `None` means the whole organization. Services
    /// that read chapter-owned rows (people, events) must apply it.
    pub fn chapters(&self) -> Option<&[Uuid]> {
        self.chapters.as_deref()
    }

    /// The scope of a public action on a form or page that belongs to `org_id`.
    pub(crate) fn public(org_id: Uuid) -> Self {
        Self {
            org_id,
            actor: None,
            chapters: None,
        }
    }

    /// The scope of the system itself (bootstrap, jobs) in `org_id`.
    pub(crate) fn system(org_id: Uuid) -> Self {
        Self {
            org_id,
            actor: None,
            chapters: None,
        }
    }
}

/// API keys look like `tn_<prefix>_<secret>`: the prefix finds the row, the secret's SHA-256
/// proves it. Secrets are 256 random bits, so a fast hash is enough (no password stretching).
const KEY_PREFIX: &str = "tn_";

/// Minimum time between two writes of `last_used_at` for one key, so a busy integrator does
/// not turn every read into a write.
const LAST_USED_RESOLUTION: Duration = Duration::seconds(60);

pub struct NewApiKey {
    pub id: Uuid,
    /// The whole key; shown once and never stored.
    pub token: String,
}

pub(crate) fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub(crate) fn random_token(bytes: usize) -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// A random lowercase alphanumeric string (for key prefixes and referral codes).
pub(crate) fn random_code(len: usize) -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Creates an API key in `org_id`. Returns the token, which is not stored.
pub(crate) async fn create_api_key<C: sea_orm::ConnectionTrait>(
    conn: &C,
    org_id: Uuid,
    name: &str,
    scopes: &[Scope],
    created_by: Option<Uuid>,
    expires_at: Option<DateTime<Utc>>,
) -> DomainResult<NewApiKey> {
    let prefix = random_code(12);
    let secret = random_token(32);
    let id = Uuid::now_v7();
    api_keys::ActiveModel {
        id: Set(id),
        organization_id: Set(org_id),
        name: Set(name.to_owned()),
        prefix: Set(prefix.clone()),
        secret_hash: Set(hash_secret(&secret)),
        scopes: Set(serde_json::json!(
            scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>()
        )),
        created_by_user_id: Set(created_by),
        expires_at: Set(expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    Ok(NewApiKey {
        id,
        token: format!("{KEY_PREFIX}{prefix}_{secret}"),
    })
}

/// Authenticates a bearer token. Any failure is `Unauthenticated` with no hint of which part
/// was wrong. A key verified in the last seconds is not read again (see [`credential_cache`]).
pub async fn authenticate(db: &Db, token: &str) -> DomainResult<Principal> {
    let invalid = || DomainError::Unauthenticated("the bearer token is not valid".into());
    let rest = token.strip_prefix(KEY_PREFIX).ok_or_else(invalid)?;
    let (prefix, secret) = rest.split_once('_').ok_or_else(invalid)?;
    if prefix.len() != 12 || secret.is_empty() || secret.len() > 100 {
        return Err(invalid());
    }
    let cached = credential_cache::Key::ApiKey(Sha256::digest(token.as_bytes()).into());
    if let Some(principal) = db.credentials().get(&cached) {
        return Ok(principal);
    }
    let generation = db.credentials().begin_lookup();
    // With its organization, in the same statement: a suspended organization's keys stop.
    let (key, org) = api_keys::Entity::find()
        .filter(api_keys::Column::Prefix.eq(prefix))
        .find_also_related(organizations::Entity)
        .one(db.conn())
        .await?
        .ok_or_else(invalid)?;
    let presented = Sha256::digest(secret.as_bytes());
    let stored = hex::decode(&key.secret_hash).map_err(|_| invalid())?;
    if !constant_time_eq(&presented, &stored) {
        return Err(invalid());
    }
    let now = Utc::now();
    if key.revoked_at.is_some() || key.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid());
    }
    crate::organization::refuse_suspended(org.as_ref())?;
    let scopes = key
        .scopes
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().and_then(Scope::parse))
                .collect()
        })
        .unwrap_or_default();
    if key
        .last_used_at
        .is_none_or(|at| now - at > LAST_USED_RESOLUTION)
    {
        api_keys::Entity::update_many()
            .col_expr(
                api_keys::Column::LastUsedAt,
                sea_orm::sea_query::Expr::value(now),
            )
            .filter(api_keys::Column::Id.eq(key.id))
            .exec(db.conn())
            .await?;
    }
    let principal = Principal {
        org_id: key.organization_id,
        actor: Actor::ApiKey(key.id),
        scopes,
        role: None,
        chapters: None,
    };
    db.credentials()
        .put(cached, &principal, generation, key.expires_at);
    Ok(principal)
}

/// The principal of user `user_id` acting in organization `org_id`, whose session credential
/// (an access token) the caller has already verified. Role and chapters are read from the
/// database, or from what was read in the last seconds: a removed membership or a changed
/// role empties that cache ([`credential_cache::commit_change`]), so it stops working at once.
pub async fn principal_for_user(db: &Db, user_id: Uuid, org_id: Uuid) -> DomainResult<Principal> {
    let cached = credential_cache::Key::User { user_id, org_id };
    if let Some(principal) = db.credentials().get(&cached) {
        return Ok(principal);
    }
    let generation = db.credentials().begin_lookup();
    let invalid = || DomainError::Unauthenticated("the bearer token is not valid".into());
    let user = users::Entity::find_by_id(user_id)
        .one(db.conn())
        .await?
        .ok_or_else(invalid)?;
    if user.disabled_at.is_some() {
        return Err(invalid());
    }
    let (membership, org) = memberships::Entity::find()
        .filter(memberships::Column::OrganizationId.eq(org_id))
        .filter(memberships::Column::UserId.eq(user_id))
        .find_also_related(organizations::Entity)
        .one(db.conn())
        .await?
        .ok_or_else(invalid)?;
    if membership.disabled_at.is_some() {
        return Err(invalid());
    }
    crate::organization::refuse_suspended(org.as_ref())?;
    let role = Role::parse(&membership.role)
        .ok_or_else(|| DomainError::internal(format!("unknown role `{}`", membership.role)))?;
    let own: Vec<Uuid> = membership_chapters::Entity::find()
        .filter(membership_chapters::Column::MembershipId.eq(membership.id))
        .all(db.conn())
        .await?
        .into_iter()
        .map(|row| row.chapter_id)
        .collect();
    // A member of a region works in the chapters inside it.
    let chapters = crate::organization::chapters::with_descendants(db.conn(), org_id, own).await?;
    let principal = Principal {
        org_id,
        actor: Actor::User(user_id),
        scopes: role.scopes().to_vec(),
        role: Some(role),
        // No rows means the whole organization.
        chapters: (!chapters.is_empty()).then(|| Arc::from(chapters)),
    };
    db.credentials().put(cached, &principal, generation, None);
    Ok(principal)
}

/// Compares secrets without leaking, through timing, how much of a guess was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
        }
        assert_eq!(Scope::parse("people:delete"), None);
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
    }

    #[test]
    fn roles_grant_what_they_say() {
        assert!(
            Role::Viewer
                .scopes()
                .iter()
                .all(|s| s.as_str().ends_with(":read"))
        );
        assert!(!Role::Organizer.scopes().contains(&Scope::KeysManage));
        assert!(Role::Admin.scopes().contains(&Scope::MembersManage));
        assert!(!Role::Admin.scopes().contains(&Scope::Admin));
        assert_eq!(Role::Owner.scopes(), &[Scope::Admin]);
    }

    #[test]
    fn constant_time_eq_compares_whole_slices() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
