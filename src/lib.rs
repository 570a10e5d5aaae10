//! clientele: a multi-tenant, organization-scoped Customers API.
//!
//! One flow for every request: extractor (organization) -> handler (parse
//! into `domain` types) -> `store` (one scoped query) -> response.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod domain;
pub mod error;
pub mod startup;
pub mod store;
pub mod telemetry;
