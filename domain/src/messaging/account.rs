//! The emails about a Turnout account, in the languages Turnout ships: the invitation to join
//! an organization, the password reset link, a member's task falling due and a point person's
//! daily digest. They are written here rather than as organization templates because they
//! go to members, not people, and some carry a credential (the invitation's link) that must
//! not be edited away.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// An account email: subject, body and the language it is in.
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
    let expires = local_time(expires_at, tz);
    let spanish = is_spanish(language);
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

/// The email with a password reset link.
pub(crate) fn password_reset(
    language: &str,
    link: &str,
    expires_at: DateTime<Utc>,
    tz: Tz,
) -> Email {
    let expires = local_time(expires_at, tz);
    let spanish = is_spanish(language);
    let (language, subject, body) = if spanish {
        (
            "es",
            "Cambia tu contraseña de Turnout".to_owned(),
            format!(
                "Hola:\n\nAlguien (quizá tú) pidió cambiar la contraseña de tu cuenta de \
                 Turnout. Para elegir una nueva, abre este enlace:\n{link}\n\n\
                 El enlace funciona una sola vez y vence el {expires}. Si no lo pediste, \
                 ignora este mensaje: tu contraseña no cambia.\n"
            ),
        )
    } else {
        (
            "en",
            "Reset your Turnout password".to_owned(),
            format!(
                "Hello,\n\nSomeone (maybe you) asked to reset the password of your Turnout \
                 account. To choose a new one, open this link:\n{link}\n\n\
                 The link works once and expires at {expires}. If you did not ask, ignore \
                 this email: your password stays as it is.\n"
            ),
        )
    };
    Email {
        template: "account.password_reset",
        language,
        subject,
        body,
    }
}

/// A task that fell due, as its reminder tells it.
pub(crate) struct DueTask<'a> {
    pub org_name: &'a str,
    pub assignee: &'a str,
    pub title: &'a str,
    pub description: Option<&'a str>,
    /// The name of the person it is about.
    pub about: Option<&'a str>,
    pub due_at: DateTime<Utc>,
}

/// The email reminding a member that a task assigned to them is due.
pub(crate) fn task_due(language: &str, task: DueTask<'_>, tz: Tz) -> Email {
    let due = local_time(task.due_at, tz);
    let DueTask {
        org_name,
        assignee,
        title,
        ..
    } = task;
    let details = task
        .description
        .map(|d| format!("\n\n{d}"))
        .unwrap_or_default();
    let spanish = is_spanish(language);
    let (language, subject, body) = if spanish {
        let about = task
            .about
            .map(|p| format!(" (sobre {p})"))
            .unwrap_or_default();
        (
            "es",
            format!("Tarea pendiente: {title}"),
            format!(
                "Hola {assignee}:\n\nTu tarea «{title}»{about} vence el {due}.{details}\n\n{org_name}\n"
            ),
        )
    } else {
        let about = task
            .about
            .map(|p| format!(" (about {p})"))
            .unwrap_or_default();
        (
            "en",
            format!("Task due: {title}"),
            format!(
                "Hi {assignee},\n\nYour task \"{title}\"{about} is due {due}.{details}\n\n{org_name}\n"
            ),
        )
    };
    Email {
        template: "account.task_due",
        language,
        subject,
        body,
    }
}

/// A point person's day, as their digest tells it.
pub(crate) struct Digest<'a> {
    pub org_name: &'a str,
    pub member: &'a str,
    /// Names of the people newly theirs.
    pub new_people: Vec<String>,
    /// Their open tasks (title, due time), overdue ones included.
    pub tasks: Vec<(String, DateTime<Utc>)>,
    /// (person, event title) for each of their people who missed a shift.
    pub no_shows: Vec<(String, String)>,
}

impl Digest<'_> {
    pub fn is_empty(&self) -> bool {
        self.new_people.is_empty() && self.tasks.is_empty() && self.no_shows.is_empty()
    }
}

/// The most lines a digest lists per section; the rest are counted.
const DIGEST_LINES: usize = 20;

/// A digest's wording in one language.
struct DigestWords {
    language: &'static str,
    subject: fn(&str) -> String,
    greeting: fn(&str) -> String,
    intro: &'static str,
    new_people: &'static str,
    tasks: &'static str,
    no_shows: &'static str,
    /// "Cy, at Saturday canvass".
    at: &'static str,
    /// "and 5 more".
    more: fn(usize) -> String,
}

