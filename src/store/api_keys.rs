//! API keys. Only an argon2id hash of each secret is stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::api_keys;
use super::{DbConnection, StoreError};
use crate::domain::ids::{KeyId, OrganizationId};
use crate::domain::scopes::Scopes;
use crate::domain::time::Time;

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_keys)]
struct ApiKeyRow {
    organization_id: OrganizationId,
    id: KeyId,
    name: Option<String>,
    /// Space-separated scope names.
    scopes: String,
    secret_hash: String,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
    token_ref: Option<String>,
    livemode: bool,
    last_used_at: Option<NaiveDateTime>,
    previous_secret_hash: Option<String>,
    previous_expires_at: Option<NaiveDateTime>,
}

/// A stored key. No `Debug`: the secret's hash must not reach a log line
/// either.
#[derive(Clone)]
pub struct ApiKey {
    pub organization_id: OrganizationId,
    pub id: KeyId,
    pub name: Option<String>,
    pub scopes: Scopes,
    pub secret_hash: String,
    pub created_time: Time,
    pub revoked_time: Option<Time>,
    /// What tokens minted with it name it by.
    pub token_ref: Option<String>,
    pub livemode: bool,
    /// Its last use, to the minute.
    pub last_used_time: Option<Time>,
    /// After a roll: the previous secret's hash, and until when it works.
    pub previous_secret_hash: Option<String>,
    pub previous_expires_time: Option<Time>,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;

    fn try_from(row: ApiKeyRow) -> Result<Self, StoreError> {
        let scopes = Scopes::parse_list(&row.scopes, ' ')
            .map_err(|e| StoreError::Failed(format!("key {}: {e}", row.id)))?;
        Ok(Self {
            organization_id: row.organization_id,
            id: row.id,
            name: row.name,
            scopes,
            secret_hash: row.secret_hash,
            created_time: Time::from_stored(row.created_at),
            revoked_time: row.revoked_at.map(Time::from_stored),
            token_ref: row.token_ref,
            livemode: row.livemode,
            last_used_time: row.last_used_at.map(Time::from_stored),
            previous_secret_hash: row.previous_secret_hash,
            previous_expires_time: row.previous_expires_at.map(Time::from_stored),
        })
    }
}

pub struct NewApiKey<'a> {
    pub id: KeyId,
    pub name: Option<&'a str>,
    pub scopes: Scopes,
    pub secret_hash: String,
    pub token_ref: String,
    pub livemode: bool,
}

pub fn insert(
    conn: &mut DbConnection,
    org: OrganizationId,
    key: NewApiKey<'_>,
) -> Result<(), StoreError> {
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::organization_id.eq(org),
            api_keys::id.eq(key.id),
            api_keys::name.eq(key.name),
            api_keys::scopes.eq(key.scopes.to_string()),
            api_keys::secret_hash.eq(key.secret_hash),
            api_keys::token_ref.eq(key.token_ref),
            api_keys::livemode.eq(key.livemode),
            api_keys::created_at.eq(Time::now().naive()),
        ))
        .execute(conn)?;
    Ok(())
}

/// The one lookup not scoped by organization: a presented key names only
/// its id, and the key is what proves the organization.
pub fn find_for_authentication(
    conn: &mut DbConnection,
    id: KeyId,
) -> Result<Option<ApiKey>, StoreError> {
    api_keys::table
        .filter(api_keys::id.eq(id))
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()?
        .map(ApiKey::try_from)
        .transpose()
}

/// The key a token names by its reference.
pub fn find_by_token_ref(
    conn: &mut DbConnection,
    token_ref: &str,
) -> Result<Option<ApiKey>, StoreError> {
    api_keys::table
        .filter(api_keys::token_ref.eq(token_ref))
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()?
        .map(ApiKey::try_from)
        .transpose()
}

/// Where revocations stand: how many keys are revoked, and the latest
/// revocation. Any change means a key was revoked since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revocations {
    count: i64,
    latest: Option<NaiveDateTime>,
}

pub fn revocations(conn: &mut DbConnection) -> Result<Revocations, StoreError> {
    let (count, latest) = api_keys::table
        .filter(api_keys::revoked_at.is_not_null())
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::max(api_keys::revoked_at),
        ))
        .first(conn)?;
    Ok(Revocations { count, latest })
}

pub fn list(conn: &mut DbConnection, org: OrganizationId) -> Result<Vec<ApiKey>, StoreError> {
    api_keys::table
        .filter(api_keys::organization_id.eq(org))
        .order((api_keys::created_at.asc(), api_keys::id.asc()))
        .select(ApiKeyRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ApiKey::try_from)
        .collect()
}

/// Revokes a key, keeping the first revocation time; `true` when it was
/// live until now.
pub fn revoke(conn: &mut DbConnection, id: KeyId) -> Result<bool, StoreError> {
    let revoked = diesel::update(api_keys::table)
        .filter(api_keys::id.eq(id))
        .filter(api_keys::revoked_at.is_null())
        .set(api_keys::revoked_at.eq(Time::now().naive()))
        .execute(conn)?;
    Ok(revoked == 1)
}

/// Gives a key the secret hashed as `secret_hash`; the one hashed as
/// `previous_hash` keeps working until `previous_expires`.
pub fn roll(
    conn: &mut DbConnection,
    id: KeyId,
    secret_hash: &str,
    previous_hash: &str,
    previous_expires: Time,
) -> Result<(), StoreError> {
    diesel::update(api_keys::table)
        .filter(api_keys::id.eq(id))
        .set((
            api_keys::secret_hash.eq(secret_hash),
            api_keys::previous_secret_hash.eq(previous_hash),
            api_keys::previous_expires_at.eq(previous_expires.naive()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn record_use(conn: &mut DbConnection, id: KeyId) -> Result<(), StoreError> {
    diesel::update(api_keys::table)
        .filter(api_keys::id.eq(id))
        .set(api_keys::last_used_at.eq(Time::now().naive()))
        .execute(conn)?;
    Ok(())
}
