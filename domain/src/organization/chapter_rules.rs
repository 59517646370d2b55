//! Where a new person belongs: the chapter of the form or event they came through, else the
//! chapter whose zip-code rule matches their zip (the longest matching prefix wins, so `112`
//! can go to Brooklyn while `11201` goes to Brooklyn Heights). Sign-up, public RSVP, walk-ins
//! and imports place people here, so no chapter-limited organizer misses a new volunteer.
//!
//! Codes are compared upper case without spaces or dashes: `K1A 0B1`, `k1a-0b1` and `K1A0B1`
//! are one code, and a US ZIP+4 (`11201-1234`) matches the rule for `11201`. Archiving a
//! chapter removes its rules, so its codes are free for the chapters that take over.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use turnout_entity::{chapter_zip_rules, chapters};
use uuid::Uuid;

use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult};
use crate::organization::chapters::ChapterInfo;

/// The longest code (or prefix) a rule holds; postal codes are shorter everywhere.
pub const MAX_CODE_CHARS: usize = 10;
/// The most codes one chapter holds: every 5-digit ZIP of a large state.
pub const MAX_CODES_PER_CHAPTER: usize = 10_000;
/// Rows per insert (five parameters each, under SQLite's parameter limit).
const INSERT_CHUNK: usize = 1_000;

