//! The pages' words in the two languages Turnout ships. Each language is one value of
//! [`Texts`], so a text missing from one of them does not compile. Forms bring their own title
//! and consent wording; everything else a page says is here.

use axum::http::HeaderMap;
use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;
use turnout_domain::error::Reason;
use turnout_domain::forms::FieldKey;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    En,
    Es,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Es];

    /// Its place in [`Lang::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    pub fn texts(self) -> &'static Texts {
        match self {
            Lang::En => &EN,
            Lang::Es => &ES,
        }
    }

    pub(crate) fn from_tag(tag: &str) -> Option<Self> {
        let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "es" => Some(Lang::Es),
            _ => None,
        }
    }

    /// `?lang=` when it names a language we have, else the best of `Accept-Language` by its
    /// q-values, else English.
    #[cfg(test)]
    pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Self {
        Self::requested(query, headers).unwrap_or(Lang::En)
    }

    /// The language the visitor asked for: `?lang=` when it names one we have, else the best
    /// of `Accept-Language` by its q-values; `None` when neither names one.
    pub fn requested(query: Option<&str>, headers: &HeaderMap) -> Option<Self> {
        if let Some(lang) = query.and_then(Self::from_tag) {
            return Some(lang);
        }
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mut best: Option<(f32, Lang)> = None;
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let Some(lang) = parts.next().and_then(Self::from_tag) else {
                continue;
            };
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, lang)| lang)
    }

    /// The label of a person field on a form.
    pub fn field_label(self, key: FieldKey) -> &'static str {
        let t = self.texts();
        match key {
            FieldKey::FirstName => t.first_name,
            FieldKey::LastName => t.last_name,
            FieldKey::Email => t.email,
            FieldKey::Phone => t.phone,
            FieldKey::Zip => t.zip,
            FieldKey::AddressLine1 => t.address_line1,
            FieldKey::AddressLine2 => t.address_line2,
            FieldKey::City => t.city,
            FieldKey::Region => t.region,
            FieldKey::PreferredLanguage => t.preferred_language,
        }
    }

    /// What to say next to a refused field. `fallback` is the domain's own (English) message,
    /// used for rules that have no text of their own here.
    pub fn reason(self, reason: Reason, fallback: &str) -> String {
        let t = self.texts();
        match reason {
            Reason::Required => t.err_required.into(),
            Reason::TooLong => t.err_too_long.into(),
            Reason::InvalidCharacters => t.err_characters.into(),
            Reason::InvalidEmail => t.err_email.into(),
            Reason::InvalidPhone => t.err_phone.into(),
            Reason::Taken | Reason::Invalid => fallback.to_owned(),
        }
    }

    /// A day as a volunteer reads it, in `tz`: `Sat 5 Dec`.
    pub fn day(self, at: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
        self.local_day(&at.with_timezone(&tz))
    }

    fn local_day(self, d: &DateTime<chrono_tz::Tz>) -> String {
        let t = self.texts();
        format!(
            "{} {} {}",
            t.weekdays[d.weekday().num_days_from_monday() as usize],
            d.day(),
            t.months[d.month0() as usize]
        )
    }

    /// A shift's time as a volunteer reads it, in the event's time zone: `Sat 5 Dec, 10:00–12:00`
    /// (the end's date is written only when it differs).
    pub fn when(self, starts: DateTime<Utc>, ends: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
        let (s, e) = (starts.with_timezone(&tz), ends.with_timezone(&tz));
        let day = |d: &DateTime<chrono_tz::Tz>| self.local_day(d);
        let clock = |d: &DateTime<chrono_tz::Tz>| format!("{:02}:{:02}", d.hour(), d.minute());
        if s.date_naive() == e.date_naive() {
            format!("{}, {}–{} ({})", day(&s), clock(&s), clock(&e), tz.name())
        } else {
            format!(
                "{}, {} – {}, {} ({})",
                day(&s),
                clock(&s),
                day(&e),
                clock(&e),
                tz.name()
            )
        }
    }
}

