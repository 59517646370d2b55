//! Request counts and latency for `/metrics`: every HTTP request by route and status, and
//! every GraphQL request by operation type, with its errors by code. Recorded through the
//! `metrics` facade; the process that serves `/metrics` installs the exporter (without one,
//! recording does nothing).

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Counts a request by its route's pattern (`/f/{slug}`, never the slug itself, so the number
/// of series stays bounded) and the status it got.
pub(super) async fn record_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!("turnout_http_request_duration_seconds", "route" => route.clone())
        .record(started.elapsed());
    metrics::counter!(
        "turnout_http_requests_total",
        "route" => route,
        "method" => method,
        "status" => status
    )
    .increment(1);
    response
}

/// What one GraphQL request was and how it ended, recorded when it is dropped (so every early
/// refusal is counted too).
pub(super) struct GraphqlRequest {
    started: Instant,
    /// `query`, `mutation` or `subscription`; `unknown` until the document is parsed.
    pub operation: &'static str,
    codes: Vec<String>,
}

impl GraphqlRequest {
    pub fn start() -> Self {
        Self {
            started: Instant::now(),
            operation: "unknown",
            codes: Vec::new(),
        }
    }

    pub fn operation_type(&mut self, ty: async_graphql::parser::types::OperationType) {
        use async_graphql::parser::types::OperationType;
        self.operation = match ty {
            OperationType::Query => "query",
            OperationType::Mutation => "mutation",
            OperationType::Subscription => "subscription",
        };
    }

    /// Notes the code of each error in the answer.
    pub fn errors(&mut self, errors: &[async_graphql::ServerError]) {
        self.codes.extend(errors.iter().map(|e| {
            match e.extensions.as_ref().and_then(|ext| ext.get("code")) {
                Some(async_graphql::Value::String(code)) => code.clone(),
                _ => "UNCODED".to_owned(),
            }
        }));
    }

    /// Notes an error answered outside a GraphQL response (a 415, a 405).
    pub fn refused(&mut self, code: &str) {
        self.codes.push(code.to_owned());
    }

    fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

impl Drop for GraphqlRequest {
    fn drop(&mut self) {
        let operation = self.operation;
        metrics::histogram!("turnout_graphql_request_duration_seconds", "operation" => operation)
            .record(self.elapsed());
        metrics::counter!("turnout_graphql_requests_total", "operation" => operation).increment(1);
        for code in self.codes.drain(..) {
            metrics::counter!("turnout_graphql_errors_total", "operation" => operation, "code" => code)
                .increment(1);
        }
    }
}
