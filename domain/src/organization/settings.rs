//! An organization's settings: the region its phone numbers are read in (a number typed
//! without `+` is national to it), its time zone and default language, its public pages' look
//! (brand colour, logo), who may embed its sign-up forms, who its messages come from, and the
//! messages it switches on (after a shift; the organizers' daily digest).
//! Admins change them; everyone who reads the organization sees them.

use std::str::FromStr;

use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use turnout_entity::organizations;

use crate::audit::{self, RequestContext};
use crate::auth::{Can, perm};
use crate::db::Db;
use crate::error::{DomainError, DomainResult, Problems, Reason};
use crate::links::PublicLinks;
use crate::organization::senders::{Senders, SendersChanges};

/// The region of an organization created without one.
pub const DEFAULT_PHONE_REGION: &str = "US";
/// The language of an organization created without one.
pub const DEFAULT_LANGUAGE: &str = crate::messaging::templates::DEFAULT_LANGUAGE;
/// The largest logo, as a `data:` URL (the pages must stay small on a cheap phone).
pub const MAX_LOGO_BYTES: usize = 16 * 1024;
/// The most sites that may embed the forms.
const MAX_FRAME_ANCESTORS: usize = 20;
/// The logo formats a page shows inline.
const LOGO_PREFIXES: [&str; 4] = [
    "data:image/png;base64,",
    "data:image/jpeg;base64,",
    "data:image/webp;base64,",
    "data:image/svg+xml;base64,",
];

/// The settings as the rest of the domain reads them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// ISO 3166 region (`US`, `IE`, `CA`).
    pub phone_region: String,
    /// `#rrggbb`, dark enough for white text (WCAG AA).
    pub brand_color: Option<String>,
    /// A small image as a `data:` URL, so the pages load nothing from elsewhere.
    pub logo_data_url: Option<String>,
    /// Origins that may show the sign-up forms in an iframe.
    pub frame_ancestors: Vec<String>,
    /// IANA time zone (`America/Chicago`): quiet hours for people without a zone of their
    /// own, and new events' zone when they name none. `None`: the deployment's default.
    pub time_zone: Option<String>,
    /// The language (`en`, `es`) of messages to people without a preferred language, and of
    /// the pages when the visitor's browser names none Turnout has.
    pub default_language: String,
    /// Who its messages come from (chapters may set their own).
    pub senders: Senders,
    /// After a shift, attendees get the `shift_thanks` template.
    pub thank_attendees: bool,
    /// After a shift, no-shows get the `shift_missed` template ("we missed you").
    pub follow_up_no_shows: bool,
    /// Point people get a daily email about their people (see `crate::digest`).
    pub organizer_digest: bool,
}

impl Settings {
    pub fn of(org: &organizations::Model) -> Self {
        Self {
            phone_region: org.phone_region.clone(),
            brand_color: org.brand_color.clone(),
            logo_data_url: org.logo_data_url.clone(),
            frame_ancestors: org
                .frame_ancestors
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
            time_zone: org.time_zone.clone(),
            default_language: org.default_language.clone(),
            senders: Senders::of_organization(org),
            thank_attendees: org.thank_attendees,
            follow_up_no_shows: org.follow_up_no_shows,
            organizer_digest: org.organizer_digest,
        }
    }
}

/// A change of settings: `None` leaves a setting as it is; for the optional ones,
/// `Some(None)` clears it.
#[derive(Clone, Debug, Default)]
pub struct SettingsChanges {
    pub phone_region: Option<String>,
    pub brand_color: Option<Option<String>>,
    pub logo_data_url: Option<Option<String>>,
    pub frame_ancestors: Option<Vec<String>>,
    pub time_zone: Option<Option<String>>,
    pub default_language: Option<String>,
    pub senders: SendersChanges,
    pub thank_attendees: Option<bool>,
    pub follow_up_no_shows: Option<bool>,
    pub organizer_digest: Option<bool>,
}

/// The region of the organization `org_id`, for reading the phone numbers its people give.
pub async fn phone_region(db: &Db, org_id: uuid::Uuid) -> DomainResult<String> {
    Ok(super::public(db, org_id).await?.phone_region)
}

