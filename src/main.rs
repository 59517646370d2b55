use clap::Parser;
use sea_orm_migration::MigratorTrait;
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")?;
    let db = turnout_domain::db::Db::connect(&url, 2).await?;
    turnout_migration::Migrator::up(db.conn(), None).await?;
    let _ = clap::Command::new("x");
    Ok(())
}
