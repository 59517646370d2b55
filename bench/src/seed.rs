//! `seed --profile campaign|union`: a deterministic data set for the bootstrap organization
//! (a big campaign, or a union's workplace: see [`crate::seed_union`]), loaded with multi-row
//! INSERTs in one transaction per table.

use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, EntityTrait, IntoActiveModel,
    PaginatorTrait, QueryOrder, TransactionTrait,
};
use turnout_entity::{
    assessments, campaign_people, campaign_targets, employers, employments, events, organizations,
    organizing_campaigns, people, relationships, rsvps, shifts, taggings, tags, units, worksites,
};
use uuid::Uuid;

use crate::seed_union::{self, Union};

/// The RNG seed: the same seed, the same data set (for a given `Cargo.lock`).
const SEED: u64 = 0x7475_726e_6f75_7401;

/// The `campaign` profile (issue 7).
pub struct Profile {
    pub people: usize,
    pub tags: usize,
    pub events: usize,
    pub shifts_per_event: usize,
    /// A union's workplace over the people.
    pub union: Option<Union>,
}

pub const CAMPAIGN: Profile = Profile {
    people: 100_000,
    tags: 50,
    events: 500,
    shifts_per_event: 4,
    union: None,
};

/// The `union` profile (issue 15): 5,000 workers in 200 units across 10 worksites.
pub const UNION: Profile = Profile {
    people: 5_000,
    tags: 10,
    events: 20,
    shifts_per_event: 2,
    union: Some(Union {
        worksites: 10,
        units_per_worksite: 20,
    }),
};

/// SQLite allows 32,766 bound parameters per statement (since 3.32); PostgreSQL 65,535.
/// Batches stay under 30,000.
const MAX_PARAMS: usize = 30_000;

const FIRST: &[&str] = &[
    "Ada", "Grace", "Alan", "Ida", "Rosa", "Cesar", "Dolores", "Bayard", "Fannie", "Ella",
    "Harvey", "Mother", "Joe", "Lucy", "Emma", "Frances", "Walter", "Jane", "Medgar", "Septima",
    "Ai-jen", "Sara", "Mary", "Eugene", "Samuel", "Maria", "Luis", "Aisha", "Kwame", "Mei",
];
const LAST: &[&str] = &[
    "Parks", "Chavez", "Huerta", "Rustin", "Hamer", "Baker", "Milk", "Jones", "Hill", "Parsons",
    "Goldman", "Perkins", "Reuther", "Addams", "Evers", "Clark", "Poo", "Nelson", "Harris", "Debs",
    "Gompers", "Garcia", "Lopez", "Okafor", "Nguyen", "Kim", "Singh", "Cohen", "Rossi", "Smith",
];
const CITIES: &[&str] = &[
    "Oakland",
    "Detroit",
    "Atlanta",
    "Phoenix",
    "Philadelphia",
    "Milwaukee",
    "Pittsburgh",
    "Reno",
];
const STAGES: &[&str] = &["supporter", "volunteer", "leader", "organizer"];

fn base_time() -> anyhow::Result<DateTime<Utc>> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .context("base time")
}

/// A UUIDv7 at `ms` with random bits from the seeded RNG (so ids sort by creation, like the
/// application's, and are reproducible).
pub(crate) fn uuid_v7(rng: &mut StdRng, ms: u64) -> Uuid {
    let bytes: [u8; 10] = rng.random();
    uuid::Builder::from_unix_timestamp_millis(ms, &bytes).into_uuid()
}

fn token(rng: &mut StdRng) -> String {
    format!("{:032x}", rng.random::<u128>())
}