/// Changes the caller's organization's settings; every refused field is reported at once.
pub async fn update(
    db: &Db,
    scope: &Can<perm::Admin>,
    ctx: &RequestContext,
    changes: SettingsChanges,
) -> DomainResult<Settings> {
    let mut problems = Problems::new();
    let region = changes
        .phone_region
        .map(|r| problems.take(parse_region(&r)))
        .transpose()?
        .flatten();
    let color = match changes.brand_color {
        Some(Some(c)) => problems.take(parse_color(&c))?.map(|c| Some(Some(c))),
        Some(None) => Some(Some(None)),
        None => None,
    }
    .flatten();
    let logo = match changes.logo_data_url {
        Some(Some(l)) => problems.take(parse_logo(&l))?.map(|l| Some(Some(l))),
        Some(None) => Some(Some(None)),
        None => None,
    }
    .flatten();
    let ancestors = changes
        .frame_ancestors
        .map(|list| problems.take(parse_ancestors(&list)))
        .transpose()?
        .flatten();
    let time_zone = match changes.time_zone {
        Some(Some(z)) => problems.take(parse_time_zone(&z))?.map(|z| Some(Some(z))),
        Some(None) => Some(Some(None)),
        None => None,
    }
    .flatten();
    let language = changes
        .default_language
        .map(|l| problems.take(parse_language(&l)))
        .transpose()?
        .flatten();

    let tx = db.begin_write().await?;
    let org = organizations::Entity::find_by_id(scope.org_id())
        .one(&tx)
        .await?
        .ok_or(DomainError::not_found("organization"))?;
    // Numbers typed without `+` are read in the region being set, or else the current one.
    let numbers_region = region.clone().unwrap_or_else(|| org.phone_region.clone());
    let senders = changes
        .senders
        .validate(&mut problems, "input.", &numbers_region)?;
    problems.finish()?;
    let mut fields = Vec::new();
    let mut current_senders = Senders::of_organization(&org);
    fields.extend(senders.apply(&mut current_senders));
    let mut am = org.into_active_model();
    am.email_from = Set(current_senders.email_from);
    am.sms_from = Set(current_senders.sms_from);
    am.whatsapp_from = Set(current_senders.whatsapp_from);
    if let Some(region) = region {
        am.phone_region = Set(region);
        fields.push("phone_region");
    }
    if let Some(color) = color {
        am.brand_color = Set(color);
        fields.push("brand_color");
    }
    if let Some(logo) = logo {
        am.logo_data_url = Set(logo);
        fields.push("logo_data_url");
    }
    if let Some(list) = ancestors {
        am.frame_ancestors = Set((!list.is_empty()).then(|| list.join(" ")));
        fields.push("frame_ancestors");
    }
    if let Some(zone) = time_zone {
        am.time_zone = Set(zone);
        fields.push("time_zone");
    }
    if let Some(language) = language {
        am.default_language = Set(language);
        fields.push("default_language");
    }
    if let Some(on) = changes.thank_attendees {
        am.thank_attendees = Set(on);
        fields.push("thank_attendees");
    }
    if let Some(on) = changes.follow_up_no_shows {
        am.follow_up_no_shows = Set(on);
        fields.push("follow_up_no_shows");
    }
    if let Some(on) = changes.organizer_digest {
        am.organizer_digest = Set(on);
        fields.push("organizer_digest");
    }
    let org = am.update(&tx).await?;
    audit::record(
        &tx,
        scope,
        ctx,
        "organization.update_settings",
        "organization",
        Some(org.id),
        &fields,
    )
    .await?;
    tx.commit().await?;
    Ok(Settings::of(&org))
}

fn parse_region(raw: &str) -> DomainResult<String> {
    let region = raw.trim().to_ascii_uppercase();
    if region.len() == 2 && phonenumber::country::Id::from_str(&region).is_ok() {
        Ok(region)
    } else {
        Err(DomainError::invalid(
            "input.phoneRegion",
            Reason::Invalid,
            "must be a two-letter region whose phone numbers we know (US, IE, CA, GB …)",
        ))
    }
}

fn parse_time_zone(raw: &str) -> DomainResult<String> {
    let raw = raw.trim();
    chrono_tz::Tz::from_str(raw)
        .map(|tz| tz.name().to_owned())
        .map_err(|_| {
            DomainError::invalid(
                "input.timeZone",
                Reason::Invalid,
                "must be an IANA time zone, such as America/Chicago or Europe/Dublin",
            )
        })
}

