//! The organizing objects as GraphQL types. Their ids are plain UUIDs (like chapters and
//! users); people keep their global IDs.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use turnout_domain::organizing::campaigns::{ScaleLevel, scale_of};
use turnout_domain::organizing::one_on_ones::OneOnOne as OneOnOneModel;
use turnout_entity::{
    assessments, campaign_people, employers, employments, organizing_campaigns, relationships,
    units, worksites,
};

use crate::ids::{NodeType, global_id};

pub(super) fn uuid_id(id: uuid::Uuid) -> ID {
    ID(id.to_string())
}

/// An employer.
pub struct Employer {
    pub row: employers::Model,
    pub worksites: Vec<Worksite>,
}

#[Object]
impl Employer {
    /// The employer's id (a UUID).
    async fn id(&self) -> ID {
        uuid_id(self.row.id)
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// Its worksites, by name.
    async fn worksites(&self) -> &[Worksite] {
        &self.worksites
    }
}

/// A place where people work (a warehouse, a hospital, a store).
pub struct Worksite {
    pub row: worksites::Model,
    pub units: Vec<Unit>,
}

#[Object]
impl Worksite {
    /// The worksite's id (a UUID).
    async fn id(&self) -> ID {
        uuid_id(self.row.id)
    }
    /// The employer's id (a UUID).
    async fn employer_id(&self) -> ID {
        uuid_id(self.row.employer_id)
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// Its street address.
    async fn address(&self) -> Option<&str> {
        self.row.address.as_deref()
    }
    /// Every unit of the worksite, nested or not, by name (`parentUnitId` gives the tree).
    async fn units(&self) -> &[Unit] {
        &self.units
    }
}

/// What a unit is.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum UnitKind {
    Department,
    Shift,
    Floor,
    BargainingUnit,
    Other,
}

impl UnitKind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            UnitKind::Department => "department",
            UnitKind::Shift => "shift",
            UnitKind::Floor => "floor",
            UnitKind::BargainingUnit => "bargaining_unit",
            UnitKind::Other => "other",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "department" => UnitKind::Department,
            "shift" => UnitKind::Shift,
            "floor" => UnitKind::Floor,
            "bargaining_unit" => UnitKind::BargainingUnit,
            _ => UnitKind::Other,
        }
    }
}

/// A part of a worksite: a department, shift, floor or bargaining unit. Units nest.
#[derive(Clone)]
pub struct Unit(pub units::Model);