/// Everything a page says, in one language.
#[derive(Debug, Serialize)]
pub struct Texts {
    pub language_name: &'static str,
    pub skip_to_content: &'static str,
    pub required: &'static str,
    pub first_name: &'static str,
    pub last_name: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub zip: &'static str,
    pub address_line1: &'static str,
    pub address_line2: &'static str,
    pub city: &'static str,
    pub region: &'static str,
    pub preferred_language: &'static str,
    pub phone_help: &'static str,
    pub consent_heading: &'static str,
    pub consent_email: &'static str,
    pub consent_sms: &'static str,
    pub consent_whatsapp: &'static str,
    pub honeypot: &'static str,
    pub sign_up: &'static str,
    pub errors_heading: &'static str,
    pub err_required: &'static str,
    pub err_too_long: &'static str,
    pub err_characters: &'static str,
    pub err_email: &'static str,
    pub err_phone: &'static str,
    pub thanks_title: &'static str,
    pub thanks_body: &'static str,
    pub share_heading: &'static str,
    pub share_body: &'static str,
    pub upcoming_events: &'static str,
    pub no_events: &'static str,
    pub all_events: &'static str,
    pub events_title: &'static str,
    pub filter_chapter: &'static str,
    pub any_chapter: &'static str,
    pub filter: &'static str,
    pub more_events: &'static str,
    pub where_: &'static str,
    pub online: &'static str,
    pub shifts: &'static str,
    pub seats_left: &'static str,
    pub unlimited_seats: &'static str,
    pub full_waitlist: &'static str,
    pub rsvp: &'static str,
    pub join_waitlist: &'static str,
    pub shift_cancelled: &'static str,
    pub event_cancelled: &'static str,
    pub rsvp_title: &'static str,
    pub unsubscribe_title: &'static str,
    pub unsubscribe_question: &'static str,
    pub unsubscribe_button: &'static str,
    pub unsubscribed: &'static str,
    pub already_unsubscribed: &'static str,
    pub status_signed_up: &'static str,
    pub status_confirmed: &'static str,
    pub status_waitlisted: &'static str,
    pub status_cancelled: &'static str,
    pub status_attended: &'static str,
    pub status_no_show: &'static str,
    pub waitlist_explained: &'static str,
    pub add_to_calendar: &'static str,
    pub confirm: &'static str,
    pub cancel_rsvp: &'static str,
    pub change_shift: &'static str,
    pub move_here: &'static str,
    pub rsvp_again: &'static str,
    pub host_title: &'static str,
    pub expected: &'static str,
    pub checked_in: &'static str,
    pub walk_ins: &'static str,
    pub search: &'static str,
    pub search_placeholder: &'static str,
    pub check_in: &'static str,
    pub undo: &'static str,
    pub walk_in_heading: &'static str,
    pub add_walk_in: &'static str,
    pub nobody_yet: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub expired_title: &'static str,
    pub expired_body: &'static str,
    pub suspended_title: &'static str,
    pub suspended_body: &'static str,
    pub invite_title: &'static str,
    /// `{org}`, `{email}` and `{role}` are filled in.
    pub invite_intro: &'static str,
    pub invite_name: &'static str,
    pub invite_new_password: &'static str,
    pub invite_password_help: &'static str,
    pub invite_current_password: &'static str,
    pub invite_existing_help: &'static str,
    pub invite_wrong_password: &'static str,
    pub invite_button: &'static str,
    pub invite_done_title: &'static str,
    /// `{org}` and `{email}` are filled in.
    pub invite_done_body: &'static str,
    pub reset_title: &'static str,
    pub reset_ask_intro: &'static str,
    pub reset_email: &'static str,
    pub reset_send_button: &'static str,
    pub reset_sent_title: &'static str,
    /// `{email}` is filled in.
    pub reset_sent_body: &'static str,
    /// `{email}` is filled in.
    pub reset_set_intro: &'static str,
    pub reset_set_button: &'static str,
    pub reset_done_title: &'static str,
    /// `{email}` is filled in.
    pub reset_done_body: &'static str,
    pub slow_down_title: &'static str,
    pub slow_down_body: &'static str,
    pub conflict_title: &'static str,
    pub error_title: &'static str,
    pub error_body: &'static str,
    pub back: &'static str,
    pub embed_heading: &'static str,
    pub weekdays: [&'static str; 7],
    pub months: [&'static str; 12],
}

pub static EN: Texts = Texts {
    language_name: "English",
    skip_to_content: "Skip to content",
    required: "required",
    first_name: "First name",
    last_name: "Last name",
    email: "Email",
    phone: "Mobile phone",
    zip: "ZIP or postal code",
    address_line1: "Address",
    address_line2: "Address line 2",
    city: "City",
    region: "State or region",
    preferred_language: "Preferred language",
    phone_help: "With the country code if outside the US, like +44 20 7946 0958.",
    consent_heading: "How may we contact you?",
    consent_email: "Email me",
    consent_sms: "Text me (SMS). Reply STOP to stop.",
    consent_whatsapp: "Message me on WhatsApp",
    honeypot: "Leave this field empty",
    sign_up: "Sign up",
    errors_heading: "Please check the fields marked below.",
    err_required: "This field is required.",
    err_too_long: "This is too long.",
    err_characters: "This holds characters we cannot accept.",
    err_email: "This does not look like an email address.",
    err_phone: "This does not look like a phone number.",
    thanks_title: "Thank you for signing up!",
    thanks_body: "You're in. We'll be in touch soon.",
    share_heading: "Bring a friend",
    share_body: "Share your own link; we'll know who you brought.",
    upcoming_events: "Upcoming events",
    no_events: "No upcoming events yet.",
    all_events: "All events",
    events_title: "Upcoming events",
    filter_chapter: "Chapter",
    any_chapter: "Any chapter",
    filter: "Filter",
    more_events: "More events",
    where_: "Where",
    online: "Online",
    shifts: "Shifts",
    seats_left: "Seats left",
    unlimited_seats: "Open to all",
    full_waitlist: "Full: you can join the waitlist",
    rsvp: "RSVP",
    join_waitlist: "Join the waitlist",
    shift_cancelled: "This shift is cancelled.",
    event_cancelled: "This event is cancelled.",
    rsvp_title: "Your RSVP",
    unsubscribe_title: "Unsubscribe",
    unsubscribe_question: "Stop emails from {org} to {address}?",
    unsubscribe_button: "Unsubscribe",
    unsubscribed: "Done: {org} will send no more emails to {address}.",
    already_unsubscribed: "{address} is already unsubscribed from {org}'s emails.",
    status_signed_up: "You're signed up.",
    status_confirmed: "You're confirmed. See you there!",
    status_waitlisted: "You're on the waitlist.",
    status_cancelled: "This RSVP is cancelled.",
    status_attended: "You were checked in. Thank you!",
    status_no_show: "We missed you at this shift.",
    waitlist_explained: "The shift is full. If a seat frees up, you get it and we'll tell you.",
    add_to_calendar: "Add to calendar",
    confirm: "I'm still coming",
    cancel_rsvp: "Cancel my RSVP",
    change_shift: "Change to another shift",
    move_here: "Move here",
    rsvp_again: "RSVP again",
    host_title: "Check-in",
    expected: "Expected",
    checked_in: "Checked in",
    walk_ins: "Walk-ins",
    search: "Search",
    search_placeholder: "Name",
    check_in: "Check in",
    undo: "Undo",
    walk_in_heading: "Add a walk-in",
    add_walk_in: "Add and check in",
    nobody_yet: "Nobody on the roster yet.",
    not_found_title: "Page not found",
    not_found_body: "This link is not (or no longer) valid.",
    invite_title: "Join the team",
    invite_intro: "{email} is invited to join {org} on Turnout as {role}.",
    invite_name: "Your name",
    invite_new_password: "Choose a password",
    invite_password_help: "At least 10 characters. A few unrelated words make a good one.",
    invite_current_password: "Your Turnout password",
    invite_existing_help: "You already have a Turnout account with this email: enter its password to add this organization to it.",
    invite_wrong_password: "That is not the password of this account.",
    invite_button: "Accept the invitation",
    invite_done_title: "You're in",
    invite_done_body: "{email} is now a member of {org}. Sign in with this email and your password.",
    reset_title: "Reset your password",
    reset_ask_intro: "Enter the email address of your Turnout account and we will email you a link to choose a new password.",
    reset_email: "Email",
    reset_send_button: "Email me a link",
    reset_sent_title: "Check your email",
    reset_sent_body: "If {email} has a Turnout account, a link to choose a new password is on its way. It works once, for an hour.",
    reset_set_intro: "Choose a new password for {email}. You will be signed out everywhere else.",
    reset_set_button: "Set the new password",
    reset_done_title: "Password changed",
    reset_done_body: "The password of {email} is changed. Sign in with it.",
    suspended_title: "These pages are paused",
    suspended_body: "This organization's pages are suspended for now, so sign-ups and RSVPs are closed. Please check back later.",
    expired_title: "Please try again",
    expired_body: "This form was open too long or came from elsewhere. Reload the page and send it again.",
    slow_down_title: "Too many sign-ups",
    slow_down_body: "Too many sign-ups came from your connection. Please wait a minute and try again.",
    conflict_title: "That didn't work",
    error_title: "Something went wrong",
    error_body: "Please try again in a moment.",
    back: "Back",
    embed_heading: "Embed this form",
    weekdays: ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    months: [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],
};

pub static ES: Texts = Texts {
    language_name: "Español",
    skip_to_content: "Ir al contenido",
    required: "obligatorio",
    first_name: "Nombre",
    last_name: "Apellido",
    email: "Correo electrónico",
    phone: "Teléfono móvil",
    zip: "Código postal",
    address_line1: "Dirección",
    address_line2: "Dirección (línea 2)",
    city: "Ciudad",
    region: "Estado o región",
    preferred_language: "Idioma preferido",
    phone_help: "Con el código de país si no es de EE. UU., como +52 55 1234 5678.",
    consent_heading: "¿Cómo podemos contactarte?",
    consent_email: "Escríbanme por correo",
    consent_sms: "Envíenme mensajes de texto (SMS). Responde STOP para dejar de recibirlos.",
    consent_whatsapp: "Escríbanme por WhatsApp",
    honeypot: "Deja este campo vacío",
    sign_up: "Inscribirme",
    errors_heading: "Revisa los campos marcados abajo.",
    err_required: "Este campo es obligatorio.",
    err_too_long: "Es demasiado largo.",
    err_characters: "Contiene caracteres que no podemos aceptar.",
    err_email: "No parece un correo electrónico.",
    err_phone: "No parece un número de teléfono.",
    thanks_title: "¡Gracias por inscribirte!",
    thanks_body: "Ya estás dentro. Pronto nos pondremos en contacto.",
    share_heading: "Trae a alguien",
    share_body: "Comparte tu propio enlace; sabremos a quién trajiste.",
    upcoming_events: "Próximos eventos",
    no_events: "Todavía no hay próximos eventos.",
    all_events: "Todos los eventos",
    events_title: "Próximos eventos",
    filter_chapter: "Sección",
    any_chapter: "Cualquier sección",
    filter: "Filtrar",
    more_events: "Más eventos",
    where_: "Dónde",
    online: "En línea",
    shifts: "Turnos",
    seats_left: "Plazas libres",
    unlimited_seats: "Abierto a todos",
    full_waitlist: "Completo: puedes apuntarte a la lista de espera",
    rsvp: "Confirmar asistencia",
    join_waitlist: "Apuntarme a la lista de espera",
    shift_cancelled: "Este turno está cancelado.",
    event_cancelled: "Este evento está cancelado.",
    rsvp_title: "Tu inscripción",
    unsubscribe_title: "Darse de baja",
    unsubscribe_question: "¿Dejar de recibir correos de {org} en {address}?",
    unsubscribe_button: "Darme de baja",
    unsubscribed: "Listo: {org} no enviará más correos a {address}.",
    already_unsubscribed: "{address} ya no recibe correos de {org}.",
    status_signed_up: "Estás inscrito.",
    status_confirmed: "Estás confirmado. ¡Nos vemos allí!",
    status_waitlisted: "Estás en la lista de espera.",
    status_cancelled: "Esta inscripción está cancelada.",
    status_attended: "Registramos tu llegada. ¡Gracias!",
    status_no_show: "Te echamos de menos en este turno.",
    waitlist_explained: "El turno está completo. Si se libera una plaza, es tuya y te avisaremos.",
    add_to_calendar: "Añadir al calendario",
    confirm: "Sigo yendo",
    cancel_rsvp: "Cancelar mi inscripción",
    change_shift: "Cambiar a otro turno",
    move_here: "Cambiar aquí",
    rsvp_again: "Inscribirme otra vez",
    host_title: "Registro de llegada",
    expected: "Esperados",
    checked_in: "Llegaron",
    walk_ins: "Sin inscripción",
    search: "Buscar",
    search_placeholder: "Nombre",
    check_in: "Registrar llegada",
    undo: "Deshacer",
    walk_in_heading: "Añadir a alguien sin inscripción",
    add_walk_in: "Añadir y registrar",
    nobody_yet: "Todavía no hay nadie en la lista.",
    not_found_title: "Página no encontrada",
    not_found_body: "Este enlace no es válido (o ya no lo es).",
    invite_title: "Únete al equipo",
    invite_intro: "Invitan a {email} a unirse a {org} en Turnout con el rol {role}.",
    invite_name: "Tu nombre",
    invite_new_password: "Elige una contraseña",
    invite_password_help: "Al menos 10 caracteres. Unas cuantas palabras sin relación hacen una buena.",
    invite_current_password: "Tu contraseña de Turnout",
    invite_existing_help: "Ya tienes una cuenta de Turnout con este correo: escribe su contraseña para añadirle esta organización.",
    invite_wrong_password: "Esa no es la contraseña de esta cuenta.",
    invite_button: "Aceptar la invitación",
    invite_done_title: "Ya estás dentro",
    invite_done_body: "{email} ya es parte de {org}. Inicia sesión con este correo y tu contraseña.",
    reset_title: "Restablece tu contraseña",
    reset_ask_intro: "Escribe el correo de tu cuenta de Turnout y te enviaremos un enlace para elegir una contraseña nueva.",
    reset_email: "Correo electrónico",
    reset_send_button: "Envíame un enlace",
    reset_sent_title: "Revisa tu correo",
    reset_sent_body: "Si {email} tiene una cuenta de Turnout, ya va en camino un enlace para elegir una contraseña nueva. Sirve una vez, durante una hora.",
    reset_set_intro: "Elige una contraseña nueva para {email}. Se cerrarán tus otras sesiones.",
    reset_set_button: "Guardar la contraseña nueva",
    reset_done_title: "Contraseña cambiada",
    reset_done_body: "La contraseña de {email} ya está cambiada. Inicia sesión con ella.",
    suspended_title: "Estas páginas están en pausa",
    suspended_body: "Las páginas de esta organización están suspendidas por ahora, así que las inscripciones y confirmaciones están cerradas. Vuelve a intentarlo más adelante.",
    expired_title: "Inténtalo de nuevo",
    expired_body: "El formulario estuvo abierto demasiado tiempo o vino de otro sitio. Recarga la página y envíalo otra vez.",
    slow_down_title: "Demasiadas inscripciones",
    slow_down_body: "Llegaron demasiadas inscripciones desde tu conexión. Espera un minuto e inténtalo de nuevo.",
    conflict_title: "No se pudo hacer",
    error_title: "Algo salió mal",
    error_body: "Inténtalo de nuevo en un momento.",
    back: "Volver",
    embed_heading: "Inserta este formulario",
    weekdays: ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"],
    months: [
        "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic",
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(axum::http::header::ACCEPT_LANGUAGE, v.parse().unwrap());
        h
    }

    #[test]
    fn the_query_wins_then_the_best_accepted_language() {
        assert_eq!(Lang::negotiate(Some("es"), &accept("en")), Lang::Es);
        assert_eq!(Lang::negotiate(Some("fr"), &accept("es-MX")), Lang::Es);
        assert_eq!(
            Lang::negotiate(None, &accept("fr;q=1, en;q=0.5, es;q=0.8")),
            Lang::Es
        );
        assert_eq!(Lang::negotiate(None, &accept("es;q=0, de")), Lang::En);
        assert_eq!(Lang::negotiate(None, &HeaderMap::new()), Lang::En);
    }

    #[test]
    fn a_shift_reads_in_its_own_time_zone_and_language() {
        let s = "2026-12-05T15:00:00Z".parse().unwrap();
        let e = "2026-12-05T17:30:00Z".parse().unwrap();
        let tz: chrono_tz::Tz = "America/New_York".parse().unwrap();
        assert_eq!(
            Lang::En.when(s, e, tz),
            "Sat 5 Dec, 10:00–12:30 (America/New_York)"
        );
        assert_eq!(
            Lang::Es.when(s, e, tz),
            "sáb 5 dic, 10:00–12:30 (America/New_York)"
        );
    }
}