/// `K1A 0B1` → `K1A0B1`; `None` when nothing is left or a character is not a letter or digit.
pub fn normalize(code: &str) -> Option<String> {
    let mut out = String::new();
    for c in code.chars() {
        match c {
            ' ' | '-' | '\t' => {}
            c if c.is_ascii_alphanumeric() => out.push(c.to_ascii_uppercase()),
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out)
}

/// The prefixes of a normalized zip that a rule could hold, longest first.
fn prefixes(zip: &str) -> impl Iterator<Item = &str> {
    (1..=zip.len().min(MAX_CODE_CHARS)).rev().map(|n| &zip[..n])
}

/// Rules by code: all of an organization's (for an import) or those that could match one zip.
#[derive(Debug, Default)]
pub struct ZipRules(HashMap<String, Uuid>);

impl ZipRules {
    /// Every rule of the organization: one statement.
    pub async fn of_organization<C: ConnectionTrait>(conn: &C, org_id: Uuid) -> DomainResult<Self> {
        Self::load(conn, org_id, None).await
    }

    async fn load<C: ConnectionTrait>(
        conn: &C,
        org_id: Uuid,
        only: Option<Vec<String>>,
    ) -> DomainResult<Self> {
        let mut q = chapter_zip_rules::Entity::find()
            .filter(chapter_zip_rules::Column::OrganizationId.eq(org_id))
            .select_only()
            .column(chapter_zip_rules::Column::Prefix)
            .column(chapter_zip_rules::Column::ChapterId);
        if let Some(codes) = only {
            q = q.filter(chapter_zip_rules::Column::Prefix.is_in(codes));
        }
        let rows: Vec<(String, Uuid)> = q.into_tuple().all(conn).await?;
        Ok(Self(rows.into_iter().collect()))
    }

    /// The chapter of the longest rule that `zip` starts with.
    pub fn chapter_for(&self, zip: Option<&str>) -> Option<Uuid> {
        let zip = normalize(zip?)?;
        prefixes(&zip).find_map(|p| self.0.get(p).copied())
    }
}

/// The chapter a person without one is placed in: `home` (the chapter of the form or event
/// they came through) unless it is archived, else the zip rules'. At most one statement.
pub async fn place<C: ConnectionTrait>(
    conn: &C,
    org_id: Uuid,
    home: Option<Uuid>,
    zip: Option<&str>,
) -> DomainResult<Option<Uuid>> {
    if let Some(home) = home {
        let open = chapters::Entity::find_by_id(home)
            .filter(chapters::Column::OrganizationId.eq(org_id))
            .filter(chapters::Column::ArchivedAt.is_null())
            .one(conn)
            .await?;
        if open.is_some() {
            return Ok(Some(home));
        }
    }
    let Some(zip) = zip.and_then(normalize) else {
        return Ok(None);
    };
    let candidates = prefixes(&zip).map(str::to_owned).collect();
    let rules = ZipRules::load(conn, org_id, Some(candidates)).await?;
    Ok(rules.chapter_for(Some(&zip)))
}

/// The zip codes of each chapter, sorted: one statement.
pub async fn codes_of<C: ConnectionTrait>(
    conn: &C,
    org_id: Uuid,
    chapter_ids: &[Uuid],
) -> DomainResult<HashMap<Uuid, Vec<String>>> {
    let mut out: HashMap<Uuid, Vec<String>> = HashMap::new();
    if chapter_ids.is_empty() {
        return Ok(out);
    }
    for rule in chapter_zip_rules::Entity::find()
        .filter(chapter_zip_rules::Column::OrganizationId.eq(org_id))
        .filter(chapter_zip_rules::Column::ChapterId.is_in(chapter_ids.iter().copied()))
        .order_by_asc(chapter_zip_rules::Column::Prefix)
        .all(conn)
        .await?
    {
        out.entry(rule.chapter_id).or_default().push(rule.prefix);
    }
    Ok(out)
}

/// Replaces the zip codes (or prefixes) that place new people in chapter `id`. Every refused
/// code is named at once: one that is not letters and digits (`VALIDATION`), or one another
/// chapter holds (`CONFLICT` on `zipCodes`, naming that chapter). Rules place people as they
/// arrive; people already placed stay where they are. Audited as `chapter.zip_codes`.
pub async fn set_codes(
    db: &Db,
    scope: &Can<perm::MembersManage>,
    ctx: &RequestContext,
    id: Uuid,
    codes: &[String],
) -> DomainResult<ChapterInfo> {
    super::chapters::refuse_if_limited(scope)?;
    let mut wanted = Vec::new();
    let mut seen = HashSet::new();
    let mut bad = Vec::new();
    for code in codes {
        match normalize(code) {
            Some(c) if c.len() <= MAX_CODE_CHARS => {
                if seen.insert(c.clone()) {
                    wanted.push(c);
                }
            }
            _ => bad.push(code.clone()),
        }
    }
    if !bad.is_empty() {
        return Err(DomainError::validation(
            "zipCodes",
            format!(
                "{} is not a zip or postal code (letters and digits, at most {MAX_CODE_CHARS})",
                listed(&bad)
            ),
        ));
    }
    if wanted.len() > MAX_CODES_PER_CHAPTER {
        return Err(DomainError::validation(
            "zipCodes",
            format!("a chapter holds at most {MAX_CODES_PER_CHAPTER} codes"),
        ));
    }
    let tx = db.begin_write().await?;
    let chapter = super::chapters::find(&tx, scope.org_id(), id).await?;
    if chapter.archived_at.is_some() && !wanted.is_empty() {
        return Err(DomainError::validation(
            "id",
            "this chapter is archived and places nobody; restore it first",
        ));
    }
    let mut taken: Vec<(String, Uuid)> = Vec::new();
    for chunk in wanted.chunks(INSERT_CHUNK) {
        taken.extend(
            chapter_zip_rules::Entity::find()
                .filter(chapter_zip_rules::Column::OrganizationId.eq(scope.org_id()))
                .filter(chapter_zip_rules::Column::ChapterId.ne(id))
                .filter(chapter_zip_rules::Column::Prefix.is_in(chunk.iter().cloned()))
                .select_only()
                .column(chapter_zip_rules::Column::Prefix)
                .column(chapter_zip_rules::Column::ChapterId)
                .into_tuple::<(String, Uuid)>()
                .all(&tx)
                .await?,
        );
    }
    if let Some((_, other)) = taken.first() {
        let other_name = super::chapters::find(&tx, scope.org_id(), *other)
            .await
            .map(|c| c.name)
            .unwrap_or_default();
        let mut codes: Vec<String> = taken.iter().map(|(c, _)| c.clone()).collect();
        codes.sort();
        return Err(DomainError::taken(
            "zipCodes",
            format!(
                "{} already place{} people in {}; remove {} there first",
                listed(&codes),
                if codes.len() == 1 { "s" } else { "" },
                if taken.iter().all(|(_, c)| c == other) {
                    format!("chapter “{other_name}”")
                } else {
                    "other chapters".to_owned()
                },
                if codes.len() == 1 { "it" } else { "them" },
            ),
        ));
    }
    chapter_zip_rules::Entity::delete_many()
        .filter(chapter_zip_rules::Column::ChapterId.eq(id))
        .exec(&tx)
        .await?;
    let now = Utc::now();
    for chunk in wanted.chunks(INSERT_CHUNK) {
        chapter_zip_rules::Entity::insert_many(chunk.iter().map(|code| {
            chapter_zip_rules::ActiveModel {
                id: Set(Uuid::now_v7()),
                organization_id: Set(scope.org_id()),
                chapter_id: Set(id),
                prefix: Set(code.clone()),
                created_at: Set(now),
            }
        }))
        .exec(&tx)
        .await
        // Two chapters claiming one code at once: the unique index decides.
        .map_err(|e| {
            crate::db::taken_if_unique(e, "zipCodes", "another chapter took one of these codes")
        })?;
    }
    audit::record(
        &tx,
        scope,
        ctx,
        "chapter.zip_codes",
        "chapter",
        Some(id),
        &["zip_codes"],
    )
    .await?;
    tx.commit().await?;
    wanted.sort();
    Ok(ChapterInfo {
        row: chapter,
        zip_codes: wanted,
    })
}

/// Removes the rules of chapter `id` (when it is archived): its codes are free for others.
pub(crate) async fn clear<C: ConnectionTrait>(conn: &C, id: Uuid) -> DomainResult<()> {
    chapter_zip_rules::Entity::delete_many()
        .filter(chapter_zip_rules::Column::ChapterId.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// `a`, `a and b`, `a, b and 3 more`.
fn listed(codes: &[String]) -> String {
    match codes {
        [] => String::new(),
        [a] => a.clone(),
        [a, b] => format!("{a} and {b}"),
        [a, b, rest @ ..] => format!("{a}, {b} and {} more", rest.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_fold_case_spaces_and_dashes() {
        assert_eq!(normalize(" k1a 0b1 ").as_deref(), Some("K1A0B1"));
        assert_eq!(normalize("11201-1234").as_deref(), Some("112011234"));
        assert_eq!(normalize("D02 X285").as_deref(), Some("D02X285"));
        assert_eq!(normalize("  "), None);
        assert_eq!(normalize("112;01"), None);
    }

    #[test]
    fn the_longest_prefix_wins() {
        let north = Uuid::now_v7();
        let heights = Uuid::now_v7();
        let rules = ZipRules(HashMap::from([
            ("112".to_owned(), north),
            ("11201".to_owned(), heights),
        ]));
        assert_eq!(rules.chapter_for(Some("11201-1234")), Some(heights));
        assert_eq!(rules.chapter_for(Some("11215")), Some(north));
        assert_eq!(rules.chapter_for(Some("10001")), None);
        assert_eq!(rules.chapter_for(None), None);
        assert_eq!(rules.chapter_for(Some("11")), None);
    }

    #[test]
    fn long_lists_are_shortened() {
        let codes: Vec<String> = ["1", "2", "3", "4"].map(String::from).into();
        assert_eq!(listed(&codes), "1, 2 and 2 more");
        assert_eq!(listed(&codes[..2]), "1 and 2");
    }
}
