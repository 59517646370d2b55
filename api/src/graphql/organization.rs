//! The organization's own objects, so a dashboard can show names instead of bare ids: the
//! organization, its chapters (any credential of it) and its members (`members:manage`).

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};
use turnout_domain::auth::perm;
use turnout_domain::organization::chapters::ChapterInfo;
use turnout_domain::organization::senders::{Senders, SendersChanges};
use turnout_domain::organization::settings::{self, Settings, SettingsChanges};
use turnout_domain::organization::{self, chapter_rules, chapters, invitations, members};

use super::audit::request_context;
use super::context::{can, db, links, principal};
use super::identity::{GqlRole, Invitation};
use crate::error::GqlResult;
use crate::ids::parse_uuid;

/// The caller's organization.
#[derive(SimpleObject)]
pub struct Organization {
    /// The organization's id (a UUID).
    pub id: ID,
    pub name: String,
    /// Its unique short name (used by `turnout org recover`).
    pub slug: String,
    pub created_at: DateTime<Utc>,
    pub settings: OrganizationSettings,
}

/// How the organization reads phone numbers, and how its public pages look.
#[derive(SimpleObject)]
pub struct OrganizationSettings {
    /// The region (ISO 3166, `US`, `IE`, `CA`) whose numbers people may type without `+` and
    /// a country code, on forms, RSVPs, walk-ins, staff edits and CSV imports.
    pub phone_region: String,
    /// The pages' accent colour (`#rrggbb`, dark enough for white text); null: Turnout's blue.
    pub brand_color: Option<String>,
    /// The logo on the pages, a `data:` URL (PNG, JPEG, WebP or SVG, at most 16 kB).
    pub logo: Option<String>,
    /// Sites (origins) that may show the sign-up forms in an iframe, besides those the
    /// deployment allows (`TURNOUT_FRAME_ANCESTORS`).
    pub frame_ancestors: Vec<String>,
    /// The organization's IANA time zone (`America/Chicago`): quiet hours for people without
    /// a zone of their own, and the zone of new events that name none. Null: the deployment's
    /// default (`TURNOUT_DEFAULT_TIME_ZONE`).
    pub time_zone: Option<String>,
    /// The language (`en`, `es`, …) of messages to people without a preferred language, and
    /// of the pages when the visitor's browser asks for none Turnout has (default `en`).
    pub default_language: String,
    /// Who its messages come from (each null: the deployment's). A chapter may set its own
    /// (`Chapter.senders`), which its people's messages use first.
    pub senders: MessageSenders,
    /// Whoever checked in gets a thank-you (template `shift_thanks`, by email, or by SMS with
    /// consent and no email) once the shift is over and the grace period has passed.
    pub thank_attendees: bool,
    /// Whoever was expected and never checked in gets "we missed you" (template
    /// `shift_missed`) then. Leave it off when an automation already follows up `shift.missed`.
    pub follow_up_no_shows: bool,
    /// Each member who is someone's point person gets a daily email after 07:00 in the
    /// organization's time zone: people newly assigned to them, their tasks due, and no-shows
    /// among their people (nothing is sent on a day with none of these).
    pub organizer_digest: bool,
}

/// Who messages come from: the email From address and the SMS and WhatsApp numbers. The
/// deployment's provider accounts send them, so each number must belong to its Twilio account
/// and each address be one its SMTP relay may send as.
#[derive(SimpleObject)]
pub struct MessageSenders {
    /// `hello@example.org` or `Campaign HQ <hello@example.org>`.
    pub email_from: Option<String>,
    /// E.164 (`+12025550123`).
    pub sms_from: Option<String>,
    /// E.164, without `whatsapp:`.
    pub whatsapp_from: Option<String>,
}

impl From<Senders> for MessageSenders {
    fn from(s: Senders) -> Self {
        Self {
            email_from: s.email_from,
            sms_from: s.sms_from,
            whatsapp_from: s.whatsapp_from,
        }
    }
}

