//! What a plugin can read, and an in-memory implementation for tests and the CLI.
//!
//! The trait is **async** because the real implementation ([`crate::DbReadModel`]) reads the
//! database through SeaORM, which is async, and the host runs inside tokio workers: a sync trait
//! would force `block_on` inside the runtime (which panics on a current-thread runtime and ties
//! up a worker thread on a multi-thread one). wasmtime supports async host functions directly
//! (the store runs the guest on a fiber and suspends it while the query is awaited).
//!
//! Every method takes the run's organization id; the host passes it, never the plugin, so a
//! plugin can never read another organization.

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::types::{AttendanceSummary, OrgId, PeopleQuery, Person, Shift, TimeWindow};

/// The read model failed (database unavailable …). The plugin sees `unavailable`.
#[derive(Debug, Clone, thiserror::Error)]
#[error("read model unavailable: {0}")]
pub struct ReadModelError(pub String);

/// Read-only, organization-scoped queries the host answers for plugins.
#[async_trait]
pub trait ReadModel: Send + Sync {
    /// A person of `org`, or `None` (also when the id belongs to another organization).
    async fn person(&self, org: OrgId, id: Uuid) -> Result<Option<Person>, ReadModelError>;

    /// A person's attendance in `org`, all time and within `window`. A person not in `org`
    /// has all-zero counts.
    async fn attendance(
        &self,
        org: OrgId,
        person_id: Uuid,
        window: TimeWindow,
    ) -> Result<AttendanceSummary, ReadModelError>;

    /// Shifts of `org` starting at or after `after`, soonest first, at most `limit`.
    async fn upcoming_shifts(
        &self,
        org: OrgId,
        after: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Shift>, ReadModelError>;

    /// People of `org` matching `query`, at most `limit`, in a stable order.
    async fn search_people(
        &self,
        org: OrgId,
        query: &PeopleQuery,
        limit: u32,
    ) -> Result<Vec<Person>, ReadModelError>;

    /// A value of the key-value space `namespace` (one per plugin) in `org`.
    async fn kv_get(
        &self,
        org: OrgId,
        namespace: &str,
        key: &str,
    ) -> Result<Option<String>, ReadModelError>;
}

/// Whether an attendance record counts as attended or missed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceStatus {
    /// Came.
    Attended,
    /// RSVP'd and did not come.
    Missed,
}

/// A person in a fixture file: a [`Person`] plus its organization (default: the fixture
/// default organization).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FixturePerson {
    /// Organization; defaults to [`FixtureReadModel::DEFAULT_ORG`].
    #[serde(default = "default_org")]
    pub org_id: OrgId,
    /// The person.
    #[serde(flatten)]
    pub person: Person,
}

/// One shift attendance record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FixtureAttendance {
    /// Organization.
    #[serde(default = "default_org")]
    pub org_id: OrgId,
    /// Person.
    pub person_id: Uuid,
    /// Shift start.
    pub at: DateTime<Utc>,
    /// Attended or missed.
    pub status: AttendanceStatus,
}

/// A shift in a fixture file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FixtureShift {
    /// Organization.
    #[serde(default = "default_org")]
    pub org_id: OrgId,
    /// The shift.
    #[serde(flatten)]
    pub shift: Shift,
}

/// A key-value entry in a fixture file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FixtureKv {
    /// Organization.
    #[serde(default = "default_org")]
    pub org_id: OrgId,
    /// The plugin's namespace (its name, unless the caller says otherwise).
    pub namespace: String,
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// The JSON shape of a fixture file. A bare JSON array is read as `people` only.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FixtureData {
    /// People.
    pub people: Vec<FixturePerson>,
    /// Attendance records.
    pub attendance: Vec<FixtureAttendance>,
    /// Shifts.
    pub shifts: Vec<FixtureShift>,
    /// Key-value entries.
    pub kv: Vec<FixtureKv>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FixtureFile {
    Full(FixtureData),
    People(Vec<FixturePerson>),
}

fn default_org() -> OrgId {
    FixtureReadModel::DEFAULT_ORG
}

/// Errors loading a fixture file.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The file could not be read.
    #[error("cannot read fixtures {path}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The JSON does not have the fixture shape.
    #[error("fixtures do not parse: {0}")]
    Parse(#[from] serde_json::Error),
}

