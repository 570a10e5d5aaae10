//! Delivering events to webhook endpoints (contract section 9): the
//! signature, the HTTP client, and the dispatcher that runs as a background
//! task in every instance, sharing the work through the database.

mod client;
mod dispatcher;
pub mod signature;
mod stream;

pub use client::{Client, refuses_private_addresses};
pub use dispatcher::{Dispatcher, Settings};
