//! What an organization switches on for after a shift (a thank-you to attendees, a "we missed
//! you" to no-shows) and for its organizers (a daily digest), with the markers that make each
//! happen once: `rsvps.attended_recorded_at` (`shift.attended` was recorded),
//! `people.point_person_assigned_at` (the digest's "new people assigned to you") and
//! `memberships.digest_sent_at` (when the last digest went).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::alter::{add, drop};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organizations {
    Table,
    ThankAttendees,
    FollowUpNoShows,
    OrganizerDigest,
}

#[derive(DeriveIden)]
enum Rsvps {
    Table,
    AttendedRecordedAt,
}

#[derive(DeriveIden)]
enum People {
    Table,
    PointPersonAssignedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    DigestSentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // One column per statement: SQLite alters a table one column at a time.
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Organizations::ThankAttendees,
            Organizations::FollowUpNoShows,
            Organizations::OrganizerDigest,
        ] {
            manager
                .alter_table(add(
                    Organizations::Table,
                    boolean(column).default(false).to_owned(),
                ))
                .await?;
        }
        manager
            .alter_table(add(
                Rsvps::Table,
                timestamp_with_time_zone_null(Rsvps::AttendedRecordedAt),
            ))
            .await?;
        manager
            .alter_table(add(
                People::Table,
                timestamp_with_time_zone_null(People::PointPersonAssignedAt),
            ))
            .await?;
        manager
            .alter_table(add(
                Memberships::Table,
                timestamp_with_time_zone_null(Memberships::DigestSentAt),
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(drop(Memberships::Table, Memberships::DigestSentAt))
            .await?;
        manager
            .alter_table(drop(People::Table, People::PointPersonAssignedAt))
            .await?;
        manager
            .alter_table(drop(Rsvps::Table, Rsvps::AttendedRecordedAt))
            .await?;
        for column in [
            Organizations::OrganizerDigest,
            Organizations::FollowUpNoShows,
            Organizations::ThankAttendees,
        ] {
            manager
                .alter_table(drop(Organizations::Table, column))
                .await?;
        }
        Ok(())
    }
}
