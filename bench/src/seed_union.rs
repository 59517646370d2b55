//! The organizing part of `seed --profile union` (issue 15): one employer, worksites with
//! units (each worksite's first units are departments, the rest shifts nested in them), every
//! seeded person employed in one unit, one card-drive campaign over every worksite with
//! assessments (and their history), cards, petitions and a leader in most units, and
//! coworker and social-leader relationships.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use turnout_entity::{
    assessments, campaign_people, campaign_targets, employers, employments, organizing_campaigns,
    relationships, units, worksites,
};
use uuid::Uuid;

use crate::seed::uuid_v7;

pub struct Union {
    pub worksites: usize,
    pub units_per_worksite: usize,
}

pub struct Rows {
    pub employers: Vec<employers::Model>,
    pub worksites: Vec<worksites::Model>,
    pub units: Vec<units::Model>,
    pub employments: Vec<employments::Model>,
    pub campaigns: Vec<organizing_campaigns::Model>,
    pub targets: Vec<campaign_targets::Model>,
    pub standings: Vec<campaign_people::Model>,
    pub assessments: Vec<assessments::Model>,
    pub relationships: Vec<relationships::Model>,
}

/// The default 1–5 scale, as a campaign stores it.
fn scale() -> serde_json::Value {
    serde_json::json!([
        { "level": 1, "label": "Leader", "color": "#1a7f37" },
        { "level": 2, "label": "Supporter", "color": "#57ab5a" },
        { "level": 3, "label": "Undecided", "color": "#bf8700" },
        { "level": 4, "label": "Leaning against", "color": "#d1242f" },
        { "level": 5, "label": "Opposed", "color": "#82071e" },
    ])
}

