//! Message delivery: [`Messenger::deliver`] sends one queued message through the channel's
//! provider, exactly once or not at all.
//!
//! The order of a delivery: load the message; a final state means there is nothing to do; a
//! message left in `sending` by a crashed attempt is marked failed and never resent; consent is
//! checked again (a STOP after queueing blocks it); quiet hours in the person's time zone defer
//! SMS and WhatsApp; then the message is claimed (`sending`, committed) before the provider is
//! called, and marked `sent` with the provider's id after. A transient provider error puts it
//! back to `queued` and returns `Err` for the job runner to retry; a permanent one marks it
//! failed.

mod config;
mod providers;

use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, Days, TimeZone, Utc};
use chrono_tz::Tz;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use turnout_domain::db::Db;
use turnout_domain::messaging::{
    Channel, broadcasts, consent_problem_for, delivery, status, whatsapp,
};
use uuid::Uuid;

pub use config::{EmailProvider, MessagingConfig, QuietHours, SmtpTls, TextProvider};
use providers::{Providers, SendError};

/// How long a message may stay `sending` before it counts as interrupted: well past the
/// providers' 30-second timeouts.
pub const SENDING_LEASE: chrono::Duration = chrono::Duration::minutes(2);
/// How often a message of a suspended organization looks again whether it was resumed.
const SUSPENDED_RECHECK: chrono::Duration = chrono::Duration::minutes(5);

/// What a delivery attempt did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// The provider accepted the message.
    Sent,
    /// Nothing to do: the message was already sent, failed, blocked, or taken by another
    /// worker, or a previous attempt was interrupted mid-send (then it is marked failed).
    AlreadyDone,
    /// Not now (quiet hours, `send_after` in the future, or another attempt is mid-send and
    /// its lease has not run out): run again at this time.
    Deferred(DateTime<Utc>),
    /// Not sent and never will be: no consent any more, or the provider refused it.
    Blocked(String),
    /// Handed to the provider, whose answer was lost: maybe sent, never resent (`unknown`).
    Unknown(String),
}

/// Sends messages. Cheap to clone; build one per process.
#[derive(Clone)]
pub struct Messenger {
    inner: Arc<Inner>,
    /// Where a broadcast email's unsubscribe link points (its `List-Unsubscribe` header).
    links: turnout_domain::links::PublicLinks,
}

struct Inner {
    providers: Providers,
    quiet_hours: Option<QuietHours>,
    default_tz: Tz,
    sms_opt_out_text: String,
    email_rate: Option<DefaultDirectRateLimiter>,
    sms_rate: Option<DefaultDirectRateLimiter>,
    whatsapp_rate: Option<DefaultDirectRateLimiter>,
}

fn limiter(per_second: u32) -> Option<DefaultDirectRateLimiter> {
    NonZeroU32::new(per_second).map(|n| RateLimiter::direct(Quota::per_second(n)))
}

impl Messenger {
    /// Checks `config` (time zone, quiet hours, provider settings) and builds the providers.
    pub fn new(config: &MessagingConfig) -> anyhow::Result<Self> {
        let default_tz: Tz = config.default_time_zone.parse().map_err(|_| {
            anyhow::anyhow!(
                "the default time zone `{}` is not an IANA time zone",
                config.default_time_zone
            )
        })?;
        Ok(Self {
            inner: Arc::new(Inner {
                providers: Providers::new(config)?,
                quiet_hours: QuietHours::parse(&config.quiet_hours)?,
                default_tz,
                sms_opt_out_text: config.sms_opt_out_text.trim().to_owned(),
                email_rate: limiter(config.email_per_second),
                sms_rate: limiter(config.sms_per_second),
                whatsapp_rate: limiter(config.whatsapp_per_second),
            }),
            links: Default::default(),
        })
    }

    /// The same messenger, with the links of the deployment (`TURNOUT_PUBLIC_BASE_URL`).
    pub fn with_links(mut self, links: turnout_domain::links::PublicLinks) -> Self {
        self.links = links;
        self
    }

    /// Delivers message `message_id` now.
    pub async fn deliver(&self, db: &Db, message_id: Uuid) -> anyhow::Result<Delivery> {
        self.deliver_at(db, message_id, Utc::now()).await
    }

