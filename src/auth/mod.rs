//! Who a request acts for. A request under an organization's path passes two
//! middlewares ([`middleware`]) that authenticate its credential and
//! authorize the method on the resource before any handler or body
//! extractor runs; the handler then learns its organization from
//! [`Tenant`], never from the request body.

mod authenticator;
pub mod keys;
pub mod middleware;
pub mod people;
mod principal;
pub mod sign_in;
pub mod tokens;

pub use authenticator::{Authenticator, MAX_FAILURES_PER_MINUTE};
pub use principal::{Credential, Principal, Tenant};
