//! The contract's imports as the host implements them: every query checks its capability and
//! the per-run query budget, and reads only the run's organization.

use chrono::Duration as ChronoDuration;

use crate::bindings::turnout::automation::{logging, queries, types as wit};
use crate::convert;
use crate::host::RunState;
use crate::read_model::ReadModel;
use crate::types::{Capability, TimeWindow};

type QueryResult<T> = Result<T, wit::QueryError>;

impl RunState {
    /// Check the grant and the query budget; hand out the read model. A refused grant is
    /// also said in the run's log, in a sentence that tells which of the two is missing: the
    /// plugin's request in `describe`, or the admin's grant to this automation.
    fn begin_query(
        &mut self,
        query: &str,
        cap: Capability,
    ) -> QueryResult<std::sync::Arc<dyn ReadModel>> {
        if !self.granted(cap) {
            let why = if self.scope.requested.contains(cap) {
                "the plugin requests it in `describe`, but it is not granted to this \
                 automation (an admin grants it with `updateAutomation`)"
            } else {
                "it is not requested in `describe`: add it to the plugin's capabilities, \
                 rebuild, and install the new version"
            };
            self.push_log(
                crate::types::LogLevel::Warn,
                format!("`{query}` was refused: it needs the capability `{cap}`, and {why}"),
            );
            return Err(wit::QueryError::NotGranted(convert::capability_to_wit(cap)));
        }
        if self.queries_made >= self.max_queries {
            return Err(wit::QueryError::TooManyQueries);
        }
        self.queries_made += 1;
        self.scope
            .read_model
            .clone()
            .ok_or_else(|| wit::QueryError::Unavailable("no queries during describe".into()))
    }
}

fn unavailable(e: crate::read_model::ReadModelError) -> wit::QueryError {
    tracing::warn!(error = %e, "plugin query failed");
    wit::QueryError::Unavailable("the CRM could not answer; the run may be retried".into())
}

fn invalid(m: String) -> wit::QueryError {
    wit::QueryError::InvalidArgument(m)
}

impl wit::Host for RunState {}

impl queries::Host for RunState {
    async fn get_person(&mut self, id: String) -> QueryResult<Option<wit::Person>> {
        let rm = self.begin_query("get-person", Capability::ReadPeople)?;
        let id = convert::parse_id(&id).map_err(invalid)?;
        let person = rm
            .person(self.scope.org_id, id)
            .await
            .map_err(unavailable)?;
        Ok(person.map(convert::person_to_wit))
    }

    async fn get_attendance(
        &mut self,
        person_id: String,
        window_days: u32,
    ) -> QueryResult<wit::AttendanceSummary> {
        let rm = self.begin_query("get-attendance", Capability::ReadAttendance)?;
        let id = convert::parse_id(&person_id).map_err(invalid)?;
        let to = self.scope.event_time;
        let from = to - ChronoDuration::days(i64::from(window_days.min(36_500)));
        let summary = rm
            .attendance(
                self.scope.org_id,
                id,
                TimeWindow {
                    from,
                    to: to + ChronoDuration::seconds(1),
                },
            )
            .await
            .map_err(unavailable)?;
        Ok(convert::attendance_to_wit(id, summary))
    }

    async fn upcoming_shifts(&mut self, limit: u32) -> QueryResult<Vec<wit::Shift>> {
        let rm = self.begin_query("upcoming-shifts", Capability::ReadShifts)?;
        let limit = limit.min(self.max_results);
        let shifts = rm
            .upcoming_shifts(self.scope.org_id, self.scope.event_time, limit)
            .await
            .map_err(unavailable)?;
        Ok(shifts
            .into_iter()
            .take(limit as usize)
            .map(convert::shift_to_wit)
            .collect())
    }

    async fn search_people(
        &mut self,
        query: wit::PeopleQuery,
        limit: u32,
    ) -> QueryResult<Vec<wit::Person>> {
        let rm = self.begin_query("search-people", Capability::ReadPeople)?;
        let query = convert::people_query_from_wit(query).map_err(invalid)?;
        let limit = limit.min(self.max_results);
        let people = rm
            .search_people(self.scope.org_id, &query, limit)
            .await
            .map_err(unavailable)?;
        Ok(people
            .into_iter()
            .take(limit as usize)
            .map(convert::person_to_wit)
            .collect())
    }

    async fn kv_get(&mut self, key: String) -> QueryResult<Option<String>> {
        let rm = self.begin_query("kv-get", Capability::ReadKv)?;
        if key.is_empty() || key.len() > 200 {
            return Err(invalid("keys are 1 to 200 bytes".into()));
        }
        rm.kv_get(self.scope.org_id, &self.scope.namespace, &key)
            .await
            .map_err(unavailable)
    }
}

impl logging::Host for RunState {
    async fn log(&mut self, level: wit::LogLevel, message: String) {
        self.push_log(convert::log_level(level), message);
    }
}