/// A change of senders: a field left out stays; `null` clears it (the next one out applies).
#[derive(InputObject, Default)]
pub struct MessageSendersInput {
    pub email_from: MaybeUndefined<String>,
    /// A number typed without `+` is the organization's phone region's.
    pub sms_from: MaybeUndefined<String>,
    pub whatsapp_from: MaybeUndefined<String>,
}

impl From<MessageSendersInput> for SendersChanges {
    fn from(input: MessageSendersInput) -> Self {
        Self {
            email_from: change(input.email_from),
            sms_from: change(input.sms_from),
            whatsapp_from: change(input.whatsapp_from),
        }
    }
}

impl From<Settings> for OrganizationSettings {
    fn from(s: Settings) -> Self {
        Self {
            phone_region: s.phone_region,
            brand_color: s.brand_color,
            logo: s.logo_data_url,
            frame_ancestors: s.frame_ancestors,
            time_zone: s.time_zone,
            default_language: s.default_language,
            senders: s.senders.into(),
            thank_attendees: s.thank_attendees,
            follow_up_no_shows: s.follow_up_no_shows,
            organizer_digest: s.organizer_digest,
        }
    }
}

/// A change of settings: a field left out stays as it is; `null` clears an optional one.
#[derive(InputObject)]
pub struct OrganizationSettingsInput {
    pub phone_region: Option<String>,
    pub brand_color: MaybeUndefined<String>,
    pub logo: MaybeUndefined<String>,
    pub frame_ancestors: Option<Vec<String>>,
    pub time_zone: MaybeUndefined<String>,
    pub default_language: Option<String>,
    /// The email From address (`Campaign HQ <hello@example.org>`); null: the deployment's.
    pub email_from: MaybeUndefined<String>,
    /// The SMS number (E.164; without `+`, the phone region's); null: the deployment's.
    pub sms_from: MaybeUndefined<String>,
    /// The WhatsApp number (E.164); null: the deployment's.
    pub whatsapp_from: MaybeUndefined<String>,
    pub thank_attendees: Option<bool>,
    pub follow_up_no_shows: Option<bool>,
    pub organizer_digest: Option<bool>,
}

fn change<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

/// A chapter: a local group of the organization, perhaps within a region (another chapter).
pub struct Chapter(ChapterInfo);

#[Object]
impl Chapter {
    /// The chapter's id (a UUID, as in `chapterId` and `chapterIds` elsewhere).
    async fn id(&self) -> ID {
        ID(self.0.row.id.to_string())
    }

    async fn name(&self) -> &str {
        &self.0.row.name
    }

    /// Made from the first name, unique in the organization; kept when the chapter is renamed.
    async fn slug(&self) -> &str {
        &self.0.row.slug
    }

    /// The chapter (a region) this one is inside; null at the top. A member limited to a
    /// chapter works in the chapters inside it too.
    async fn parent_id(&self) -> Option<ID> {
        self.0.row.parent_id.map(|id| ID(id.to_string()))
    }

    /// Set while the chapter is archived: it takes no new people or events.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.0.row.archived_at
    }

    /// The zip or postal codes (or their prefixes: `112` is every code starting with it) that
    /// place people arriving without a chapter here, upper case without spaces, sorted.
    async fn zip_codes(&self) -> &[String] {
        &self.0.zip_codes
    }

    /// Who messages to its people come from, as the chapter sets them (each null: its
    /// region's, then the organization's `settings.senders`).
    async fn senders(&self) -> MessageSenders {
        Senders::of_chapter(&self.0.row).into()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.row.created_at
    }
}

/// A member of the organization: a user with a role.
#[derive(SimpleObject)]
pub struct Member {
    /// The user's id (a UUID; `pointPersonUserId` and task assignees take it).
    pub user_id: ID,
    pub email: String,
    pub name: String,
    pub role: GqlRole,
    /// The chapters (UUIDs) the member is limited to; empty means the whole organization.
    pub chapter_ids: Vec<ID>,
    /// A disabled member (`disableMember`) cannot sign in here.
    pub disabled: bool,
    pub joined_at: DateTime<Utc>,
}

