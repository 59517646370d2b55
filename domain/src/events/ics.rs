//! Calendar invites (RFC 5545): one VEVENT per RSVP, so a volunteer's calendar holds exactly
//! the shift they signed up for. Times are written in UTC (`…Z`), which every client reads;
//! the event's IANA zone travels in the description for humans. A pure function: no I/O.

use chrono::{DateTime, Utc};

/// What an invite says.
#[derive(Clone, Debug)]
pub struct Invite<'a> {
    /// Stable per RSVP: the same invite updated, never a second one.
    pub uid: &'a str,
    /// The shift's sequence: bumped when its times change, so calendars take the update.
    pub sequence: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// When this rendering was made (DTSTAMP).
    pub stamp: DateTime<Utc>,
    pub title: &'a str,
    pub description: Option<&'a str>,
    pub location: Option<&'a str>,
    pub url: Option<&'a str>,
    pub time_zone: &'a str,
    /// True when the RSVP, its shift or its event is cancelled: METHOD:CANCEL.
    pub cancelled: bool,
    /// The organization's name (the invite's ORGANIZER).
    pub organizer_name: &'a str,
    /// The person invited, when they have an email address (ATTENDEE).
    pub attendee: Option<Attendee<'a>>,
}

/// The person an invite is for.
#[derive(Clone, Copy, Debug)]
pub struct Attendee<'a> {
    pub name: Option<&'a str>,
    pub email: &'a str,
}

/// iTIP wants an ORGANIZER address; Turnout sends no mail yet, so it names one that can never
/// receive any (RFC 2606 `.invalid`).
/// TODO(organizations): a reply-to address setting of the organization.
const ORGANIZER_ADDRESS: &str = "mailto:no-reply@turnout.invalid";

/// Renders a complete VCALENDAR with CRLF line ends, escaped text and lines folded at 75
/// octets.
pub fn render(invite: &Invite<'_>) -> String {
    let mut lines: Vec<String> = vec![
        "BEGIN:VCALENDAR".into(),
        "VERSION:2.0".into(),
        "PRODID:-//Turnout//Turnout CRM//EN".into(),
        "CALSCALE:GREGORIAN".into(),
        format!(
            "METHOD:{}",
            if invite.cancelled {
                "CANCEL"
            } else {
                "REQUEST"
            }
        ),
        "BEGIN:VEVENT".into(),
        format!("UID:{}", escape(invite.uid)),
        format!("DTSTAMP:{}", utc(invite.stamp)),
        format!("DTSTART:{}", utc(invite.starts_at)),
        format!("DTEND:{}", utc(invite.ends_at)),
        format!("SEQUENCE:{}", invite.sequence.max(0)),
        format!("SUMMARY:{}", escape(invite.title)),
        format!(
            "ORGANIZER;CN={}:{ORGANIZER_ADDRESS}",
            param(invite.organizer_name)
        ),
    ];
    if let Some(attendee) = invite.attendee {
        let cn = attendee
            .name
            .map(|n| format!(";CN={}", param(n)))
            .unwrap_or_default();
        let partstat = if invite.cancelled {
            "DECLINED"
        } else {
            "ACCEPTED"
        };
        lines.push(format!(
            "ATTENDEE{cn};ROLE=REQ-PARTICIPANT;PARTSTAT={partstat}:mailto:{}",
            attendee.email.replace(['\r', '\n'], "")
        ));
    }
    let mut description = invite.description.unwrap_or_default().to_owned();
    if !description.is_empty() {
        description.push_str("\n\n");
    }
    description.push_str(&format!("Time zone: {}", invite.time_zone));
    lines.push(format!("DESCRIPTION:{}", escape(&description)));
    if let Some(location) = invite.location.or(invite.url) {
        lines.push(format!("LOCATION:{}", escape(location)));
    }
    if let Some(url) = invite.url {
        // URL is a URI value, not TEXT: no escaping, but it must be one line.
        lines.push(format!("URL:{}", url.replace(['\r', '\n'], "")));
    }
    lines.push(format!(
        "STATUS:{}",
        if invite.cancelled {
            "CANCELLED"
        } else {
            "CONFIRMED"
        }
    ));
    lines.push("TRANSP:OPAQUE".into());
    lines.push("END:VEVENT".into());
    lines.push("END:VCALENDAR".into());
    let mut out = String::new();
    for line in lines {
        out.push_str(&fold(&line));
        out.push_str("\r\n");
    }
    out
}

