//! Domain errors become GraphQL errors with a stable `extensions.code`. Internal causes are
//! logged here and replaced by a generic message: no SQL, no stack trace reaches a client.

use async_graphql::ErrorExtensions;
use turnout_domain::DomainError;

/// Converts a domain error into the error a client sees.
pub fn to_gql(err: DomainError) -> async_graphql::Error {
    let code = err.code();
    if let DomainError::Internal(cause) = &err {
        tracing::error!(%cause, "internal error");
        return async_graphql::Error::new("internal error; it has been logged")
            .extend_with(|_, e| e.set("code", code));
    }
    async_graphql::Error::new(err.to_string()).extend_with(|_, e| {
        e.set("code", code);
        match &err {
            DomainError::Validation { field, .. } => e.set("field", field.as_str()),
            DomainError::RateLimited { retry_after } => e.set(
                "retryAfter",
                crate::rate_limit::retry_after_secs(*retry_after),
            ),
            _ => {}
        }
    })
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
