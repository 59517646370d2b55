//! Walk-ins are told apart from RSVPs made ahead: the host page counts them, and the people
//! who came without signing up are worth following up differently.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Rsvps {
    Table,
    WalkIn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Rsvps::Table)
                    .add_column(boolean(Rsvps::WalkIn).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Rsvps::Table)
                    .drop_column(Rsvps::WalkIn)
                    .to_owned(),
            )
            .await
    }
}