const DIGEST_EN: DigestWords = DigestWords {
    language: "en",
    subject: |org| format!("Your {org} digest"),
    greeting: |member| format!("Hi {member},"),
    intro: "Here is what happened with your people since your last digest.",
    new_people: "New people assigned to you",
    tasks: "Your tasks due",
    no_shows: "No-shows",
    at: "at",
    more: |n| format!("and {n} more"),
};

const DIGEST_ES: DigestWords = DigestWords {
    language: "es",
    subject: |org| format!("Tu resumen de {org}"),
    greeting: |member| format!("Hola {member}:"),
    intro: "Esto es lo que pasó con tu gente desde tu último resumen.",
    new_people: "Personas nuevas asignadas a ti",
    tasks: "Tus tareas pendientes",
    no_shows: "No se presentaron",
    at: "en",
    more: |n| format!("y {n} más"),
};

/// The daily digest email of a point person.
pub(crate) fn digest(language: &str, d: Digest<'_>, tz: Tz) -> Email {
    let words = if is_spanish(language) {
        &DIGEST_ES
    } else {
        &DIGEST_EN
    };
    let section = |title: &str, lines: Vec<String>| {
        if lines.is_empty() {
            return String::new();
        }
        let total = lines.len();
        let mut out = format!("\n\n{title} ({total}):");
        for line in lines.iter().take(DIGEST_LINES) {
            out.push_str("\n- ");
            out.push_str(line);
        }
        if total > DIGEST_LINES {
            out.push_str("\n- ");
            out.push_str(&(words.more)(total - DIGEST_LINES));
        }
        out
    };
    let tasks = d
        .tasks
        .iter()
        .map(|(title, at)| format!("{title} ({})", local_time(*at, tz)))
        .collect();
    let no_shows = d
        .no_shows
        .iter()
        .map(|(person, event)| format!("{person}, {} {event}", words.at))
        .collect();
    let body = format!(
        "{}\n\n{}{}{}{}\n\n{}\n",
        (words.greeting)(d.member),
        words.intro,
        section(words.new_people, d.new_people),
        section(words.tasks, tasks),
        section(words.no_shows, no_shows),
        d.org_name
    );
    Email {
        template: "account.digest",
        language: words.language,
        subject: (words.subject)(d.org_name),
        body,
    }
}

/// When a link expires, in the zone the reader's organization keeps.
fn local_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// Turnout writes account emails in Spanish and English; any Spanish variant gets Spanish.
fn is_spanish(language: &str) -> bool {
    language.split('-').next() == Some("es")
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

    #[test]
    fn a_digest_lists_each_section_and_counts_what_it_leaves_out() {
        let at = DateTime::parse_from_rfc3339("2026-12-10T17:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let people: Vec<String> = (0..25).map(|i| format!("Person {i}")).collect();
        let tasks = vec![("Call Ana".to_owned(), at)];
        let d = Digest {
            org_name: "Local 7",
            member: "Oli",
            new_people: people,
            tasks,
            no_shows: Vec::new(),
        };
        assert!(!d.is_empty());
        let en = digest("en", d, Tz::UTC);
        assert_eq!(en.template, "account.digest");
        assert!(en.body.contains("New people assigned to you (25):"));
        assert!(en.body.contains("- Person 19\n- and 5 more"), "{}", en.body);
        assert!(!en.body.contains("Person 20"));
        assert!(en.body.contains("- Call Ana (2026-12-10 17:00 UTC)"));
        assert!(!en.body.contains("No-shows"), "empty sections are left out");
        let es = digest(
            "es-MX",
            Digest {
                org_name: "Local 7",
                member: "Oli",
                new_people: (0..21).map(|i| format!("P{i}")).collect(),
                tasks: Vec::new(),
                no_shows: vec![("Cy".into(), "Mitin".into())],
            },
            Tz::UTC,
        );
        assert_eq!(
            (es.language, es.subject.as_str()),
            ("es", "Tu resumen de Local 7")
        );
        assert!(es.body.starts_with("Hola Oli:"), "{}", es.body);
        assert!(es.body.contains("- y 1 más"), "{}", es.body);
        assert!(
            es.body.contains("No se presentaron (1):\n- Cy, en Mitin"),
            "{}",
            es.body
        );
    }
}