impl From<members::Member> for Member {
    fn from(m: members::Member) -> Self {
        Self {
            user_id: ID(m.user_id.to_string()),
            email: m.email,
            name: m.name,
            role: m.role.into(),
            chapter_ids: m.chapter_ids.iter().map(|c| ID(c.to_string())).collect(),
            disabled: m.disabled,
            joined_at: m.joined_at,
        }
    }
}

/// An invitation not yet accepted and not expired (its token is never shown again).
#[derive(SimpleObject)]
pub struct PendingInvitation {
    /// The invitation's id (a UUID).
    pub id: ID,
    pub email: String,
    pub role: GqlRole,
    /// The chapters (UUIDs) the invitee will be limited to; empty means the whole organization.
    pub chapter_ids: Vec<ID>,
    /// The member who invited (a user id), if a user did.
    pub invited_by_user_id: Option<ID>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<invitations::Pending> for PendingInvitation {
    fn from(p: invitations::Pending) -> Self {
        Self {
            id: ID(p.id.to_string()),
            email: p.email,
            role: p.role.into(),
            chapter_ids: p.chapter_ids.iter().map(|c| ID(c.to_string())).collect(),
            invited_by_user_id: p.invited_by_user_id.map(|u| ID(u.to_string())),
            expires_at: p.expires_at,
            created_at: p.created_at,
        }
    }
}

/// Reading the organization, its chapters and its members.
#[derive(Default)]
pub struct OrganizationQuery;

#[Object]
impl OrganizationQuery {
    /// The caller's organization. Any credential of it.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Organization> {
        let row = organization::of(db(ctx), principal(ctx)?).await.gql()?;
        Ok(Organization {
            id: ID(row.id.to_string()),
            settings: Settings::of(&row).into(),
            name: row.name,
            slug: row.slug,
            created_at: row.created_at,
        })
    }

    /// The organization's chapters by name; for a caller limited to chapters, those. Any
    /// credential of the organization.
    async fn chapters(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Archived chapters too.", default = false)] include_archived: bool,
    ) -> async_graphql::Result<Vec<Chapter>> {
        let rows = chapters::list(db(ctx), principal(ctx)?, include_archived)
            .await
            .gql()?;
        Ok(rows.into_iter().map(Chapter).collect())
    }

    /// The organization's members, oldest first, with their roles and chapters. Needs
    /// `MEMBERS_MANAGE`; a caller limited to chapters sees those who share one.
    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Member>> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let rows = members::list(db(ctx), &scope).await.gql()?;
        Ok(rows.into_iter().map(Member::from).collect())
    }

    /// Invitations not yet accepted and not expired, oldest first. Needs `MEMBERS_MANAGE`; a
    /// caller limited to chapters sees those into its chapters.
    async fn invitations(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<PendingInvitation>> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let rows = invitations::pending(db(ctx), &scope).await.gql()?;
        Ok(rows.into_iter().map(PendingInvitation::from).collect())
    }
}

/// Creating, nesting, archiving and placing by zip code chapters; changing members and
/// invitations.
#[derive(Default)]
pub struct OrganizationMutation;

#[Object]
impl OrganizationMutation {
    /// Change the organization's settings. Needs `ADMIN`. Every refused field is reported at
    /// once (`VALIDATION`, with `extensions.fields`).
    async fn update_organization_settings(
        &self,
        ctx: &Context<'_>,
        input: OrganizationSettingsInput,
    ) -> async_graphql::Result<OrganizationSettings> {
        let scope = can::<perm::Admin>(ctx)?;
        let changes = SettingsChanges {
            phone_region: input.phone_region,
            brand_color: change(input.brand_color),
            logo_data_url: change(input.logo),
            frame_ancestors: input.frame_ancestors,
            time_zone: change(input.time_zone),
            default_language: input.default_language,
            senders: SendersChanges {
                email_from: change(input.email_from),
                sms_from: change(input.sms_from),
                whatsapp_from: change(input.whatsapp_from),
            },
            thank_attendees: input.thank_attendees,
            follow_up_no_shows: input.follow_up_no_shows,
            organizer_digest: input.organizer_digest,
        };
        let updated = settings::update(db(ctx), &scope, &request_context(ctx), changes)
            .await
            .gql()?;
        Ok(updated.into())
    }