/// An in-memory read model, filled from JSON. Used by `turnout plugin test` and the tests.
#[derive(Debug, Clone, Default)]
pub struct FixtureReadModel {
    data: FixtureData,
}

impl FixtureReadModel {
    /// The organization fixture records belong to when they name none, and the one
    /// `turnout plugin test` runs in by default.
    pub const DEFAULT_ORG: OrgId = Uuid::from_u128(0x0000_0000_0000_4000_8000_0000_0000_0001);

    /// An empty read model.
    pub fn new() -> Self {
        Self::default()
    }

    /// Build from fixture data.
    pub fn from_data(data: FixtureData) -> Self {
        FixtureReadModel { data }
    }

    /// Parse fixture JSON (an object with `people`, `attendance`, `shifts`, `kv`, or an array of
    /// people).
    pub fn from_json(json: &str) -> Result<Self, FixtureError> {
        let data = match serde_json::from_str::<FixtureFile>(json)? {
            FixtureFile::Full(data) => data,
            FixtureFile::People(people) => FixtureData {
                people,
                ..FixtureData::default()
            },
        };
        Ok(Self::from_data(data))
    }

    /// Read a fixture file.
    pub fn from_file(path: &Path) -> Result<Self, FixtureError> {
        let text = std::fs::read_to_string(path).map_err(|source| FixtureError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// The data, to inspect or extend.
    pub fn data_mut(&mut self) -> &mut FixtureData {
        &mut self.data
    }
}

#[async_trait]
impl ReadModel for FixtureReadModel {
    async fn person(&self, org: OrgId, id: Uuid) -> Result<Option<Person>, ReadModelError> {
        Ok(self
            .data
            .people
            .iter()
            .find(|p| p.org_id == org && p.person.id == id)
            .map(|p| p.person.clone()))
    }

    async fn attendance(
        &self,
        org: OrgId,
        person_id: Uuid,
        window: TimeWindow,
    ) -> Result<AttendanceSummary, ReadModelError> {
        let mut s = AttendanceSummary::default();
        for a in self
            .data
            .attendance
            .iter()
            .filter(|a| a.org_id == org && a.person_id == person_id)
        {
            let in_window = window.contains(a.at);
            match a.status {
                AttendanceStatus::Attended => {
                    s.attended_total += 1;
                    s.attended_in_window += u32::from(in_window);
                    s.last_attended_at = s.last_attended_at.max(Some(a.at));
                }
                AttendanceStatus::Missed => {
                    s.missed_total += 1;
                    s.missed_in_window += u32::from(in_window);
                }
            }
        }
        Ok(s)
    }

    async fn upcoming_shifts(
        &self,
        org: OrgId,
        after: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Shift>, ReadModelError> {
        let mut shifts: Vec<Shift> = self
            .data
            .shifts
            .iter()
            .filter(|s| s.org_id == org && s.shift.starts_at >= after)
            .map(|s| s.shift.clone())
            .collect();
        shifts.sort_by_key(|s| (s.starts_at, s.id));
        shifts.truncate(limit as usize);
        Ok(shifts)
    }

    async fn search_people(
        &self,
        org: OrgId,
        query: &PeopleQuery,
        limit: u32,
    ) -> Result<Vec<Person>, ReadModelError> {
        let mut people: Vec<Person> = self
            .data
            .people
            .iter()
            .filter(|p| p.org_id == org && query.matches(&p.person))
            .map(|p| p.person.clone())
            .collect();
        people.sort_by_key(|p| p.id);
        people.truncate(limit as usize);
        Ok(people)
    }

    async fn kv_get(
        &self,
        org: OrgId,
        namespace: &str,
        key: &str,
    ) -> Result<Option<String>, ReadModelError> {
        let map: BTreeMap<(&str, &str), &str> = self
            .data
            .kv
            .iter()
            .filter(|e| e.org_id == org)
            .map(|e| ((e.namespace.as_str(), e.key.as_str()), e.value.as_str()))
            .collect();
        Ok(map.get(&(namespace, key)).map(|v| v.to_string()))
    }
}
