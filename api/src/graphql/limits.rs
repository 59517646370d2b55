//! Limits on the shape of a request that async-graphql does not enforce itself, checked by the
//! HTTP and WebSocket entry points before the schema sees the request ([`admit`]):
//!
//! - **Nesting of the text.** async-graphql's parser is recursive: brackets nested ~1,500 deep
//!   overflow its stack and abort the whole process. The text is scanned (linear, no recursion)
//!   and refused above [`DocumentLimits::max_nesting`] before the parser runs. The variables are
//!   held to the same depth.
//! - **Work with fragments expanded.** Validation and async-graphql's depth and complexity
//!   counts walk every fragment at every place it is spread, so a 1 KB document whose fragments
//!   each spread the next one twice is millions of fields to walk, synchronously, on an async
//!   worker thread. Here each fragment is counted once and its count reused (memoized), so the
//!   check is linear in the document and refuses it before any exponential walk starts.
//! - **Aliases.** Many aliases of one field make one request do the work of many.
//! - **Unstorable text and unknown directives.** A NUL character cannot be stored in PostgreSQL
//!   (and SQLite would store what the other backend refuses), so any string input holding one is
//!   `VALIDATION` here, identically on both. Directives other than `@skip` and `@include` are
//!   refused instead of silently ignored.
//!
//! These are checks on the parsed document, not a schema extension: any extension sends every
//! resolved field and list item through async-graphql's slow path (a `ResolveInfo`, a registry
//! lookup and type-name strings per value), which cost about a tenth of a large response's CPU
//! (BENCHMARKS.md, Q3).

use std::collections::HashMap;

use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
    Selection, SelectionSet,
};
use async_graphql::{Positioned, parser::types::Field};
use async_graphql::{Request, ServerError, Value};

/// Fragment spreads chain at most this deep. async-graphql's own recursion check stops at 32;
/// refusing here keeps the count's own recursion bounded too.
const MAX_SPREAD_DEPTH: usize = 32;

/// What an unpaginated list field (an event's shifts, a shift's RSVPs, a person's tags) costs
/// in the complexity limit: its children's cost times this, as if it held this many items. So
/// `rsvps → shift → rsvps → …` grows tenfold per level and is refused a few levels down, while
/// a roster (event → shifts → RSVPs → person) stays far under the default limit.
pub const UNPAGINATED_LIST_COST: usize = 10;

/// The limits [`admit`] enforces.
#[derive(Clone, Copy, Debug)]
pub struct DocumentLimits {
    /// Deepest nesting of brackets, braces and parentheses in the query text, and of lists and
    /// objects in the variables.
    pub max_nesting: usize,
    /// Most fields in the document once every fragment is expanded where it is spread.
    pub max_fields: usize,
    /// Most aliased fields, counted the same way.
    pub max_aliases: usize,
}

/// Checks a request's text, variables and document against `limits`, parsing it once (the
/// schema reuses the parsed document). The error is the one the client gets.
pub fn admit(request: &mut Request, limits: DocumentLimits) -> Result<(), ServerError> {
    check_nesting(&request.query, limits.max_nesting)?;
    if request
        .variables
        .values()
        .any(|value| nested_deeper_than(value, limits.max_nesting))
    {
        return Err(refusal(
            "GRAPHQL_PARSE_FAILED",
            format!(
                "the variables nest lists and objects more than {} deep",
                limits.max_nesting
            ),
        ));
    }
    if request.variables.values().any(holds_nul) {
        return Err(nul_refusal());
    }
    let doc = request
        .parsed_query()
        .map_err(|err| with_code(err, "GRAPHQL_PARSE_FAILED"))?;
    check_document(doc, limits)?;
    check_inputs(doc)
}

/// The operation a request runs: the one it names, or the document's only one. `None` when the
/// document holds no such operation (the schema then refuses it).
pub fn operation<'a>(
    doc: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().map(|op| &op.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// True when the operation is a query for the schema's description only (`__schema`, `__type`
/// and `__typename` at its root, directly or through fragments), as GraphiQL, codegen and IDE
/// plugins send. Such a query is deeper than any data query needs (`ofType` nests about ten
/// levels), so authenticated callers run it against a schema with a deeper limit.
pub fn is_introspection(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    root_fields(doc, operation_name)
        .is_some_and(|names| !names.is_empty() && names.iter().all(|name| name.starts_with("__")))
}

/// True when the operation asks for the schema itself (`__schema` or `__type` at its root).
pub fn asks_for_schema(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    root_fields(doc, operation_name).is_some_and(|names| {
        names
            .iter()
            .any(|name| matches!(*name, "__schema" | "__type"))
    })
}

/// The names of the fields at the root of a query, through fragments; `None` for another kind
/// of operation, or fragments spread deeper than [`MAX_SPREAD_DEPTH`].
fn root_fields<'a>(
    doc: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<Vec<&'a str>> {
    let op = operation(doc, operation_name)?;
    if op.ty != OperationType::Query {
        return None;
    }
    let mut names = Vec::new();
    collect_root_fields(doc, &op.selection_set.node, 0, &mut names).then_some(names)
}

