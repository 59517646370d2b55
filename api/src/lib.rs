//! The API: an axum router serving the GraphQL schema. Resolvers are thin: authenticate, call
//! one domain service, convert, map the error.

pub mod error;
mod export;
pub mod graphql;
mod http;
pub mod ids;
pub mod inbound;
pub mod jwt;
pub mod live;
mod pages;
mod plugin_upload;
pub mod rate_limit;

pub use graphql::{QueryLimits, sdl};
pub use http::{
    ApiConfig, CorsOrigins, PersistedQueryConfig, TrustedProxies, health_router, router,
};
pub use inbound::{TwilioWebhookConfig, twilio_signature};
pub use jwt::{Environment, JwtConfig};
pub use pages::PagesConfig;
pub use rate_limit::RateLimitConfig;
