//! The one path from a domain error to what a client sees, for GraphQL, HTTP and WebSocket
//! alike: a stable `code`, a message that helps, and for internal errors nothing but "internal
//! error" (their cause, with its whole source chain, goes to the log).

use async_graphql::ErrorExtensions;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use turnout_domain::DomainError;
use turnout_domain::error::Reason;

/// What a client is told of a domain error. Built only by [`ClientError::from`], which logs
/// internal causes, so no edge can forget to.
#[derive(Debug)]
pub(crate) struct ClientError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
    /// The input path at fault (`VALIDATION`, and `CONFLICT` over a unique value): the first
    /// of `fields`.
    field: Option<String>,
    /// Every refused field, for a form to mark them all: path, reason code and message.
    fields: Vec<(String, &'static str, String)>,
    /// Seconds until a retry may succeed (`RATE_LIMITED`).
    retry_after: Option<u64>,
}

impl From<DomainError> for ClientError {
    fn from(err: DomainError) -> Self {
        let code = err.code();
        let mut fields = Vec::new();
        let (message, retry_after) = match &err {
            DomainError::Internal(cause) => {
                tracing::error!(cause = %source_chain(cause.as_ref()), "internal error");
                ("internal error; it has been logged".to_owned(), None)
            }
            DomainError::Validation(invalid) => {
                fields = invalid
                    .fields()
                    .iter()
                    .map(|e| (e.field.clone(), e.reason.as_str(), e.message.clone()))
                    .collect();
                (err.to_string(), None)
            }
            DomainError::Taken { field, message } => {
                fields.push((field.clone(), Reason::Taken.as_str(), message.clone()));
                (err.to_string(), None)
            }
            DomainError::RateLimited { retry_after } => (
                err.to_string(),
                Some(crate::rate_limit::retry_after_secs(*retry_after).max(1)),
            ),
            _ => (err.to_string(), None),
        };
        Self {
            code,
            message,
            field: fields.first().map(|(field, ..)| field.clone()),
            fields,
            retry_after,
        }
    }
}

impl ClientError {
    /// Seconds until a retry may succeed (`RATE_LIMITED`).
    pub(crate) fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// The HTTP status of a request that failed with this error before any GraphQL ran.
    pub(crate) fn status(&self) -> StatusCode {
        match self.code {
            "UNAUTHENTICATED" => StatusCode::UNAUTHORIZED,
            "FORBIDDEN" | "SUSPENDED" => StatusCode::FORBIDDEN,
            "NOT_FOUND" => StatusCode::NOT_FOUND,
            "VALIDATION" => StatusCode::BAD_REQUEST,
            "CONFLICT" => StatusCode::CONFLICT,
            "RATE_LIMITED" => StatusCode::TOO_MANY_REQUESTS,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub(crate) fn into_gql(self) -> async_graphql::Error {
        let Self {
            code,
            message,
            field,
            fields,
            retry_after,
        } = self;
        async_graphql::Error::new(message).extend_with(|_, e| {
            e.set("code", code);
            if let Some(field) = &field {
                e.set("field", field.as_str());
            }
            if !fields.is_empty() {
                e.set("fields", fields_value(&fields));
            }
            if let Some(secs) = retry_after {
                e.set("retryAfter", secs);
            }
        })
    }
}

/// A GraphQL-shaped HTTP response (`{"errors": [...]}`) with the error's status, for the
/// routes that fail before (or outside) GraphQL: authentication, the CSV export.
impl IntoResponse for ClientError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut extensions = json!({ "code": self.code });
        if let Some(field) = &self.field {
            extensions["field"] = json!(field);
        }
        if !self.fields.is_empty() {
            extensions["fields"] = json!(
                self.fields
                    .iter()
                    .map(|(field, code, message)| json!({ "field": field, "code": code, "message": message }))
                    .collect::<Vec<_>>()
            );
        }
        if let Some(secs) = self.retry_after {
            extensions["retryAfter"] = json!(secs);
        }
        let body = json!({ "errors": [{ "message": self.message, "extensions": extensions }] });
        let mut resp = (status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        resp
    }
}

/// `[{field, code, message}]`, as GraphQL extension values.
fn fields_value(fields: &[(String, &'static str, String)]) -> async_graphql::Value {
    async_graphql::Value::List(
        fields
            .iter()
            .map(|(field, code, message)| {
                let mut entry = async_graphql::indexmap::IndexMap::new();
                entry.insert(
                    async_graphql::Name::new("field"),
                    async_graphql::Value::from(field.as_str()),
                );
                entry.insert(
                    async_graphql::Name::new("code"),
                    async_graphql::Value::from(*code),
                );
                entry.insert(
                    async_graphql::Name::new("message"),
                    async_graphql::Value::from(message.as_str()),
                );
                async_graphql::Value::Object(entry)
            })
            .collect(),
    )
}

/// `err: cause: its cause …`, for the log.
fn source_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Gives every error a `code`: the errors async-graphql raises itself (validation, the depth
/// and complexity limits, input coercion) carry none. The codes are Apollo Server's where it
/// has one, so client libraries that branch on them work unchanged (README, "Error codes").
pub(crate) fn ensure_codes(errors: &mut [async_graphql::ServerError]) {
    for err in errors {
        let ext = err.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_some() {
            continue;
        }
        ext.set("code", engine_code(&err.message));
        // async-graphql says "Variable n is not defined." of a declared variable that was given
        // no value, which reads as a typo in the query.
        if let Some(name) = err
            .message
            .strip_prefix("Variable ")
            .and_then(|rest| rest.strip_suffix(" is not defined."))
        {
            err.message = format!("variable `${name}` is required but no value was given for it");
        }
    }
}

/// The code of an error async-graphql raised before (or instead of) running a resolver.
fn engine_code(message: &str) -> &'static str {
    if message.starts_with("Query is nested too deep") {
        "QUERY_TOO_DEEP"
    } else if message.starts_with("Query is too complex") {
        "QUERY_TOO_COMPLEX"
    } else if message.starts_with("Invalid value for argument")
        || message.starts_with("Failed to parse")
        || (message.starts_with("Variable ") && message.ends_with(" is not defined."))
        || message.starts_with("Invalid value for variable")
    {
        "BAD_USER_INPUT"
    } else if message.starts_with("Unknown operation named")
        || message.starts_with("Operation name required")
    {
        "OPERATION_RESOLUTION_FAILURE"
    } else {
        "GRAPHQL_VALIDATION_FAILED"
    }
}

/// Converts a domain error into the error a GraphQL client sees.
pub fn to_gql(err: DomainError) -> async_graphql::Error {
    ClientError::from(err).into_gql()
}

/// A validation error raised by the API layer itself (a malformed ID or cursor).
pub fn invalid(field: &str, message: &str) -> async_graphql::Error {
    to_gql(DomainError::validation(field, message))
}

/// `?`-friendly conversion of domain results.
pub trait GqlResult<T> {
    fn gql(self) -> async_graphql::Result<T>;
}

impl<T> GqlResult<T> for Result<T, DomainError> {
    fn gql(self) -> async_graphql::Result<T> {
        self.map_err(to_gql)
    }
}
