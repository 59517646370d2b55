//! Limits on the shape of a query that async-graphql does not enforce itself: aliases. Many
//! aliases of one field make one request do the work of many (`a1: people … a500: people`).
//!
//! This is a check the HTTP and WebSocket entry points run on the parsed document, not a schema
//! extension: any extension sends every resolved field and list item through async-graphql's
//! slow path (a `ResolveInfo`, a registry lookup and type-name strings per value), which cost
//! about a tenth of a large response's CPU (BENCHMARKS.md, Q3).

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, ServerError};

/// Fragment spreads nest at most this deep while counting; deeper (or cyclic) documents are
/// refused by validation anyway, this only keeps the count itself bounded.
const MAX_SPREAD_DEPTH: usize = 32;

/// Refuses a document with more than `max_aliases` aliased fields, counting fragments at every
/// place they are spread. The error is the `VALIDATION` error a client gets.
pub fn check_aliases(doc: &ExecutableDocument, max_aliases: usize) -> Result<(), ServerError> {
    let mut count = 0usize;
    for (_, op) in doc.operations.iter() {
        count_aliases(doc, &op.node.selection_set.node, 0, &mut count, max_aliases);
    }
    if count <= max_aliases {
        return Ok(());
    }
    let mut err = ServerError::new(
        format!("the query uses more than {max_aliases} aliases"),
        None,
    );
    let mut ext = ErrorExtensionValues::default();
    ext.set("code", "VALIDATION");
    err.extensions = Some(ext);
    Err(err)
}

fn count_aliases(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    depth: usize,
    count: &mut usize,
    max: usize,
) {
    if depth > MAX_SPREAD_DEPTH || *count > max {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                if field.node.alias.is_some() {
                    *count += 1;
                }
                count_aliases(doc, &field.node.selection_set.node, depth, count, max);
            }
            Selection::InlineFragment(inline) => {
                count_aliases(doc, &inline.node.selection_set.node, depth, count, max);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = doc.fragments.get(&spread.node.fragment_name.node) {
                    count_aliases(
                        doc,
                        &fragment.node.selection_set.node,
                        depth + 1,
                        count,
                        max,
                    );
                }
            }
        }
    }
}
