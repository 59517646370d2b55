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
    /// Fields of the input are not acceptable: every one found, at once, so a form can mark
    /// them all.
    #[error("{0}")]
    Validation(Invalid),
    /// The change conflicts with the current state (a stale version, a full shift).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A value that must be unique is already used (an email, a slug); `field` is its path.
    #[error("conflict: {field}: {message}")]
    Taken { field: String, message: String },
    /// The organization is suspended by the deployment's operator: its credentials and public
    /// pages do not work until it is resumed.
    #[error("{0}")]
    Suspended(String),
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

/// Why a field was refused: a stable, machine-readable reason a form can translate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Missing, and required.
    Required,
    /// Longer than allowed.
    TooLong,
    /// Holds control characters (or a NUL).
    InvalidCharacters,
    InvalidEmail,
    InvalidPhone,
    /// Already used by another record (uniqueness).
    Taken,
    /// Any other rule; the message says which.
    Invalid,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Required => "REQUIRED",
            Reason::TooLong => "TOO_LONG",
            Reason::InvalidCharacters => "INVALID_CHARACTERS",
            Reason::InvalidEmail => "INVALID_EMAIL",
            Reason::InvalidPhone => "INVALID_PHONE",
            Reason::Taken => "TAKEN",
            Reason::Invalid => "INVALID",
        }
    }
}

/// One refused field: its path in the input (`input.email`), why, and a message for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub reason: Reason,
    pub message: String,
}

/// The refused fields of one input, in the order they were checked; never empty.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(Vec<FieldError>);

impl Invalid {
    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }

    /// The first refused field.
    pub fn first(&self) -> &FieldError {
        // Never empty: built only from one error or a non-empty list.
        &self.0[0]
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

/// Collects the refused fields of an input, so every one is reported at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of one check, or `None` with its refused fields recorded. Any error other than
    /// a validation error is returned as is.
    pub fn take<T>(&mut self, result: DomainResult<T>) -> DomainResult<Option<T>> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(DomainError::Validation(invalid)) => {
                self.0.extend(invalid.0);
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }

    pub fn add(&mut self, field: &str, reason: Reason, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            reason,
            message: message.into(),
        });
    }

    /// True when `field` was already refused (so a rule about it does not pile on).
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }

    /// `Ok` when nothing was refused; otherwise every refused field as one error.
    pub fn finish(self) -> DomainResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(Invalid(self.0)))
        }
    }
}

impl DomainError {
    /// One field refused by a rule the message describes.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid(field, Reason::Invalid, message)
    }

    /// One field refused for `reason`.
    pub fn invalid(field: impl Into<String>, reason: Reason, message: impl Into<String>) -> Self {
        Self::Validation(Invalid(vec![FieldError {
            field: field.into(),
            reason,
            message: message.into(),
        }]))
    }

    /// A unique value of `field` already in use.
    pub fn taken(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Taken {
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
            Self::Validation(_) => "VALIDATION",
            Self::Conflict(_) | Self::Taken { .. } => "CONFLICT",
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::Suspended(_) => "SUSPENDED",
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
