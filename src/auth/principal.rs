//! The caller a credential proves, and the tenant it confines a request to.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};

use super::tokens;
use crate::domain::customer::FieldSet;
use crate::domain::ids::{CustomerId, KeyId, OrganizationId};
use crate::domain::scopes::{Scope, Scopes};
use crate::error::ApiError;

/// How a request proved itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    ApiKey,
    /// A token; bound ones may only read and update that one customer, and
    /// change only `fields` of it.
    Token {
        customer_id: Option<CustomerId>,
        fields: FieldSet,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone, Copy)]
pub struct Principal {
    pub organization_id: OrganizationId,
    /// The API key, or the key that minted the token.
    pub key_id: KeyId,
    /// What tokens minted by that key name it by; `None` for a key stored
    /// without one (by an older version), which cannot mint tokens.
    pub key_ref: Option<tokens::KeyRef>,
    pub scopes: Scopes,
    pub credential: Credential,
    /// The key's mode: test-mode keys and their tokens see test data only.
    pub livemode: bool,
}

impl Principal {
    pub fn tenant(&self) -> Tenant {
        Tenant {
            organization_id: self.organization_id,
            livemode: self.livemode,
        }
    }

    /// `Ok` when the credential carries `scope`; else the 403 naming it.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        match self.scopes.contains(scope) {
            true => Ok(()),
            false => Err(ApiError::Forbidden(scope.lacking())),
        }
    }

    /// The fields of a customer this caller may change.
    pub fn writable(&self) -> FieldSet {
        match self.credential {
            Credential::Token { fields, .. } => fields,
            Credential::ApiKey => FieldSet::all(),
        }
    }
}

/// The organization and mode a request is confined to, as proven by its
/// credential.
pub use crate::domain::tenant::Tenant;

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        // Only routes behind `authenticate` have one; anything else is a
        // wiring bug.
        ready(
            req.extensions()
                .get::<Principal>()
                .copied()
                .ok_or_else(|| ApiError::Internal("a route without authentication".into())),
        )
    }
}

impl FromRequest for Tenant {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let principal = Principal::from_request(req, payload).into_inner();
        ready(principal.map(|p| p.tenant()))
    }
}
