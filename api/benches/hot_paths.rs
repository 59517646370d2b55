//! The API's hot pure paths, so regressions show: global IDs (every object of every response
//! carries one; a roster has ≈ 1,200), cursors (every edge of every page), and the alias check
//! every request's parsed document goes through.
//!
//! `cargo bench -p turnout-api --bench hot_paths`

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use async_graphql::parser::parse_query;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use turnout_api::graphql::{DocumentLimits, check_document, check_nesting};
use turnout_api::ids::{
    NodeType, decode_global_id, decode_person_cursor, encode_person_cursor, global_id,
};
use turnout_domain::people::PersonCursor;
use uuid::Uuid;

/// The Q3 roster document of `bench/`: the largest response the benchmarks ask for.
const ROSTER: &str = "query Q3($id: ID!) { event(id: $id) { id title location \
    shifts { id startsAt endsAt rsvps { id status person { id firstName lastName } } } } }";

fn ids(c: &mut Criterion) {
    let id = Uuid::now_v7();
    let mut group = c.benchmark_group("ids");
    group.throughput(Throughput::Elements(1));
    group.bench_function("global_id", |b| {
        b.iter(|| global_id(black_box(NodeType::Person), black_box(id)))
    });
    let gid = global_id(NodeType::CustomField, id);
    group.bench_function("decode_global_id", |b| {
        b.iter(|| decode_global_id("id", black_box(&gid)).unwrap())
    });
    let cursor = PersonCursor::Created(chrono::Utc::now(), id);
    group.bench_function("encode_person_cursor", |b| {
        b.iter(|| encode_person_cursor(black_box(&cursor)))
    });
    let encoded = encode_person_cursor(&cursor);
    group.bench_function("decode_person_cursor", |b| {
        b.iter(|| decode_person_cursor("after", black_box(&encoded)).unwrap())
    });
    group.finish();
}

fn documents(c: &mut Criterion) {
    let mut group = c.benchmark_group("documents");
    let doc = parse_query(ROSTER).unwrap();
    let limits = DocumentLimits {
        max_nesting: 64,
        max_fields: 5_000,
        max_aliases: 30,
    };
    // Sanity: the roster is within the default limits, and 31 aliases are refused.
    check_nesting(ROSTER, limits.max_nesting).unwrap();
    check_document(&doc, limits).unwrap();
    let aliased: String = (0..31).map(|i| format!("a{i}: __typename ")).collect();
    let many = parse_query(format!("{{ {aliased} }}")).unwrap();
    assert!(check_document(&many, limits).is_err());
    group.bench_function("check_nesting_roster", |b| {
        b.iter(|| check_nesting(black_box(ROSTER), 64).unwrap())
    });
    group.bench_function("check_document_roster", |b| {
        b.iter(|| check_document(black_box(&doc), limits).unwrap())
    });
    group.bench_function("parse_roster", |b| {
        b.iter(|| parse_query(black_box(ROSTER)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, ids, documents);
criterion_main!(benches);