fn collect_root_fields<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    depth: usize,
    names: &mut Vec<&'a str>,
) -> bool {
    if depth > MAX_SPREAD_DEPTH {
        return false;
    }
    set.items.iter().all(|sel| match &sel.node {
        Selection::Field(f) => {
            names.push(f.node.name.node.as_str());
            true
        }
        Selection::FragmentSpread(s) => {
            doc.fragments
                .get(&s.node.fragment_name.node)
                .is_some_and(|f| {
                    collect_root_fields(doc, &f.node.selection_set.node, depth + 1, names)
                })
        }
        Selection::InlineFragment(i) => {
            collect_root_fields(doc, &i.node.selection_set.node, depth + 1, names)
        }
    })
}

/// The directives an operation may use; any other is refused, not ignored.
const EXECUTABLE_DIRECTIVES: [&str; 2] = ["skip", "include"];

fn nul_refusal() -> ServerError {
    refusal(
        "VALIDATION",
        "text may not contain the NUL character (U+0000)".to_owned(),
    )
}

/// True when `value` is or holds a string with a NUL character.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::List(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

/// Refuses NUL characters in the document's own string values and directives other than
/// [`EXECUTABLE_DIRECTIVES`]. Recursion is bounded by [`check_nesting`].
fn check_inputs(doc: &ExecutableDocument) -> Result<(), ServerError> {
    fn directives(list: &[Positioned<Directive>]) -> Result<(), ServerError> {
        for d in list {
            let name = d.node.name.node.as_str();
            if !EXECUTABLE_DIRECTIVES.contains(&name) {
                return Err(refusal(
                    "VALIDATION",
                    format!("unknown directive \"@{name}\": only @skip and @include apply"),
                ));
            }
            arguments(&d.node.arguments)?;
        }
        Ok(())
    }
    fn arguments(
        args: &[(
            Positioned<async_graphql::Name>,
            Positioned<async_graphql_value::Value>,
        )],
    ) -> Result<(), ServerError> {
        if args.iter().any(|(_, v)| value_holds_nul(&v.node)) {
            return Err(nul_refusal());
        }
        Ok(())
    }
    fn value_holds_nul(value: &async_graphql_value::Value) -> bool {
        use async_graphql_value::Value as V;
        match value {
            V::String(s) => s.contains('\0'),
            V::List(items) => items.iter().any(value_holds_nul),
            V::Object(fields) => fields.values().any(value_holds_nul),
            _ => false,
        }
    }
    fn field(f: &Field) -> Result<(), ServerError> {
        arguments(&f.arguments)?;
        directives(&f.directives)?;
        selections(&f.selection_set.node)
    }
    fn selections(set: &SelectionSet) -> Result<(), ServerError> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(f) => field(&f.node)?,
                Selection::FragmentSpread(s) => directives(&s.node.directives)?,
                Selection::InlineFragment(i) => {
                    directives(&i.node.directives)?;
                    selections(&i.node.selection_set.node)?;
                }
            }
        }
        Ok(())
    }
    for (_, op) in doc.operations.iter() {
        directives(&op.node.directives)?;
        for var in &op.node.variable_definitions {
            directives(&var.node.directives)?;
            if var
                .node
                .default_value
                .as_ref()
                .is_some_and(|v| holds_nul(&v.node))
            {
                return Err(nul_refusal());
            }
        }
        selections(&op.node.selection_set.node)?;
    }
    for fragment in doc.fragments.values() {
        directives(&fragment.node.directives)?;
        selections(&fragment.node.selection_set.node)?;
    }
    Ok(())
}