#[Object]
impl Unit {
    /// The unit's id (a UUID).
    async fn id(&self) -> ID {
        uuid_id(self.0.id)
    }
    /// The worksite's id (a UUID).
    async fn worksite_id(&self) -> ID {
        uuid_id(self.0.worksite_id)
    }
    /// The unit it sits within (a UUID); null at the top of the worksite.
    async fn parent_unit_id(&self) -> Option<ID> {
        self.0.parent_unit_id.map(uuid_id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> UnitKind {
        UnitKind::parse(&self.0.kind)
    }
}

/// A person's job at a worksite: current until it has an end date.
pub struct Employment(pub employments::Model);

#[Object]
impl Employment {
    /// The employment's id (a UUID).
    async fn id(&self) -> ID {
        uuid_id(self.0.id)
    }
    /// The person (global ID).
    async fn person_id(&self) -> ID {
        global_id(NodeType::Person, self.0.person_id)
    }
    /// The worksite (a UUID).
    async fn worksite_id(&self) -> ID {
        uuid_id(self.0.worksite_id)
    }
    /// The unit (a UUID).
    async fn unit_id(&self) -> Option<ID> {
        self.0.unit_id.map(uuid_id)
    }
    async fn job_title(&self) -> Option<&str> {
        self.0.job_title.as_deref()
    }
    /// The shift the person works (`nights`, `weekend days` …).
    async fn shift(&self) -> Option<&str> {
        self.0.shift.as_deref()
    }
    async fn started_on(&self) -> Option<NaiveDate> {
        self.0.started_on
    }
    async fn ended_on(&self) -> Option<NaiveDate> {
        self.0.ended_on
    }
    /// True until the employment ends.
    async fn current(&self) -> bool {
        self.0.ended_on.is_none()
    }
}

/// One level of a campaign's assessment scale.
#[derive(SimpleObject)]
pub struct AssessmentLevel {
    /// 1–5.
    pub level: i32,
    pub label: String,
    /// `#rrggbb`.
    pub color: String,
}

impl From<ScaleLevel> for AssessmentLevel {
    fn from(l: ScaleLevel) -> Self {
        Self {
            level: l.level.into(),
            label: l.label,
            color: l.color,
        }
    }
}

/// An organizing campaign ("Warehouse 12 card drive").
pub struct OrganizingCampaign {
    pub row: organizing_campaigns::Model,
    pub worksite_ids: Vec<uuid::Uuid>,
    pub unit_ids: Vec<uuid::Uuid>,
}

#[Object]
impl OrganizingCampaign {
    /// The campaign's id (a UUID).
    async fn id(&self) -> ID {
        uuid_id(self.row.id)
    }
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// The share of covered workers signed that wins, in percent.
    async fn goal_percent(&self) -> i32 {
        self.row.goal_percent
    }
    /// Its 1–5 scale, level 1 first.
    async fn scale(&self) -> Vec<AssessmentLevel> {
        scale_of(&self.row).into_iter().map(Into::into).collect()
    }
    /// The worksites it covers (UUIDs), with every unit in them.
    async fn worksite_ids(&self) -> Vec<ID> {
        self.worksite_ids.iter().copied().map(uuid_id).collect()
    }
    /// The units it covers (UUIDs), with every unit within them.
    async fn unit_ids(&self) -> Vec<ID> {
        self.unit_ids.iter().copied().map(uuid_id).collect()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// When it was archived (`archiveOrganizingCampaign`); null while it is open.
    async fn archived_at(&self) -> Option<DateTime<Utc>> {
        self.row.archived_at
    }
    /// Every covered unit with every worker in it, and the structure tests. Each read is
    /// recorded in the audit log.
    async fn wall_chart(&self, ctx: &Context<'_>) -> async_graphql::Result<super::WallChart> {
        super::WallChart::read(ctx, self.row.id).await
    }
}

/// A worker's standing in one campaign now.
pub struct CampaignStanding(pub campaign_people::Model);

#[Object]
impl CampaignStanding {
    /// The campaign (a UUID).
    async fn campaign_id(&self) -> ID {
        uuid_id(self.0.campaign_id)
    }
    /// The person (global ID).
    async fn person_id(&self) -> ID {
        global_id(NodeType::Person, self.0.person_id)
    }
    /// The latest assessment, 1–5; null when never assessed.
    async fn level(&self) -> Option<i32> {
        self.0.level.map(i32::from)
    }
    async fn assessed_at(&self) -> Option<DateTime<Utc>> {
        self.0.assessed_at
    }
    /// The day they signed a union card.
    async fn card_signed_on(&self) -> Option<NaiveDate> {
        self.0.card_signed_on
    }
    /// The day they signed the petition.
    async fn petition_signed_on(&self) -> Option<NaiveDate> {
        self.0.petition_signed_on
    }
    /// True for a leader (on the organizing committee) in this campaign.
    async fn leader(&self) -> bool {
        self.0.leader
    }
    /// Every assessment in this campaign, newest first.
    async fn history(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Assessment>> {
        super::assessment_history(ctx, self.0.campaign_id, self.0.person_id).await
    }
}

/// One assessment, as it was made.
pub struct Assessment(pub assessments::Model);

#[Object]
impl Assessment {
    /// The assessment's id (a UUID).
    async fn id(&self) -> ID {
        uuid_id(self.0.id)
    }
    /// The campaign (a UUID).
    async fn campaign_id(&self) -> ID {
        uuid_id(self.0.campaign_id)
    }
    /// The person (global ID).
    async fn person_id(&self) -> ID {
        global_id(NodeType::Person, self.0.person_id)
    }
    /// 1–5.
    async fn level(&self) -> i32 {
        self.0.level.into()
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// The user who assessed (a UUID); null through an API key.
    async fn assessed_by_user_id(&self) -> Option<ID> {
        self.0.assessed_by_user_id.map(uuid_id)
    }
    /// The API key that assessed (a UUID).
    async fn assessed_by_api_key_id(&self) -> Option<ID> {
        self.0.assessed_by_api_key_id.map(uuid_id)
    }
    async fn assessed_at(&self) -> DateTime<Utc> {
        self.0.assessed_at
    }
}

/// The kinds of relationship, each read "from is … of to".
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum RelationshipKind {
    Coworker,
    SocialLeaderOf,
    OrganizerOf,
    RecruitedBy,
    Family,
}

impl RelationshipKind {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            RelationshipKind::Coworker => "coworker",
            RelationshipKind::SocialLeaderOf => "social_leader_of",
            RelationshipKind::OrganizerOf => "organizer_of",
            RelationshipKind::RecruitedBy => "recruited_by",
            RelationshipKind::Family => "family",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "social_leader_of" => RelationshipKind::SocialLeaderOf,
            "organizer_of" => RelationshipKind::OrganizerOf,
            "recruited_by" => RelationshipKind::RecruitedBy,
            "family" => RelationshipKind::Family,
            _ => RelationshipKind::Coworker,
        }
    }
}

/// A directed connection between two people.
#[derive(Clone)]
pub struct Relationship(pub relationships::Model);

#[Object]
impl Relationship {
    /// The relationship's id (a UUID).
    async fn id(&self) -> ID {
        uuid_id(self.0.id)
    }
    async fn kind(&self) -> RelationshipKind {
        RelationshipKind::parse(&self.0.kind)
    }
    /// The person it goes from (global ID): the social leader, the organizer, the recruit …
    async fn from_person_id(&self) -> ID {
        global_id(NodeType::Person, self.0.from_person_id)
    }
    /// The person it goes to (global ID).
    async fn to_person_id(&self) -> ID {
        global_id(NodeType::Person, self.0.to_person_id)
    }
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A one-on-one: an organizing conversation with a worker.
pub struct OneOnOne(pub std::sync::Arc<OneOnOneModel>);

#[Object]
impl OneOnOne {
    /// The one-on-one's id (a UUID).
    async fn id(&self) -> ID {
        uuid_id(self.0.detail.id)
    }
    /// Its note in the person's history (global ID).
    async fn note_id(&self) -> ID {
        global_id(NodeType::Note, self.0.note.id)
    }
    /// The worker talked with (global ID).
    async fn person_id(&self) -> ID {
        global_id(NodeType::Person, self.0.detail.person_id)
    }
    /// The staff user who logged it (a UUID).
    async fn organizer_user_id(&self) -> Option<ID> {
        self.0.detail.organizer_user_id.map(uuid_id)
    }
    /// A worker-leader who held or joined the conversation (global ID).
    async fn organizer_person_id(&self) -> Option<ID> {
        self.0
            .detail
            .organizer_person_id
            .map(|id| global_id(NodeType::Person, id))
    }
    /// The campaign it was part of (a UUID).
    async fn campaign_id(&self) -> Option<ID> {
        self.0.detail.campaign_id.map(uuid_id)
    }
    /// What was said.
    async fn summary(&self) -> &str {
        &self.0.note.body
    }
    /// The issue the worker raised.
    async fn issue(&self) -> Option<&str> {
        self.0.detail.issue.as_deref()
    }
    /// Where the worker stood after (1–5).
    async fn assessment_after(&self) -> Option<i32> {
        self.0.detail.assessment_after.map(i32::from)
    }
    /// The next step agreed.
    async fn next_step(&self) -> Option<&str> {
        self.0.detail.next_step.as_deref()
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.detail.occurred_at
    }
}
