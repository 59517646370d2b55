//! Limits on the shape of a query that async-graphql does not enforce itself: aliases. Many
//! aliases of one field make one request do the work of many (`a1: people … a500: people`).

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

/// Refuses documents with more than `max_aliases` aliased fields, counting fragments at every
/// place they are spread.
pub struct AliasLimit {
    pub max_aliases: usize,
}

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExtension {
            max_aliases: self.max_aliases,
        })
    }
}

struct AliasLimitExtension {
    max_aliases: usize,
}

/// Fragment spreads nest at most this deep while counting; deeper (or cyclic) documents are
/// refused by validation anyway, this only keeps the count itself bounded.
const MAX_SPREAD_DEPTH: usize = 32;

#[async_graphql::async_trait::async_trait]
impl Extension for AliasLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let mut count = 0usize;
        for (_, op) in doc.operations.iter() {
            count_aliases(
                &doc,
                &op.node.selection_set.node,
                0,
                &mut count,
                self.max_aliases,
            );
        }
        if count > self.max_aliases {
            let mut err = ServerError::new(
                format!("the query uses more than {} aliases", self.max_aliases),
                None,
            );
            err.extensions = Some({
                let mut ext = async_graphql::ErrorExtensionValues::default();
                ext.set("code", "VALIDATION");
                ext
            });
            return Err(err);
        }
        Ok(doc)
    }
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
