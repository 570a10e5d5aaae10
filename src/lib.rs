//! clientele: a multi-tenant, organization-scoped Customers API.
//!
//! One flow for every request: middleware (credential, organization, scope)
//! -> handler (parse into `domain` types) -> `store` (scoped queries, one
//! transaction per write) -> response.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod domain;
pub mod error;
pub mod http;
pub mod imports;
pub mod limits;
pub mod startup;
pub mod store;
pub mod tasks;
pub mod telemetry;
pub mod webhooks;