pub fn rows(
    rng: &mut StdRng,
    org_id: Uuid,
    base: DateTime<Utc>,
    base_ms: u64,
    people: &[Uuid],
    shape: &Union,
) -> Rows {
    let mut ms = base_ms + 30_000_000_000;
    let mut next_id = |rng: &mut StdRng| {
        ms += 1;
        uuid_v7(rng, ms)
    };
    let employer = employers::Model {
        id: next_id(rng),
        organization_id: org_id,
        name: "Acme Logistics".into(),
        created_at: base,
    };
    let mut worksite_rows = Vec::with_capacity(shape.worksites);
    let mut unit_rows = Vec::with_capacity(shape.worksites * shape.units_per_worksite);
    let departments = (shape.units_per_worksite / 5).max(1);
    for w in 0..shape.worksites {
        let worksite = worksites::Model {
            id: next_id(rng),
            organization_id: org_id,
            employer_id: employer.id,
            name: format!("Warehouse {:02}", w + 1),
            address: Some(format!("{} Dock Rd", 10 + w)),
            created_at: base,
        };
        let mut tops: Vec<Uuid> = Vec::with_capacity(departments);
        for u in 0..shape.units_per_worksite {
            let id = next_id(rng);
            let (name, kind, parent) = if u < departments {
                tops.push(id);
                (format!("Department {}", u + 1), "department", None)
            } else {
                let parent = tops[u % departments];
                (format!("Shift {}", u + 1), "shift", Some(parent))
            };
            unit_rows.push(units::Model {
                id,
                organization_id: org_id,
                worksite_id: worksite.id,
                parent_unit_id: parent,
                name,
                kind: kind.into(),
                created_at: base,
            });
        }
        worksite_rows.push(worksite);
    }

    // Workers are spread evenly: person i works in unit i mod units.
    let mut employment_rows = Vec::with_capacity(people.len());
    for (i, &person_id) in people.iter().enumerate() {
        let unit = &unit_rows[i % unit_rows.len()];
        employment_rows.push(employments::Model {
            id: next_id(rng),
            organization_id: org_id,
            person_id,
            worksite_id: unit.worksite_id,
            unit_id: Some(unit.id),
            job_title: Some(
                if rng.random_bool(0.7) {
                    "Picker"
                } else {
                    "Loader"
                }
                .into(),
            ),
            shift: Some(
                if rng.random_bool(0.5) {
                    "days"
                } else {
                    "nights"
                }
                .into(),
            ),
            started_on: Some((base - Duration::days(rng.random_range(30..3000))).date_naive()),
            ended_on: None,
            created_at: base,
            updated_at: base,
        });
    }

    let campaign = organizing_campaigns::Model {
        id: next_id(rng),
        organization_id: org_id,
        name: "Acme card drive".into(),
        goal_percent: 70,
        scale: scale(),
        created_at: base,
        updated_at: base,
        archived_at: None,
    };
    let target_rows: Vec<campaign_targets::Model> = worksite_rows
        .iter()
        .map(|w| campaign_targets::Model {
            id: next_id(rng),
            organization_id: org_id,
            campaign_id: campaign.id,
            worksite_id: Some(w.id),
            unit_id: None,
        })
        .collect();

    // 80 % assessed (1–3 assessments each over the last 8 weeks), 40 % signed a card, 15 % the
    // petition; in three units of four, the first worker is a leader.
    let mut standing_rows = Vec::new();
    let mut assessment_rows = Vec::new();
    let units = unit_rows.len();
    for (i, &person_id) in people.iter().enumerate() {
        let leader = i < units && i % 4 != 3;
        let assessed = leader || rng.random_bool(0.8);
        let mut level = None;
        let mut assessed_at = None;
        if assessed {
            let times = rng.random_range(1..=3);
            for t in 0..times {
                let at = base + Duration::days(280 + 14 * t + rng.random_range(0..14));
                let l: i16 = if leader { 1 } else { rng.random_range(1..=5) };
                assessment_rows.push(assessments::Model {
                    id: next_id(rng),
                    organization_id: org_id,
                    campaign_id: campaign.id,
                    person_id,
                    level: l,
                    note: None,
                    assessed_by_user_id: None,
                    assessed_by_api_key_id: None,
                    assessed_at: at,
                });
                level = Some(l);
                assessed_at = Some(at);
            }
        }
        let day =
            |rng: &mut StdRng| (base + Duration::days(rng.random_range(260..320))).date_naive();
        let card = rng.random_bool(0.4).then(|| day(rng));
        let petition = rng.random_bool(0.15).then(|| day(rng));
        if assessed || card.is_some() || petition.is_some() {
            standing_rows.push(campaign_people::Model {
                organization_id: org_id,
                campaign_id: campaign.id,
                person_id,
                level,
                assessed_at,
                card_signed_on: card,
                petition_signed_on: petition,
                leader,
                updated_at: base,
            });
        }
    }

    // Each worker: a coworker in the same unit (the next one), and the unit's first worker is
    // the social leader of the next three.
    let mut relationship_rows = Vec::new();
    for (i, &person_id) in people.iter().enumerate() {
        let next = i + units;
        if next < people.len() {
            relationship_rows.push(relationships::Model {
                id: next_id(rng),
                organization_id: org_id,
                from_person_id: person_id,
                to_person_id: people[next],
                kind: "coworker".into(),
                note: None,
                created_by_user_id: None,
                created_at: base,
            });
        }
        if i < units {
            for k in 1..=3 {
                if let Some(&led) = people.get(i + k * units) {
                    relationship_rows.push(relationships::Model {
                        id: next_id(rng),
                        organization_id: org_id,
                        from_person_id: person_id,
                        to_person_id: led,
                        kind: "social_leader_of".into(),
                        note: None,
                        created_by_user_id: None,
                        created_at: base,
                    });
                }
            }
        }
    }

    Rows {
        employers: vec![employer],
        worksites: worksite_rows,
        units: unit_rows,
        employments: employment_rows,
        campaigns: vec![campaign],
        targets: target_rows,
        standings: standing_rows,
        assessments: assessment_rows,
        relationships: relationship_rows,
    }
}