async fn insert_batches<E, A, M>(
    db: &DatabaseConnection,
    label: &str,
    rows: Vec<M>,
) -> anyhow::Result<()>
where
    E: EntityTrait<Model = M, ActiveModel = A>,
    A: sea_orm::ActiveModelTrait<Entity = E> + Send,
    M: IntoActiveModel<A> + Send,
{
    let started = Instant::now();
    let n = rows.len();
    // Every column of a row is one bound parameter; counted from the entity, so a new column
    // cannot push a batch past SQLite's limit.
    let columns = <E::Column as sea_orm::Iterable>::iter().count();
    let per_batch = (MAX_PARAMS / columns.max(1)).max(1);
    let txn = db.begin().await?;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let batch: Vec<A> = rows
            .by_ref()
            .take(per_batch)
            .map(IntoActiveModel::into_active_model)
            .collect();
        E::insert_many(batch)
            .exec_without_returning(&txn)
            .await
            .with_context(|| format!("inserting {label}"))?;
    }
    txn.commit().await?;
    println!(
        "  {label:<9} {n:>8} rows in {:>6.2} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub async fn run(database_url: &str, profile: &Profile) -> anyhow::Result<()> {
    let total = Instant::now();
    let mut opts = ConnectOptions::new(database_url.to_owned());
    opts.max_connections(1).sqlx_logging(false);
    let db = Database::connect(opts)
        .await
        .context("connecting to the database")?;

    let orgs = organizations::Entity::find()
        .order_by_asc(organizations::Column::CreatedAt)
        .all(&db)
        .await?;
    let Some(org) = orgs.first() else {
        bail!("no organization: migrate and bootstrap first (start `turnout serve` once)");
    };
    if orgs.len() > 1 {
        bail!(
            "{} organizations: seed expects only the bootstrap one",
            orgs.len()
        );
    }
    let existing = people::Entity::find().count(&db).await?;
    if existing > 1_000 {
        bail!("the database already holds {existing} people: seed a fresh database");
    }
    let org_id = org.id;
    println!(
        "seeding organization {:?} ({org_id}) on {}",
        org.name,
        db.get_database_backend().as_str()
    );

    let mut rng = StdRng::seed_from_u64(SEED);
    let base = base_time()?;
    let base_ms = u64::try_from(base.timestamp_millis()).context("base time")?;

    // --- tags ---
    let tag_rows: Vec<tags::Model> = (0..profile.tags)
        .map(|i| tags::Model {
            id: uuid_v7(&mut rng, base_ms + i as u64),
            organization_id: org_id,
            name: format!("topic-{i:02}"),
            created_at: base,
        })
        .collect();
    let tag_ids: Vec<Uuid> = tag_rows.iter().map(|t| t.id).collect();

    // --- people: one every 60 s from the base time ---
    let mut person_ids = Vec::with_capacity(profile.people);
    let mut people_rows = Vec::with_capacity(profile.people);
    for i in 0..profile.people {
        let ms = base_ms + i as u64 * 60_000;
        let at = base + Duration::seconds(i as i64 * 60);
        let id = uuid_v7(&mut rng, ms);
        person_ids.push(id);
        let first = FIRST[rng.random_range(0..FIRST.len())];
        let last = LAST[rng.random_range(0..LAST.len())];
        let sms = rng.random_bool(0.4);
        let has_phone = rng.random_bool(0.6);
        people_rows.push(people::Model {
            id,
            organization_id: org_id,
            chapter_id: None,
            first_name: Some(first.to_owned()),
            last_name: Some(last.to_owned()),
            email: Some(format!(
                "{}.{}.{i}@seed.example.org",
                first.to_lowercase(),
                last.to_lowercase()
            )),
            phone: has_phone.then(|| format!("+1202{:07}", i)),
            address_line1: Some(format!("{} Main St", rng.random_range(1..2000))),
            address_line2: None,
            city: Some(CITIES[rng.random_range(0..CITIES.len())].to_owned()),
            region: None,
            zip: Some(format!("{:05}", rng.random_range(1000..99999))),
            country: Some("US".to_owned()),
            preferred_language: Some(if rng.random_bool(0.2) { "es" } else { "en" }.to_owned()),
            time_zone: None,
            ladder_stage: Some(STAGES[rng.random_range(0..STAGES.len())].to_owned()),
            assessment: None,
            point_person_user_id: None,
            point_person_assigned_at: None,
            referral_code: format!("S{i:07}"),
            referred_by_person_id: None,
            source: Some("seed".to_owned()),
            utm_source: None,
            utm_medium: None,
            utm_campaign: None,
            utm_term: None,
            utm_content: None,
            sms_consent: sms && has_phone,
            sms_consent_at: (sms && has_phone).then_some(at),
            sms_consent_source: (sms && has_phone).then(|| "seed".to_owned()),
            email_consent: true,
            email_consent_at: Some(at),
            email_consent_source: Some("seed".to_owned()),
            whatsapp_consent: false,
            whatsapp_consent_at: None,
            whatsapp_consent_source: None,
            whatsapp_window_ends_at: None,
            archived_at: None,
            created_at: at,
            updated_at: at,
        });
    }

    // --- taggings: 1-5 distinct tags per person (mean 3) ---
    let mut tagging_rows = Vec::with_capacity(profile.people * 3);
    for (i, &person_id) in person_ids.iter().enumerate() {
        let k = rng.random_range(1..=5usize);
        let mut chosen: Vec<usize> = Vec::with_capacity(k);
        while chosen.len() < k {
            let t = rng.random_range(0..tag_ids.len());
            if !chosen.contains(&t) {
                chosen.push(t);
            }
        }
        for t in chosen {
            tagging_rows.push(taggings::Model {
                organization_id: org_id,
                person_id,
                tag_id: tag_ids[t],
                created_at: base + Duration::seconds(i as i64 * 60),
            });
        }
    }

    // --- events and shifts: one event a day from 2026-12-01, 4 three-hour shifts ---
    let ev_base = Utc
        .with_ymd_and_hms(2026, 12, 1, 14, 0, 0)
        .single()
        .context("event base")?;
    let mut event_rows = Vec::with_capacity(profile.events);
    let mut shift_rows = Vec::with_capacity(profile.events * profile.shifts_per_event);
    for e in 0..profile.events {
        let id = uuid_v7(&mut rng, base_ms + 10_000_000_000 + e as u64);
        event_rows.push(events::Model {
            id,
            organization_id: org_id,
            chapter_id: None,
            title: format!("Canvass {} #{e}", CITIES[rng.random_range(0..CITIES.len())]),
            description: Some("Door-to-door canvass. Training at the start.".to_owned()),
            time_zone: "America/New_York".to_owned(),
            location: Some(format!("{} Union Hall", rng.random_range(1..500))),
            virtual_url: None,
            visibility: "public".to_owned(),
            status: "published".to_owned(),
            reminder_offsets_minutes: serde_json::json!([1440, 120]),
            created_at: base,
            updated_at: base,
        });
        let day = ev_base + Duration::days(e as i64);
        for s in 0..profile.shifts_per_event {
            let starts = day + Duration::hours(3 * s as i64);
            shift_rows.push(shifts::Model {
                id: uuid_v7(
                    &mut rng,
                    base_ms + 20_000_000_000 + (e * profile.shifts_per_event + s) as u64,
                ),
                organization_id: org_id,
                event_id: id,
                starts_at: starts,
                ends_at: starts + Duration::hours(3),
                capacity: Some(200),
                host_token_hash: token(&mut rng),
                sequence: 0,
                cancelled_at: None,
                created_at: base,
                updated_at: base,
            });
        }
    }
    let shift_ids: Vec<Uuid> = shift_rows.iter().map(|s| s.id).collect();

    // --- RSVPs: 2-5 distinct shifts per person, weighted to a mean of 3 (≈ 150 per shift) ---
    let mut rsvp_rows = Vec::with_capacity(profile.people * 3);
    for (i, &person_id) in person_ids.iter().enumerate() {
        let k = match rng.random_range(0..10u8) {
            0..=3 => 2,
            4..=6 => 3,
            7..=8 => 4,
            _ => 5,
        };
        let mut chosen: Vec<usize> = Vec::with_capacity(k);
        while chosen.len() < k {
            let s = rng.random_range(0..shift_ids.len());
            if !chosen.contains(&s) {
                chosen.push(s);
            }
        }
        for s in chosen {
            let at = base + Duration::seconds(i as i64 * 60 + 30);
            let status = match rng.random_range(0..20u8) {
                0 => "cancelled",
                1..=2 => "waitlisted",
                _ => "confirmed",
            };
            rsvp_rows.push(rsvps::Model {
                id: uuid_v7(&mut rng, base_ms + i as u64 * 60_000 + 30_000),
                organization_id: org_id,
                shift_id: shift_ids[s],
                person_id,
                status: status.to_owned(),
                checked_in_at: None,
                referrer_person_id: None,
                utm_source: None,
                utm_medium: None,
                utm_campaign: None,
                public_token: token(&mut rng),
                created_at: at,
                updated_at: at,
                missed_at: None,
                attended_recorded_at: None,
                walk_in: false,
            });
        }
    }
    println!(
        "generated in {:.2} s: {} people, {} tags, {} taggings, {} events, {} shifts, {} rsvps",
        total.elapsed().as_secs_f64(),
        people_rows.len(),
        tag_rows.len(),
        tagging_rows.len(),
        event_rows.len(),
        shift_rows.len(),
        rsvp_rows.len()
    );

    let load = Instant::now();
    insert_batches::<tags::Entity, _, _>(&db, "tags", tag_rows).await?;
    insert_batches::<people::Entity, _, _>(&db, "people", people_rows).await?;
    insert_batches::<taggings::Entity, _, _>(&db, "taggings", tagging_rows).await?;
    insert_batches::<events::Entity, _, _>(&db, "events", event_rows).await?;
    insert_batches::<shifts::Entity, _, _>(&db, "shifts", shift_rows).await?;
    insert_batches::<rsvps::Entity, _, _>(&db, "rsvps", rsvp_rows).await?;
    if let Some(shape) = &profile.union {
        let u = seed_union::rows(&mut rng, org_id, base, base_ms, &person_ids, shape);
        insert_batches::<employers::Entity, _, _>(&db, "employers", u.employers).await?;
        insert_batches::<worksites::Entity, _, _>(&db, "worksites", u.worksites).await?;
        insert_batches::<units::Entity, _, _>(&db, "units", u.units).await?;
        insert_batches::<employments::Entity, _, _>(&db, "jobs", u.employments).await?;
        insert_batches::<organizing_campaigns::Entity, _, _>(&db, "campaigns", u.campaigns).await?;
        insert_batches::<campaign_targets::Entity, _, _>(&db, "targets", u.targets).await?;
        insert_batches::<campaign_people::Entity, _, _>(&db, "standing", u.standings).await?;
        insert_batches::<assessments::Entity, _, _>(&db, "assessed", u.assessments).await?;
        insert_batches::<relationships::Entity, _, _>(&db, "relations", u.relationships).await?;
    }
    let load_secs = load.elapsed().as_secs_f64();

    // Fresh statistics for the planner (PostgreSQL autovacuum would get there later; SQLite
    // never does by itself).
    let analyze = Instant::now();
    db.execute_unprepared("ANALYZE").await?;
    println!("ANALYZE in {:.2} s", analyze.elapsed().as_secs_f64());
    println!(
        "SEED load (inserts) {load_secs:.2} s; total with generation and ANALYZE {:.2} s",
        total.elapsed().as_secs_f64()
    );
    db.close().await?;
    Ok(())
}
