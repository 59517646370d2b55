//! The errors every domain service returns. The API maps each variant to a stable GraphQL
//! `extensions.code`; `Internal` carries its cause only for the log, never for the client.

use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// No credential, or one that is not valid (expired, revoked, unknown).
    #[error("authentication required: {0}")]
    Unauthenticated(String),
    /// The principal is known but lacks the role or scope for this action.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The object does not exist, or exists in another organization (indistinguishable).
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// A field of the input is not acceptable; `field` is its path in the input.
    #[error("{field}: {message}")]
    Validation { field: String, message: String },
    /// The change conflicts with the current state (a duplicate, a stale version).
    #[error("conflict: {0}")]
    Conflict(String),
    /// Too many requests; the client may retry after the given time.
    #[error("rate limited; retry after {} s", .retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    /// Anything else. The cause (with its own source chain) is for the log only.
    #[error("internal error: {0}")]
    Internal(#[source] InternalCause),
}

pub type DomainResult<T> = Result<T, DomainError>;

/// The cause of an internal error: any error (its source chain is kept) or a message.
pub type InternalCause = Box<dyn std::error::Error + Send + Sync + 'static>;

impl DomainError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An internal error caused by `cause`: an error (kept whole, with its source chain, for
    /// the log) or a message.
    pub fn internal(cause: impl Into<InternalCause>) -> Self {
        Self::Internal(cause.into())
    }

    pub fn not_found(what: &'static str) -> Self {
        Self::NotFound { what }
    }

    /// The stable code a client sees.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound { .. } => "NOT_FOUND",
            Self::Validation { .. } => "VALIDATION",
            Self::Conflict(_) => "CONFLICT",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

/// Database errors are internal: the SQL and the driver's words stay in the log.
impl From<sea_orm::DbErr> for DomainError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::Internal(Box::new(err))
    }
}