    /// Delivers message `message_id` as if the time were `now` (quiet hours are judged by it).
    pub async fn deliver_at(
        &self,
        db: &Db,
        message_id: Uuid,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Delivery> {
        let Some(out) = delivery::load(db, message_id).await? else {
            tracing::warn!(%message_id, "message to deliver does not exist");
            return Ok(Delivery::AlreadyDone);
        };
        match out.message.status.as_str() {
            status::QUEUED => {}
            status::SENDING => {
                // Another worker may be talking to the provider right now (a duplicated job):
                // come back when its time is surely up.
                let lease_end = out.message.updated_at + SENDING_LEASE;
                if now < lease_end {
                    return Ok(Delivery::Deferred(lease_end));
                }
                delivery::fail_interrupted(db, message_id).await?;
                tracing::warn!(%message_id, "message found mid-send; marked failed, not resent");
                return Ok(Delivery::AlreadyDone);
            }
            status::BLOCKED => {
                return Ok(Delivery::Blocked(
                    out.message
                        .error
                        .clone()
                        .unwrap_or_else(|| "blocked".into()),
                ));
            }
            _ => return Ok(Delivery::AlreadyDone),
        }
        if out.org_suspended {
            // Held, not dropped: the operator may resume the organization. A wait, not a
            // failed attempt, looked at again every few minutes.
            return Ok(Delivery::Deferred(now + SUSPENDED_RECHECK));
        }
        let broadcast = out.message.broadcast_id;
        if let Some(reason) = (!out.account)
            .then(|| consent_problem_for(out.channel, out.person.as_ref(), broadcast.is_some()))
            .flatten()
        {
            delivery::block(db, message_id, &reason).await?;
            tracing::info!(%message_id, %reason, "message blocked at send time");
            count(out.channel, "blocked");
            return Ok(Delivery::Blocked(reason));
        }
        if let Some(after) = out.message.send_after.filter(|a| *a > now) {
            return Ok(Delivery::Deferred(after));
        }
        if let Some(id) = broadcast {
            match broadcasts::hold(db, id).await? {
                broadcasts::Hold::Send => {}
                // Held while its broadcast is paused; looked at again every few seconds (a
                // wait, not a failed attempt).
                broadcasts::Hold::Wait => {
                    return Ok(Delivery::Deferred(now + chrono::Duration::seconds(5)));
                }
                broadcasts::Hold::Drop => {
                    delivery::drop_cancelled(db, message_id).await?;
                    return Ok(Delivery::AlreadyDone);
                }
            }
        }
        if matches!(out.channel, Channel::Sms | Channel::Whatsapp) {
            // The person's zone, else their organization's, else the deployment's.
            let tz = out
                .person
                .as_ref()
                .and_then(|p| p.time_zone.as_deref())
                .and_then(|z| z.parse::<Tz>().ok())
                .or_else(|| out.org_time_zone.as_deref().and_then(|z| z.parse().ok()))
                .unwrap_or(self.inner.default_tz);
            if let Some(until) = self.inner.quiet_hours.and_then(|q| quiet_until(q, tz, now)) {
                delivery::defer(db, message_id, until).await?;
                tracing::info!(%message_id, %until, "quiet hours: message deferred");
                return Ok(Delivery::Deferred(until));
            }
        }

        // WhatsApp: free text inside the person's 24-hour window, else the approved template,
        // else nothing (WhatsApp would refuse it).
        let approved = if out.channel == Channel::Whatsapp && !out.account {
            match whatsapp::form(&out.message, out.person.as_ref(), now) {
                Ok(whatsapp::Form::Text) => None,
                Ok(whatsapp::Form::Template {
                    content_sid,
                    variables,
                }) => Some((content_sid.to_owned(), variables.to_owned())),
                Err(reason) => {
                    delivery::block(db, message_id, reason).await?;
                    tracing::info!(%message_id, %reason, "message blocked at send time");
                    count(out.channel, "blocked");
                    return Ok(Delivery::Blocked(reason.to_owned()));
                }
            }
        } else {
            None
        };

        let rate = match out.channel {
            Channel::Email => &self.inner.email_rate,
            Channel::Sms => &self.inner.sms_rate,
            Channel::Whatsapp => &self.inner.whatsapp_rate,
        };
        if let Some(rate) = rate {
            rate.until_ready().await;
        }
        // Consent again, in the claim itself: a STOP during the rate-limit wait wins.
        match delivery::claim(db, &out).await? {
            delivery::Claim::Claimed => {}
            delivery::Claim::Blocked(reason) => {
                tracing::info!(%message_id, %reason, "message blocked at its claim");
                count(out.channel, "blocked");
                return Ok(Delivery::Blocked(reason));
            }
            delivery::Claim::Taken => return Ok(Delivery::AlreadyDone),
        }
        let mut message = out.message;
        if out.channel == Channel::Sms {
            message.body = with_opt_out(&message.body, &self.inner.sms_opt_out_text);
        }
        let provider = self.inner.providers.name(out.channel);
        let unsubscribe = message
            .public_token
            .as_deref()
            .map(|token| self.links.unsubscribe(token));
        match self
            .inner
            .providers
            .send(
                out.channel,
                &message,
                &out.attachments,
                unsubscribe.as_deref(),
                out.from.as_deref(),
                approved
                    .as_ref()
                    .map(|(sid, vars)| (sid.as_str(), vars.as_str())),
            )
            .await
        {
            Ok(provider_id) => {
                // The provider has it: from here on the message must never be sent again, so
                // a failure to record it leaves it `sending` (a retry then marks it failed).
                delivery::mark_sent(db, message_id, provider, &provider_id, Utc::now()).await?;
                tracing::info!(%message_id, provider, %provider_id, "message sent");
                count(out.channel, "sent");
                Ok(Delivery::Sent)
            }
            Err(SendError::Transient(err)) => {
                delivery::requeue(db, message_id, &err).await?;
                tracing::warn!(%message_id, provider, %err, "message send failed; will retry");
                count(out.channel, "retried");
                Err(anyhow::anyhow!("{provider} send failed (transient): {err}"))
            }
            Err(SendError::Permanent(err)) => {
                delivery::fail(db, message_id, provider, &err).await?;
                tracing::warn!(%message_id, provider, %err, "message refused by the provider");
                count(out.channel, "failed");
                Ok(Delivery::Blocked(err))
            }
            Err(SendError::Unknown(err)) => {
                let error = format!("outcome unknown, not resent: {err}");
                delivery::mark_unknown(db, message_id, provider, &error).await?;
                tracing::warn!(%message_id, provider, %err, "message outcome unknown; not resent");
                count(out.channel, "unknown");
                Ok(Delivery::Unknown(error))
            }
        }
    }
}

/// Counts one send attempt's outcome in `turnout_messages_total`.
fn count(channel: Channel, status: &'static str) {
    metrics::counter!("turnout_messages_total", "channel" => channel.as_str(), "status" => status)
        .increment(1);
}

/// When quiet hours `q` in `tz` end, if `now` is inside them.
pub fn quiet_until(q: QuietHours, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let local = now.with_timezone(&tz);
    let t = local.time();
    let today = local.date_naive();
    let end_date = if q.start > q.end {
        if t >= q.start {
            today.checked_add_days(Days::new(1))?
        } else if t < q.end {
            today
        } else {
            return None;
        }
    } else if t >= q.start && t < q.end {
        today
    } else {
        return None;
    };
    let end = end_date.and_time(q.end);
    let at = tz
        .from_local_datetime(&end)
        .earliest()
        // The end falls in a daylight-saving gap: an hour later exists.
        .or_else(|| {
            tz.from_local_datetime(&(end + chrono::Duration::hours(1)))
                .earliest()
        })?;
    Some(at.with_timezone(&Utc))
}

/// `body` with the opt-out wording appended, unless it already says it.
pub fn with_opt_out(body: &str, opt_out: &str) -> String {
    let lower = body.to_lowercase();
    if opt_out.is_empty() || lower.contains(&opt_out.to_lowercase()) || lower.contains("reply stop")
    {
        return body.to_owned();
    }
    format!("{}\n{opt_out}", body.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn q() -> QuietHours {
        QuietHours::parse("21:00-09:00").unwrap().unwrap()
    }

    #[test]
    fn quiet_hours_wrap_past_midnight() {
        let ny: Tz = "America/New_York".parse().unwrap();
        // 23:00 in New York (EST, UTC-5) on 2026-12-01 → 09:00 on 2026-12-02.
        let late = Utc.with_ymd_and_hms(2026, 12, 2, 4, 0, 0).unwrap();
        assert_eq!(
            quiet_until(q(), ny, late),
            Some(Utc.with_ymd_and_hms(2026, 12, 2, 14, 0, 0).unwrap())
        );
        // 06:00 → 09:00 the same day.
        let early = Utc.with_ymd_and_hms(2026, 12, 2, 11, 0, 0).unwrap();
        assert_eq!(
            quiet_until(q(), ny, early),
            Some(Utc.with_ymd_and_hms(2026, 12, 2, 14, 0, 0).unwrap())
        );
        // Noon is not quiet.
        let noon = Utc.with_ymd_and_hms(2026, 12, 2, 17, 0, 0).unwrap();
        assert_eq!(quiet_until(q(), ny, noon), None);
        let day = QuietHours {
            start: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(13, 0, 0).unwrap(),
        };
        assert!(
            quiet_until(
                day,
                chrono_tz::UTC,
                Utc.with_ymd_and_hms(2026, 1, 1, 12, 30, 0).unwrap()
            )
            .is_some()
        );
        assert_eq!(QuietHours::parse("off").unwrap(), None);
        assert!(QuietHours::parse("9pm").is_err());
    }

    #[test]
    fn opt_out_wording_is_added_once() {
        assert_eq!(
            with_opt_out("Hi", "Reply STOP to opt out"),
            "Hi\nReply STOP to opt out"
        );
        assert_eq!(
            with_opt_out("Hi. reply stop to opt out", "Reply STOP to opt out"),
            "Hi. reply stop to opt out"
        );
    }
}
