//! The emails about a Turnout account, in the languages Turnout ships: the invitation to join
//! an organization. They are written here rather than as organization templates because they
//! carry a credential (the invitation's link) and must not be edited away.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// An invitation email: subject, body and the language it is in.
pub(crate) struct Email {
    pub template: &'static str,
    pub language: &'static str,
    pub subject: String,
    pub body: String,
}

/// The email inviting someone into `org_name` as `role`, with the link that accepts it.
/// Spanish for an organization whose language is Spanish, else English.
pub(crate) fn invitation(
    language: &str,
    org_name: &str,
    role: &str,
    link: &str,
    expires_at: DateTime<Utc>,
    tz: Tz,
) -> Email {
    let expires = expires_at
        .with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string();
    let spanish = language.split('-').next() == Some("es");
    let (language, subject, body) = if spanish {
        (
            "es",
            format!("Te invitan a {org_name} en Turnout"),
            format!(
                "Hola:\n\nTe invitan a unirte a {org_name} en Turnout (rol: {role}).\n\n\
                 Para aceptar, abre este enlace y elige tu contraseña:\n{link}\n\n\
                 El enlace funciona una sola vez y vence el {expires}. Si no esperabas esta \
                 invitación, ignora este mensaje.\n"
            ),
        )
    } else {
        (
            "en",
            format!("You're invited to {org_name} on Turnout"),
            format!(
                "Hello,\n\nYou're invited to join {org_name} on Turnout (role: {role}).\n\n\
                 To accept, open this link and choose your password:\n{link}\n\n\
                 The link works once and expires on {expires}. If you did not expect this \
                 invitation, ignore this email.\n"
            ),
        )
    };
    Email {
        template: "account.invitation",
        language,
        subject,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invitation_speaks_the_organizations_language_and_carries_its_link() {
        let at = DateTime::parse_from_rfc3339("2026-12-10T17:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let en = invitation(
            "en",
            "Local 7",
            "organizer",
            "https://x.org/invite/t",
            at,
            Tz::UTC,
        );
        assert_eq!(en.language, "en");
        assert!(en.subject.contains("Local 7"));
        assert!(en.body.contains("https://x.org/invite/t"));
        assert!(en.body.contains("2026-12-10 17:00 UTC"));
        let es = invitation(
            "es-MX",
            "Local 7",
            "organizer",
            "https://x.org/invite/t",
            at,
            Tz::UTC,
        );
        assert_eq!(es.language, "es");
        assert!(es.body.contains("Para aceptar"));
    }
}
