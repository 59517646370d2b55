//! One-column table changes, the only kind SQLite's ALTER TABLE makes.

use sea_orm_migration::prelude::*;

/// Adds `column` to `table`.
pub(crate) fn add(table: impl IntoIden, mut column: ColumnDef) -> TableAlterStatement {
    Table::alter()
        .table(table)
        .add_column(&mut column)
        .to_owned()
}

/// Drops `column` from `table`.
pub(crate) fn drop(table: impl IntoIden, column: impl IntoIden) -> TableAlterStatement {
    Table::alter().table(table).drop_column(column).to_owned()
}
