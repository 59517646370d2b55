use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use turnout_domain::signup::{self, RequestContext, SignUpInput as DomainSignUp, Utm};

use std::sync::Arc;

use turnout_domain::DomainError;

use super::context::db;
use crate::error::{GqlResult, to_gql};
use crate::rate_limit::RateLimiter;

/// Campaign attribution carried by the link the person came from.
#[derive(InputObject, Default)]
pub struct UtmInput {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub term: Option<String>,
    pub content: Option<String>,
}

/// What a person enters on a sign-up form. The form decides which fields are required; an
/// email or a phone is always needed.
#[derive(InputObject)]
pub struct SignUpInput {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// An email address; matched case-insensitively against people already known.
    pub email: Option<String>,
    /// A phone number, international (`+44…`) or US national (`(202) 555-0143`).
    pub phone: Option<String>,
    pub zip: Option<String>,
    pub address_line1: Option<String>,
    pub address_line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    /// A BCP 47 language tag such as `en` or `es-MX`.
    pub preferred_language: Option<String>,
    /// The person ticked the box agreeing to text messages.
    #[graphql(default)]
    pub sms_consent: bool,
    /// The person ticked the box agreeing to email.
    #[graphql(default)]
    pub email_consent: bool,
    /// The person ticked the box agreeing to WhatsApp messages.
    #[graphql(default)]
    pub whatsapp_consent: bool,
    /// The referral code from the link the person followed (`?ref=`).
    pub referral_code: Option<String>,
    pub utm: Option<UtmInput>,
}

/// The answer to a sign-up. It says nothing about whether the person was already known, so the
/// public form cannot be used to probe who is in the CRM.
#[derive(SimpleObject)]
pub struct SignUpPayload {
    /// The global ID of the stored submission.
    pub submission_id: ID,
    /// The person's own referral code, to share (`?ref=`).
    pub referral_code: String,
}

/// The client's address, for rate limits and the submission record (set by the HTTP layer).
#[derive(Clone, Debug, Default)]
pub struct ClientIp(pub Option<std::net::IpAddr>);

/// The public sign-up.
#[derive(Default)]
pub struct SignUpMutation;

#[Object]
impl SignUpMutation {
    /// Public: sign a person up through a form. Creates the person or updates the one with
    /// the same email (else phone); applies the form's tags and the consent given.
    async fn sign_up(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The form's slug.")] form: String,
        input: SignUpInput,
    ) -> async_graphql::Result<SignUpPayload> {
        let utm = input.utm.unwrap_or_default();
        let domain_input = DomainSignUp {
            first_name: input.first_name,
            last_name: input.last_name,
            email: input.email,
            phone: input.phone,
            zip: input.zip,
            address_line1: input.address_line1,
            address_line2: input.address_line2,
            city: input.city,
            region: input.region,
            preferred_language: input.preferred_language,
            sms_consent: input.sms_consent,
            email_consent: input.email_consent,
            whatsapp_consent: input.whatsapp_consent,
            referral_code: input.referral_code,
            utm: Utm {
                source: utm.source,
                medium: utm.medium,
                campaign: utm.campaign,
                term: utm.term,
                content: utm.content,
            },
        };
        let client_ip = ctx.data_opt::<ClientIp>().and_then(|ip| ip.0);
        if let Some(Err(wait)) = ctx
            .data_opt::<Arc<RateLimiter>>()
            .map(|l| l.check_signup(client_ip, &form))
        {
            return Err(to_gql(DomainError::RateLimited { retry_after: wait }));
        }
        let request = RequestContext {
            client_ip: client_ip.map(|ip| ip.to_string()),
        };
        let outcome = signup::sign_up(db(ctx), &form, &domain_input, &request)
            .await
            .gql()?;
        Ok(SignUpPayload {
            submission_id: ID(outcome.submission_id.to_string()),
            referral_code: outcome.person.referral_code,
        })
    }
}
