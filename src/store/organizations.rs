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

pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(organizations::table.count().get_result(conn)?)
}