    /// Create a chapter, inside a region (another chapter) if `parentId` is given. Needs
    /// `MEMBERS_MANAGE`, for the whole organization; a name taken up to case and punctuation
    /// is `CONFLICT` on `name`.
    async fn create_chapter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chapter's name (1–100 characters).")] name: String,
        #[graphql(desc = "The open chapter it is inside (a UUID).")] parent_id: Option<ID>,
    ) -> async_graphql::Result<Chapter> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let parent = parent_id
            .as_ref()
            .map(|id| parse_uuid("parentId", id))
            .transpose()?;
        let row = chapters::create(db(ctx), &scope, &request_context(ctx), &name, parent)
            .await
            .gql()?;
        Ok(Chapter(row))
    }

    /// Move a chapter into a region (another open chapter), or to the top with a null
    /// `parentId`. A chapter cannot go inside itself or a chapter within it (`VALIDATION`).
    /// Needs `MEMBERS_MANAGE`, for the whole organization.
    async fn move_chapter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chapter's id.")] id: ID,
        #[graphql(desc = "The chapter it goes inside; null: the top.")] parent_id: Option<ID>,
    ) -> async_graphql::Result<Chapter> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let id = parse_uuid("id", &id)?;
        let parent = parent_id
            .as_ref()
            .map(|id| parse_uuid("parentId", id))
            .transpose()?;
        let row = chapters::set_parent(db(ctx), &scope, &request_context(ctx), id, parent)
            .await
            .gql()?;
        Ok(Chapter(row))
    }

    /// Archive a chapter: it leaves `chapters` and the public pages, takes no new people or
    /// events, and its zip codes are removed. Its people, events and members stay. A chapter
    /// with open chapters inside it is `CONFLICT`. Needs `MEMBERS_MANAGE`, for the whole
    /// organization.
    async fn archive_chapter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chapter's id.")] id: ID,
    ) -> async_graphql::Result<Chapter> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let id = parse_uuid("id", &id)?;
        let row = chapters::archive(db(ctx), &scope, &request_context(ctx), id)
            .await
            .gql()?;
        Ok(Chapter(row))
    }

    /// Restore an archived chapter (its zip codes are set again with `setChapterZipCodes`).
    async fn restore_chapter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chapter's id.")] id: ID,
    ) -> async_graphql::Result<Chapter> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let id = parse_uuid("id", &id)?;
        let row = chapters::restore(db(ctx), &scope, &request_context(ctx), id)
            .await
            .gql()?;
        Ok(Chapter(row))
    }

    /// Replace the zip or postal codes (or prefixes) that place people in a chapter when they
    /// sign up, RSVP, walk in or are imported without one; the longest matching code wins, and
    /// a form's or event's own chapter comes first. Every refused code is named at once
    /// (`VALIDATION`); one another chapter holds is `CONFLICT` on `zipCodes`. At most 10,000
    /// per chapter. Needs `MEMBERS_MANAGE`, for the whole organization.
    async fn set_chapter_zip_codes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chapter's id.")] id: ID,
        #[graphql(desc = "Codes such as `11201`, `112`, `K1A 0B1` or `D02`; [] clears them.")]
        zip_codes: Vec<String>,
    ) -> async_graphql::Result<Chapter> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let id = parse_uuid("id", &id)?;
        let row = chapter_rules::set_codes(db(ctx), &scope, &request_context(ctx), id, &zip_codes)
            .await
            .gql()?;
        Ok(Chapter(row))
    }

    /// Rename a chapter. Needs `MEMBERS_MANAGE`, for the whole organization.
    async fn rename_chapter(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chapter's id.")] id: ID,
        #[graphql(desc = "The new name (1–100 characters).")] name: String,
    ) -> async_graphql::Result<Chapter> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let id = parse_uuid("id", &id)?;
        let row = chapters::rename(db(ctx), &scope, &request_context(ctx), id, &name)
            .await
            .gql()?;
        Ok(Chapter(row))
    }

    /// Change a member's role (by user id). Needs `MEMBERS_MANAGE` for the whole
    /// organization; nobody grants a scope they lack, only an owner changes an owner, and the
    /// last owner stays one (`CONFLICT`). Takes effect on the member's next request.
    async fn change_member_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's user id.")] user_id: ID,
        role: GqlRole,
    ) -> async_graphql::Result<Member> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let user_id = parse_uuid("userId", &user_id)?;
        let member =
            members::change_role(db(ctx), &scope, &request_context(ctx), user_id, role.into())
                .await
                .gql()?;
        Ok(Member::from(member))
    }

    /// Remove a member from the organization, ending their sessions in it; their account and
    /// other memberships stay. The rules of `changeMemberRole` hold. Returns the user id.
    async fn remove_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's user id.")] user_id: ID,
    ) -> async_graphql::Result<ID> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let uuid = parse_uuid("userId", &user_id)?;
        members::remove(db(ctx), &scope, &request_context(ctx), uuid)
            .await
            .gql()?;
        Ok(user_id)
    }

    /// Set who messages to a chapter's people come from (and to the people of the chapters
    /// inside it that set none); a field left out stays, null clears it. Every refused value
    /// is reported at once (`VALIDATION`, `extensions.fields`). Needs `ADMIN`, for the whole
    /// organization.
    async fn set_chapter_senders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The chapter's id.")] id: ID,
        input: MessageSendersInput,
    ) -> async_graphql::Result<Chapter> {
        let scope = can::<perm::Admin>(ctx)?;
        let id = parse_uuid("id", &id)?;
        let row = chapters::set_senders(db(ctx), &scope, &request_context(ctx), id, input.into())
            .await
            .gql()?;
        Ok(Chapter(row))
    }

    /// Disable a member in this organization: they keep their role, chapters and the people
    /// and tasks assigned to them, but cannot sign in here, and their sessions here end at
    /// once. Nobody disables themselves; the rules of `changeMemberRole` hold (one enabled
    /// owner stays). Needs `MEMBERS_MANAGE` for the whole organization.
    async fn disable_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's user id.")] user_id: ID,
    ) -> async_graphql::Result<Member> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let user_id = parse_uuid("userId", &user_id)?;
        let member = members::disable(db(ctx), &scope, &request_context(ctx), user_id)
            .await
            .gql()?;
        Ok(Member::from(member))
    }

    /// Enable a disabled member: they sign in again with their role and chapters.
    async fn enable_member(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The member's user id.")] user_id: ID,
    ) -> async_graphql::Result<Member> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let user_id = parse_uuid("userId", &user_id)?;
        let member = members::enable(db(ctx), &scope, &request_context(ctx), user_id)
            .await
            .gql()?;
        Ok(Member::from(member))
    }

    /// Cancel a pending invitation: its token stops working. Returns its id.
    async fn cancel_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invitation's id.")] id: ID,
    ) -> async_graphql::Result<ID> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let uuid = parse_uuid("id", &id)?;
        invitations::cancel(db(ctx), &scope, &request_context(ctx), uuid)
            .await
            .gql()?;
        Ok(id)
    }

    /// Issue a pending invitation again, with a new token (shown once) and a new expiry, and
    /// email its new link to the invitee; the old token stops working.
    async fn reissue_invitation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The invitation's id.")] id: ID,
    ) -> async_graphql::Result<Invitation> {
        let scope = can::<perm::MembersManage>(ctx)?;
        let uuid = parse_uuid("id", &id)?;
        let inv = invitations::reissue(db(ctx), &scope, &request_context(ctx), links(ctx), uuid)
            .await
            .gql()?;
        Ok(Invitation::from(inv))
    }
}
