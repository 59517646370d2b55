//! Stand-ins for the outside world that run on loopback: an SMTP server and Twilio's API.

pub mod smtp;
pub mod twilio;
