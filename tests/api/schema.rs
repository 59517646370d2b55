//! The committed `schema.graphql` is the contract frontends generate code from.

#[test]
fn committed_schema_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql"))
        .expect("schema.graphql at the repository root");
    let actual = turnout_api::sdl();
    assert!(
        committed == actual,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql` and commit it"
    );
}
