//! Organizations: the tenants.

use diesel::prelude::*;

use super::schema::organizations;
use super::{DbConnection, StoreError};
use crate::domain::ids::OrganizationId;
use crate::domain::time::Time;

pub fn create(conn: &mut DbConnection, name: &str) -> Result<OrganizationId, StoreError> {
    let id = OrganizationId::generate();
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(id),
            organizations::name.eq(name),
            organizations::created_at.eq(Time::now().naive()),
        ))
        .execute(conn)?;
    Ok(id)
}

pub fn exists(conn: &mut DbConnection, id: OrganizationId) -> Result<bool, StoreError> {
    let found = organizations::table
        .find(id)
        .select(organizations::id)
        .first::<OrganizationId>(conn)
        .optional()?;
    Ok(found.is_some())
}

/// An organization as listed.
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub created_time: Time,
}

/// Every organization, oldest first.
pub fn list(conn: &mut DbConnection) -> Result<Vec<Organization>, StoreError> {
    let rows: Vec<(OrganizationId, String, chrono::NaiveDateTime)> = organizations::table
        .order((organizations::created_at.asc(), organizations::id.asc()))
        .select((
            organizations::id,
            organizations::name,
            organizations::created_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, created_at)| Organization {
            id,
            name,
            created_time: Time::from_stored(created_at),
        })
        .collect())
}

pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(organizations::table.count().get_result(conn)?)
}
