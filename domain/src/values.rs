//! Parsed values: once made, an `Email` or a `Phone` is known to be valid and normalized.

use std::str::FromStr;

use crate::error::{DomainError, DomainResult, Reason};

/// A normalized (trimmed, lowercased) email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> DomainResult<Self> {
        let trimmed = raw.trim();
        if trimmed.len() > 254 {
            return Err(DomainError::invalid(
                field,
                Reason::TooLong,
                "is longer than 254 characters",
            ));
        }
        let invalid =
            || DomainError::invalid(field, Reason::InvalidEmail, "is not a valid email address");
        let parsed = email_address::EmailAddress::from_str(trimmed).map_err(|_| invalid())?;
        // Domains without a dot (`a@localhost`) are legal but never a volunteer's address.
        if !parsed.domain().contains('.') {
            return Err(invalid());
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A phone number in E.164 form (`+15555550123`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses a number written in international form, or nationally for `default_region`
    /// (an ISO 3166 alpha-2 code such as `US`).
    pub fn parse(field: &str, raw: &str, default_region: &str) -> DomainResult<Self> {
        let invalid =
            || DomainError::invalid(field, Reason::InvalidPhone, "is not a valid phone number");
        let trimmed = raw.trim();
        if trimmed.len() > 32 {
            return Err(invalid());
        }
        let region = phonenumber::country::Id::from_str(default_region).ok();
        let number = phonenumber::parse(region, trimmed).map_err(|_| invalid())?;
        if !phonenumber::is_valid(&number) {
            return Err(invalid());
        }
        Ok(Self(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Trims `raw`; empty becomes `None`; longer than `max` characters is a validation error.
pub fn optional_text(field: &str, raw: Option<&str>, max: usize) -> DomainResult<Option<String>> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            Reason::TooLong,
            format!("is longer than {max} characters"),
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(DomainError::invalid(
            field,
            Reason::InvalidCharacters,
            "contains control characters",
        ));
    }
    Ok(Some(value.to_owned()))
}

/// Like [`optional_text`], but the value must be present.
pub fn required_text(field: &str, raw: Option<&str>, max: usize) -> DomainResult<String> {
    optional_text(field, raw, max)?
        .ok_or_else(|| DomainError::invalid(field, Reason::Required, "is required"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            Email::parse("e", "  Ada@Example.ORG ").unwrap().as_str(),
            "ada@example.org"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.org",
            "ada@localhost",
            "a b@example.org",
        ] {
            let err = Email::parse("input.email", bad).unwrap_err();
            assert!(
                matches!(err, DomainError::Validation(ref i) if i.first().field == "input.email")
            );
        }
    }

    #[test]
    fn phones_become_e164() {
        assert_eq!(
            Phone::parse("p", "(202) 555-0143", "US").unwrap().as_str(),
            "+12025550143"
        );
        assert_eq!(
            Phone::parse("p", "+44 20 7946 0958", "US")
                .unwrap()
                .as_str(),
            "+442079460958"
        );
        assert!(Phone::parse("p", "12345", "US").is_err());
        assert!(Phone::parse("p", "not a phone", "US").is_err());
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(
            optional_text("f", Some("  x "), 5).unwrap().as_deref(),
            Some("x")
        );
        assert_eq!(optional_text("f", Some("   "), 5).unwrap(), None);
        assert!(optional_text("f", Some("toolong"), 5).is_err());
        assert!(optional_text("f", Some("a\u{0}b"), 5).is_err());
        assert!(required_text("f", None, 5).is_err());
    }
}