/// A parameter value (RFC 5545 §3.2): always quoted, without the characters a quoted value
/// cannot hold (DQUOTE and controls).
fn param(value: &str) -> String {
    let clean: String = value
        .chars()
        .filter(|c| *c != '"' && !c.is_control())
        .collect();
    format!("\"{clean}\"")
}

fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds a content line so no physical line exceeds 75 octets (RFC 5545 §3.1): a CRLF and a
/// space before the 76th octet, never splitting a UTF-8 character.
pub fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 74 * 3);
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            // The leading space counts toward the continuation line's 75 octets.
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn invite<'a>(title: &'a str, cancelled: bool) -> Invite<'a> {
        Invite {
            uid: "rsvp-0193@turnout",
            sequence: 2,
            starts_at: Utc.with_ymd_and_hms(2026, 12, 5, 15, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2026, 12, 5, 18, 30, 0).unwrap(),
            stamp: Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap(),
            title,
            description: Some("Bring water; wear shoes, please.\nSee you there"),
            location: Some("Union Hall, 12 Main St"),
            url: None,
            time_zone: "America/New_York",
            cancelled,
            organizer_name: "Local 12, \"United\"",
            attendee: Some(Attendee {
                name: Some("Ada Lovelace"),
                email: "ada@example.org",
            }),
        }
    }

    #[test]
    fn a_request_has_every_required_property_and_crlf() {
        let ics = render(&invite("Canvass", false));
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
        assert!(
            !ics.replace("\r\n", "").contains('\n'),
            "only CRLF line ends"
        );
        for needle in [
            "\r\nPRODID:",
            "\r\nMETHOD:REQUEST\r\n",
            "\r\nUID:rsvp-0193@turnout\r\n",
            "\r\nDTSTAMP:20261126T120000Z\r\n",
            "\r\nDTSTART:20261205T150000Z\r\n",
            "\r\nDTEND:20261205T183000Z\r\n",
            "\r\nSEQUENCE:2\r\n",
            "\r\nSUMMARY:Canvass\r\n",
            "\r\nLOCATION:Union Hall\\, 12 Main St\r\n",
            "\r\nSTATUS:CONFIRMED\r\n",
            "\r\nORGANIZER;CN=\"Local 12, United\":mailto:no-reply@turnout.invalid\r\n",
        ] {
            assert!(ics.contains(needle), "{needle:?} missing from {ics}");
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(
            "DESCRIPTION:Bring water\\; wear shoes\\, please.\\nSee you there\\n\\nTime zone: America/New_York\r\n"
        ));
    }

    #[test]
    fn a_cancellation_says_so() {
        let ics = render(&invite("Canvass", true));
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(
            "\r\nATTENDEE;CN=\"Ada Lovelace\";ROLE=REQ-PARTICIPANT;PARTSTAT=DECLINED:mailto:ada@example.org\r\n"
        ));
        assert!(ics.contains("\r\nMETHOD:CANCEL\r\n"));
        assert!(ics.contains("\r\nSTATUS:CANCELLED\r\n"));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let title = "Phone bank ".repeat(10) + "é".repeat(40).as_str();
        let ics = render(&invite(&title, false));
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        }
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("SUMMARY:{title}\r\n")));
        assert_eq!(fold("short"), "short");
        let folded = fold(&"x".repeat(150));
        assert_eq!(
            folded,
            format!("{}\r\n {}\r\n {}", "x".repeat(75), "x".repeat(74), "x")
        );
    }
}