/// Refuses query text whose brackets, braces and parentheses nest deeper than `max`. Strings,
/// block strings and comments are skipped, so a `[` inside a string does not count.
pub fn check_nesting(query: &str, max: usize) -> Result<(), ServerError> {
    let bytes = query.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // `\"""` is an escaped delimiter inside a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2; // the closing `""` (the loop's `+= 1` takes the third)
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > max {
                    return Err(refusal(
                        "GRAPHQL_PARSE_FAILED",
                        format!(
                            "the query nests brackets, braces or parentheses more than {max} deep"
                        ),
                    ));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// True when `value` nests lists and objects deeper than `max`. The recursion is bounded:
/// serde_json refuses JSON nested deeper than 128 before a request exists.
fn nested_deeper_than(value: &Value, max: usize) -> bool {
    let mut children: Box<dyn Iterator<Item = &Value>> = match value {
        Value::List(items) => Box::new(items.iter()),
        Value::Object(fields) => Box::new(fields.values()),
        _ => return false,
    };
    match max.checked_sub(1) {
        None => true,
        Some(left) => children.any(|child| nested_deeper_than(child, left)),
    }
}

/// What a selection set (or a fragment) adds up to once its fragments are expanded.
#[derive(Clone, Copy, Default)]
struct Cost {
    fields: usize,
    aliases: usize,
    /// The longest chain of fragment spreads below it.
    spread_height: usize,
}

impl Cost {
    fn add(&mut self, other: Cost) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.spread_height = self.spread_height.max(other.spread_height);
    }
}

enum Memo {
    /// Being counted: meeting it again is a cycle.
    Counting,
    Counted(Cost),
}

/// Why a document is refused.
enum Refused {
    SpreadDepth,
    Cycle(String),
}

struct Counter<'a> {
    doc: &'a ExecutableDocument,
    fragments: HashMap<&'a str, Memo>,
}

impl<'a> Counter<'a> {
    /// `chain` is how many spreads lead here: the recursion's own depth through fragments.
    fn selection_set(&mut self, set: &'a SelectionSet, chain: usize) -> Result<Cost, Refused> {
        let mut cost = Cost::default();
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    cost.fields = cost.fields.saturating_add(1);
                    if field.node.alias.is_some() {
                        cost.aliases = cost.aliases.saturating_add(1);
                    }
                    cost.add(self.selection_set(&field.node.selection_set.node, chain)?);
                }
                Selection::InlineFragment(inline) => {
                    cost.add(self.selection_set(&inline.node.selection_set.node, chain)?);
                }
                Selection::FragmentSpread(spread) => {
                    let mut spread_cost =
                        self.fragment(spread.node.fragment_name.node.as_str(), chain + 1)?;
                    spread_cost.spread_height += 1;
                    if chain + spread_cost.spread_height > MAX_SPREAD_DEPTH {
                        return Err(Refused::SpreadDepth);
                    }
                    cost.add(spread_cost);
                }
            }
        }
        Ok(cost)
    }

    fn fragment(&mut self, name: &'a str, chain: usize) -> Result<Cost, Refused> {
        if chain > MAX_SPREAD_DEPTH {
            return Err(Refused::SpreadDepth);
        }
        match self.fragments.get(name) {
            Some(Memo::Counted(cost)) => return Ok(*cost),
            Some(Memo::Counting) => return Err(Refused::Cycle(name.to_owned())),
            None => {}
        }
        // An unknown fragment adds nothing here; validation reports it.
        let Some(fragment) = self.doc.fragments.get(name) else {
            return Ok(Cost::default());
        };
        self.fragments.insert(name, Memo::Counting);
        let cost = self.selection_set(&fragment.node.selection_set.node, chain)?;
        self.fragments.insert(name, Memo::Counted(cost));
        Ok(cost)
    }
}

/// Refuses a document whose fields or aliases, with fragments expanded, exceed the limits,
/// whose fragment spreads chain too deep, or whose fragments spread themselves. Linear in the
/// document: each fragment is counted once.
pub fn check_document(doc: &ExecutableDocument, limits: DocumentLimits) -> Result<(), ServerError> {
    let mut counter = Counter {
        doc,
        fragments: HashMap::new(),
    };
    let mut total = Cost::default();
    for (_, op) in doc.operations.iter() {
        match counter.selection_set(&op.node.selection_set.node, 0) {
            Ok(cost) => total.add(cost),
            Err(Refused::SpreadDepth) => {
                return Err(refusal(
                    "VALIDATION",
                    format!("the query's fragment spreads chain more than {MAX_SPREAD_DEPTH} deep"),
                ));
            }
            Err(Refused::Cycle(name)) => {
                return Err(refusal(
                    "VALIDATION",
                    format!("fragment \"{name}\" spreads itself"),
                ));
            }
        }
    }
    if total.fields > limits.max_fields {
        return Err(refusal(
            "VALIDATION",
            format!(
                "the query selects more than {} fields once its fragments are expanded",
                limits.max_fields
            ),
        ));
    }
    if total.aliases > limits.max_aliases {
        return Err(refusal(
            "VALIDATION",
            format!("the query uses more than {} aliases", limits.max_aliases),
        ));
    }
    Ok(())
}

