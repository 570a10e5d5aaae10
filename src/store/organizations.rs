//! Organizations: the tenants.

use diesel::prelude::*;

use super::schema::{customers, organizations};
use super::{DbConnection, StoreError, audit};
use crate::domain::audit::{Action, Audit, Target};
use crate::domain::ids::OrganizationId;
use crate::domain::refusal::Refusal;
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;

pub fn create(
    conn: &mut DbConnection,
    name: &str,
    by: &Audit,
) -> Result<OrganizationId, StoreError> {
    let id = OrganizationId::generate();
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(id),
            organizations::name.eq(name),
            organizations::created_at.eq(Time::now().naive()),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        Tenant::live(id),
        by,
        Action::OrganizationCreated,
        Target::new("organization", id),
        None,
    )?;
    Ok(id)
}

/// An organization's settings (contract section 13).
pub struct Settings {
    pub name: String,
    pub require_two_step: bool,
    pub disabled: bool,
}

pub fn settings(conn: &mut DbConnection, id: OrganizationId) -> Result<Settings, StoreError> {
    let (name, require_two_step, disabled_at): (String, bool, Option<chrono::NaiveDateTime>) =
        organizations::table
            .find(id)
            .select((
                organizations::name,
                organizations::require_two_step,
                organizations::disabled_at,
            ))
            .first(conn)
            .optional()?
            .ok_or(Refusal::NotFound)?;
    Ok(Settings {
        name,
        require_two_step,
        disabled: disabled_at.is_some(),
    })
}

/// Whether the organization's members must sign in with two steps.
pub fn set_require_two_step(
    conn: &mut DbConnection,
    id: OrganizationId,
    required: bool,
    by: &Audit,
) -> Result<(), StoreError> {
    diesel::update(organizations::table.find(id))
        .set(organizations::require_two_step.eq(required))
        .execute(conn)?;
    audit::record(
        conn,
        Tenant::live(id),
        by,
        Action::SettingsUpdated,
        Target::new("organization", id),
        Some(vec!["requireTwoStep".into()]),
    )
}

/// Disables an organization: its keys, tokens and members are refused from
/// then on. Again: nothing changes.
pub fn disable(conn: &mut DbConnection, id: OrganizationId, by: &Audit) -> Result<(), StoreError> {
    let disabled = diesel::update(organizations::table.find(id))
        .filter(organizations::disabled_at.is_null())
        .set(organizations::disabled_at.eq(Time::now().naive()))
        .execute(conn)?;
    if disabled == 0 {
        settings(conn, id)?;
        return Ok(());
    }
    audit::record(
        conn,
        Tenant::live(id),
        by,
        Action::OrganizationDisabled,
        Target::new("organization", id),
        None,
    )
}

/// Whether the organization is disabled (unknown ones count as disabled).
pub fn is_disabled(conn: &mut DbConnection, id: OrganizationId) -> Result<bool, StoreError> {
    Ok(organizations::table
        .find(id)
        .select(organizations::disabled_at.is_not_null())
        .first(conn)
        .optional()?
        .unwrap_or(true))
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
    pub disabled_time: Option<Time>,
}

/// Every organization, oldest first.
pub fn list(conn: &mut DbConnection) -> Result<Vec<Organization>, StoreError> {
    type Listed = (
        OrganizationId,
        String,
        chrono::NaiveDateTime,
        Option<chrono::NaiveDateTime>,
    );
    let rows: Vec<Listed> = organizations::table
        .order((organizations::created_at.asc(), organizations::id.asc()))
        .select((
            organizations::id,
            organizations::name,
            organizations::created_at,
            organizations::disabled_at,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, name, created_at, disabled_at)| Organization {
            id,
            name,
            created_time: Time::from_stored(created_at),
            disabled_time: disabled_at.map(Time::from_stored),
        })
        .collect())
}

/// How many live customers (live mode, not deleted) each organization has.
pub fn live_customer_counts(
    conn: &mut DbConnection,
) -> Result<std::collections::HashMap<OrganizationId, i64>, StoreError> {
    let counts: Vec<(OrganizationId, i64)> = customers::table
        .filter(customers::livemode.eq(true))
        .filter(customers::deleted_at.is_null())
        .group_by(customers::organization_id)
        .select((customers::organization_id, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(counts.into_iter().collect())
}

pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(organizations::table.count().get_result(conn)?)
}