/// A language tag: a primary language of 2–3 letters and an optional region or script
/// (`en`, `es`, `pt-BR`), stored lower-case as the templates' languages are.
fn parse_language(raw: &str) -> DomainResult<String> {
    let tag = raw.trim().replace('_', "-").to_ascii_lowercase();
    let mut parts = tag.split('-');
    let primary_ok = parts
        .next()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_lowercase()));
    let rest: Vec<&str> = parts.collect();
    let rest_ok = rest.len() <= 1
        && rest
            .iter()
            .all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if primary_ok && rest_ok {
        Ok(tag)
    } else {
        Err(DomainError::invalid(
            "input.defaultLanguage",
            Reason::Invalid,
            "must be a language tag such as en, es or pt-br",
        ))
    }
}

fn parse_color(raw: &str) -> DomainResult<String> {
    let bad = |message: &str| DomainError::invalid("input.brandColor", Reason::Invalid, message);
    let hex = raw.trim().trim_start_matches('#');
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad("must be a colour as #rrggbb"));
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or(0);
    let ratio = contrast_with_white([channel(0), channel(2), channel(4)]);
    if ratio < 4.5 {
        return Err(bad(&format!(
            "is too light for white text on it (contrast {ratio:.1}:1; WCAG AA needs 4.5:1)"
        )));
    }
    Ok(format!("#{}", hex.to_ascii_lowercase()))
}

/// The WCAG contrast ratio of white against an sRGB colour.
fn contrast_with_white(rgb: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2]);
    1.05 / (l + 0.05)
}

fn parse_logo(raw: &str) -> DomainResult<String> {
    let bad = |message: String| DomainError::invalid("input.logo", Reason::Invalid, message);
    let raw = raw.trim();
    let Some(prefix) = LOGO_PREFIXES.iter().find(|p| raw.starts_with(**p)) else {
        return Err(bad(
            "must be a data: URL of a PNG, JPEG, WebP or SVG image, base64-encoded".into(),
        ));
    };
    if raw.len() > MAX_LOGO_BYTES {
        return Err(DomainError::invalid(
            "input.logo",
            Reason::TooLong,
            format!("must be at most {} kB", MAX_LOGO_BYTES / 1024),
        ));
    }
    let data = &raw[prefix.len()..];
    if data.is_empty()
        || !data
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return Err(bad("is not valid base64".into()));
    }
    Ok(raw.to_owned())
}

fn parse_ancestors(list: &[String]) -> DomainResult<Vec<String>> {
    if list.len() > MAX_FRAME_ANCESTORS {
        return Err(DomainError::invalid(
            "input.frameAncestors",
            Reason::TooLong,
            format!("at most {MAX_FRAME_ANCESTORS} sites"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for (i, origin) in list.iter().enumerate() {
        let parsed = PublicLinks::parse(origin).map_err(|err| {
            DomainError::invalid(
                format!("input.frameAncestors.{i}"),
                Reason::Invalid,
                err.to_string(),
            )
        })?;
        let origin = parsed.origin().to_ascii_lowercase();
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_need_contrast_for_white_text() {
        assert_eq!(parse_color("#1D4ED8").unwrap(), "#1d4ed8");
        assert!(parse_color("#ffff00").is_err(), "yellow is too light");
        assert!(parse_color("blue").is_err());
        assert!((contrast_with_white([0, 0, 0]) - 21.0).abs() < 0.01);
    }

    #[test]
    fn time_zones_and_languages_are_checked() {
        assert_eq!(parse_time_zone(" Europe/Dublin ").unwrap(), "Europe/Dublin");
        assert!(parse_time_zone("Mars/Olympus").is_err());
        assert_eq!(parse_language("ES").unwrap(), "es");
        assert_eq!(parse_language("pt_BR").unwrap(), "pt-br");
        assert!(parse_language("spanish").is_err());
        assert!(parse_language("e").is_err());
    }

    #[test]
    fn regions_logos_and_embedders_are_checked() {
        assert_eq!(parse_region("ie").unwrap(), "IE");
        assert!(parse_region("XX").is_err());
        assert!(parse_logo("data:image/png;base64,iVBORw0KGgo=").is_ok());
        assert!(parse_logo("https://cdn.example/logo.png").is_err());
        assert!(parse_logo("data:image/png;base64,<script>").is_err());
        let ok = parse_ancestors(&["https://Campaign.example.org/".into()]).unwrap();
        assert_eq!(ok, vec!["https://campaign.example.org"]);
        assert!(parse_ancestors(&["*".into()]).is_err());
    }
}
