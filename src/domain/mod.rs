//! Validated values. Every type here is built by a `parse` constructor that
//! either returns a value that obeys the contract or says why not; code that
//! holds one of these never checks it again. Each rule's limits are named
//! constants here, and each type states its rule as JSON Schema beside its
//! parser: the OpenAPI document is built from those, never restated.

pub mod address;
pub mod audit;
pub mod change;
pub mod contact;
pub mod custom_fields;
pub mod customer;
pub mod event;
pub mod external_id;
pub mod idempotency;
pub mod ids;
pub mod import;
pub mod invalid;
pub mod listing;
pub mod locale;
pub mod metadata;
pub mod name;
pub mod people;
pub mod preconditions;
pub mod query;
pub mod refusal;
pub mod reports;
pub mod schema;
pub mod scopes;
pub mod shipping;
pub mod tenant;
pub mod text;
pub mod time;
pub mod token_request;
pub mod webhook;

pub use invalid::{InvalidField, InvalidFields};
