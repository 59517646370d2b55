//! A small table builder so each table reads as its list of columns: it adds the UUIDv7 primary
//! key, turns every foreign key into a constraint plus an index, and collects the other indexes to
//! create once the table exists (SQLite cannot declare a plain index inside CREATE TABLE).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{pk_uuid, uuid, uuid_null};

pub(crate) struct TableDef {
    name: &'static str,
    create: TableCreateStatement,
    indexes: Vec<IndexCreateStatement>,
}

/// What happens to a row when the row it points at is deleted.
#[derive(Clone, Copy)]
pub(crate) enum OnDelete {
    Cascade,
    SetNull,
    Restrict,
}

impl From<OnDelete> for ForeignKeyAction {
    fn from(value: OnDelete) -> Self {
        match value {
            OnDelete::Cascade => ForeignKeyAction::Cascade,
            OnDelete::SetNull => ForeignKeyAction::SetNull,
            OnDelete::Restrict => ForeignKeyAction::Restrict,
        }
    }
}

/// A table with a UUID primary key `id`.
pub(crate) fn table(name: &'static str) -> TableDef {
    let mut t = bare_table(name);
    t.create.col(pk_uuid("id"));
    t
}

/// A table without an `id` column (join tables with a composite key).
pub(crate) fn bare_table(name: &'static str) -> TableDef {
    let mut create = Table::create();
    create.table(name);
    TableDef {
        name,
        create,
        indexes: Vec::new(),
    }
}

impl TableDef {
    pub(crate) fn col(mut self, def: impl Into<ColumnDef>) -> Self {
        self.create.col(def.into());
        self
    }

    /// The tenant column: every tenant table has one, indexed, deleted with its organization.
    pub(crate) fn tenant(self) -> Self {
        self.fk("organization_id", "organizations", false, OnDelete::Cascade)
    }

    /// A UUID foreign key with its constraint and an index.
    pub(crate) fn fk(
        mut self,
        col: &'static str,
        to: &'static str,
        nullable: bool,
        on_delete: OnDelete,
    ) -> Self {
        self.create
            .col(if nullable { uuid_null(col) } else { uuid(col) });
        self.create.foreign_key(
            ForeignKey::create()
                .name(format!("fk_{}_{}", self.name, col))
                .from(self.name, col)
                .to(to, "id")
                .on_delete(on_delete.into()),
        );
        self.index(&[col])
    }

    pub(crate) fn index(mut self, cols: &[&'static str]) -> Self {
        let idx = self.index_stmt("idx", cols);
        self.indexes.push(idx);
        self
    }

    pub(crate) fn unique(mut self, cols: &[&'static str]) -> Self {
        let mut idx = self.index_stmt("uq", cols);
        idx.unique();
        self.indexes.push(idx);
        self
    }

    pub(crate) fn primary_key(mut self, cols: &[&'static str]) -> Self {
        let mut pk = Index::create();
        for col in cols {
            pk.col(*col);
        }
        self.create.primary_key(&mut pk);
        self
    }

    fn index_stmt(&self, prefix: &str, cols: &[&'static str]) -> IndexCreateStatement {
        let mut idx = Index::create();
        idx.name(format!("{prefix}_{}_{}", self.name, cols.join("_")))
            .table(self.name);
        for col in cols {
            idx.col(*col);
        }
        idx
    }

    pub(crate) async fn create(self, manager: &SchemaManager<'_>) -> Result<(), DbErr> {
        manager.create_table(self.create).await?;
        for idx in self.indexes {
            manager.create_index(idx).await?;
        }
        Ok(())
    }

    pub(crate) fn name(&self) -> &'static str {
        self.name
    }
}

/// Creates `tables` in order (a migration's `up`).
pub(crate) async fn create_all(
    manager: &SchemaManager<'_>,
    tables: Vec<TableDef>,
) -> Result<(), DbErr> {
    for t in tables {
        t.create(manager).await?;
    }
    Ok(())
}

/// Drops `tables` in reverse order (a migration's `down`).
pub(crate) async fn drop_all(
    manager: &SchemaManager<'_>,
    tables: Vec<TableDef>,
) -> Result<(), DbErr> {
    for t in tables.into_iter().rev() {
        manager
            .drop_table(Table::drop().table(t.name()).to_owned())
            .await?;
    }
    Ok(())
}
