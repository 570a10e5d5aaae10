//! The caller a credential proves, and the tenant it confines a request to.

use std::future::{Ready, ready};

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload};

use std::sync::Arc;

use uuid::Uuid;

use super::tokens;
use crate::domain::audit::Actor;
use crate::domain::customer::FieldSet;
use crate::domain::ids::{CustomerId, KeyId, OrganizationId, UserId};
use crate::domain::people::Role;
use crate::domain::scopes::{Scope, Scopes};
use crate::error::ApiError;

/// How a request proved itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    ApiKey {
        key_id: KeyId,
        /// What tokens minted by the key name it by; `None` for a key
        /// stored without one (by an older version), which cannot mint.
        key_ref: Option<tokens::KeyRef>,
    },
    /// A token, minted by `key_id`; bound ones may only read and update
    /// that one customer, and change only `fields` of it.
    Token {
        key_id: KeyId,
        customer_id: Option<CustomerId>,
        fields: FieldSet,
    },
    /// A person signed in to the console, with the session they use.
    Person {
        user_id: UserId,
        email: Arc<str>,
        role: Role,
        /// The session's id (the SHA-256 of its cookie).
        session: Arc<str>,
    },
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub organization_id: OrganizationId,
    pub scopes: Scopes,
    pub credential: Credential,
    /// The credential's mode: test-mode keys, their tokens and a console
    /// switched to test mode see test data only.
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
            Credential::ApiKey { .. } | Credential::Person { .. } => FieldSet::all(),
        }
    }

    /// The API key, or the key that minted the token; none for a person.
    pub fn key_id(&self) -> Option<KeyId> {
        match self.credential {
            Credential::ApiKey { key_id, .. } | Credential::Token { key_id, .. } => Some(key_id),
            Credential::Person { .. } => None,
        }
    }

    /// Whose requests share a rate limit: a key with every token it
    /// minted, or a person.
    pub fn bucket(&self) -> Uuid {
        match &self.credential {
            Credential::ApiKey { key_id, .. } | Credential::Token { key_id, .. } => key_id.uuid(),
            Credential::Person { user_id, .. } => user_id.uuid(),
        }
    }

    /// Whether the caller may only read: a platform operator.
    pub fn read_only(&self) -> bool {
        matches!(&self.credential, Credential::Person { role, .. } if role.read_only())
    }

    /// Who acts, as the audit log names them.
    pub fn actor(&self) -> Actor {
        match &self.credential {
            Credential::ApiKey { key_id, .. } => Actor::ApiKey(*key_id),
            Credential::Token { key_id, .. } => Actor::Token(*key_id),
            Credential::Person {
                user_id,
                email,
                role: Role::Operator,
                ..
            } => Actor::Operator {
                id: *user_id,
                email: email.to_string(),
            },
            Credential::Person { user_id, email, .. } => Actor::Member {
                id: *user_id,
                email: email.to_string(),
            },
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
                .cloned()
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