fn refusal(code: &str, message: String) -> ServerError {
    with_code(ServerError::new(message, None), code)
}

fn with_code(mut err: ServerError, code: &str) -> ServerError {
    let mut ext = err.extensions.take().unwrap_or_default();
    ext.set("code", code);
    err.extensions = Some(ext);
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DocumentLimits = DocumentLimits {
        max_nesting: 8,
        max_fields: 100,
        max_aliases: 5,
    };

    fn code(err: &ServerError) -> Option<String> {
        match err.extensions.as_ref()?.get("code")? {
            Value::String(s) => Some(s.clone()),
            _ => None,
        }
    }

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments_only() {
        assert!(check_nesting("{ a(x: [[[1]]]) }", 5).is_ok());
        let err = check_nesting("{ a(x: [[[[1]]]]) }", 5).err();
        assert_eq!(
            err.as_ref().and_then(code).as_deref(),
            Some("GRAPHQL_PARSE_FAILED")
        );
        let strings = r#"{ a(x: "[[[[[[[[", y: """ {{{{{{ \""" [[[[[[ """) } # ((((((((("#;
        assert!(check_nesting(strings, 3).is_ok());
        // An escaped quote does not end a string.
        assert!(check_nesting(r#"{ a(x: "\" [[[[[[") }"#, 3).is_ok());
        // Closing brackets without openers do not go below zero and hide later nesting.
        assert!(check_nesting("]]]]]] {{{{{{", 5).is_err());
    }

    #[test]
    fn a_deep_document_is_refused_without_recursion() {
        let deep = format!(
            "{{ __typename(x: {}1{}) }}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        assert!(check_nesting(&deep, 64).is_err());
    }

    #[test]
    fn variables_nest_no_deeper_than_the_text() {
        let mut value = Value::from(1);
        for _ in 0..8 {
            value = Value::List(vec![value]);
        }
        assert!(!nested_deeper_than(&value, 8));
        assert!(nested_deeper_than(&Value::List(vec![value]), 8));
    }

    fn check(query: &str) -> Result<(), ServerError> {
        let doc = async_graphql::parser::parse_query(query).map_err(ServerError::from)?;
        check_document(&doc, LIMITS)
    }

    /// Fragments that each spread the next one twice, `levels` deep.
    fn bomb(levels: usize) -> String {
        let mut query = String::from("{ ...F0 }\n");
        for i in 0..levels {
            query.push_str(&format!(
                "fragment F{i} on Query {{ ...F{n} ...F{n} }}\n",
                n = i + 1
            ));
        }
        query.push_str(&format!("fragment F{levels} on Query {{ __typename }}\n"));
        query
    }

    #[test]
    fn fields_are_counted_with_fragments_expanded_once_each() {
        // Each fragment spreads the next twice: 2^22 fields as executed, 22 fragments as written.
        let err = check(&bomb(22)).err();
        assert!(
            err.as_ref()
                .is_some_and(|e| e.message.contains("more than 100 fields")),
            "{err:?}"
        );
        // 2^6 = 64 fields as executed pass.
        assert!(check(&bomb(6)).is_ok());
    }

    #[test]
    fn aliases_count_at_every_spread() {
        assert!(check("{ a: __typename b: __typename }").is_ok());
        let err = check("{ ...A ...A ...A } fragment A on Query { a: __typename b: __typename }");
        assert!(err.is_err_and(|e| e.message.contains("more than 5 aliases")));
    }

    #[test]
    fn cycles_and_long_spread_chains_are_refused() {
        let err = check("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }");
        assert!(err.is_err_and(|e| e.message.contains("spreads itself")));
        let mut chain = String::from("{ ...F0 }\n");
        for i in 0..40 {
            chain.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
        }
        chain.push_str("fragment F40 on Query { __typename }\n");
        assert!(check(&chain).is_err_and(|e| e.message.contains("chain more than")));
        // A long chain counted once from a shallow spread is still too long from a deep one.
        let mut reused = String::from("{ ...F20 ...F0 }\n");
        for i in 0..40 {
            reused.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
        }
        reused.push_str("fragment F40 on Query { __typename }\n");
        assert!(check(&reused).is_err());
    }
}
