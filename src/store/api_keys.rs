//! API keys. Only an argon2id hash of each secret is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::api_keys;
use super::{DbConnection, StoreError, now};
use crate::domain::ids::{KeyId, OrganizationId};

/// No `Debug`: the secret's hash must not reach a log line either.
#[derive(Clone, Queryable)]
pub struct ApiKey {
    pub organization_id: String,
    pub id: String,
    pub name: Option<String>,
    /// Space-separated scope names.
    pub scopes: String,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub struct NewApiKey<'a> {
    pub id: KeyId,
    pub name: Option<&'a str>,
    pub scopes: String,
    pub secret_hash: String,
}

pub fn insert(
    conn: &mut DbConnection,
    org: &OrganizationId,
    key: NewApiKey<'_>,
) -> Result<(), StoreError> {
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::organization_id.eq(org.to_string()),
            api_keys::id.eq(key.id.to_string()),
            api_keys::name.eq(key.name),
            api_keys::scopes.eq(key.scopes),
            api_keys::secret_hash.eq(key.secret_hash),
            api_keys::created_at.eq(now()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The one lookup not scoped by organization: a presented key names only
/// its id, and the key is what proves the organization.
pub fn find_for_authentication(
    conn: &mut DbConnection,
    id: &KeyId,
) -> Result<Option<ApiKey>, StoreError> {
    Ok(api_keys::table
        .filter(api_keys::id.eq(id.to_string()))
        .first(conn)
        .optional()?)
}

pub fn list(conn: &mut DbConnection, org: &OrganizationId) -> Result<Vec<ApiKey>, StoreError> {
    Ok(api_keys::table
        .filter(api_keys::organization_id.eq(org.to_string()))
        .order((api_keys::created_at.asc(), api_keys::id.asc()))
        .load(conn)?)
}

/// Revokes a key, keeping the first revocation time; `false` when there is
/// no such key.
pub fn revoke(conn: &mut DbConnection, id: &KeyId) -> Result<bool, StoreError> {
    diesel::update(api_keys::table)
        .filter(api_keys::id.eq(id.to_string()))
        .filter(api_keys::revoked_at.is_null())
        .set(api_keys::revoked_at.eq(now()))
        .execute(conn)?;
    Ok(find_for_authentication(conn, id)?.is_some())
}

pub fn record_use(conn: &mut DbConnection, id: &KeyId) -> Result<(), StoreError> {
    diesel::update(api_keys::table)
        .filter(api_keys::id.eq(id.to_string()))
        .set(api_keys::last_used_at.eq(now()))
        .execute(conn)?;
    Ok(())
}
