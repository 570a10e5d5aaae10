//! Custom-field definitions (shared by both modes of an organization), and
//! the cache that validation reads them through.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::{Map, Value};

use super::schema::{custom_field_values, custom_fields, customers};
use super::{Database, DbConnection, StoreError, audit};
use crate::domain::InvalidField;
use crate::domain::audit::{Action, Audit, Target};
use crate::domain::change::Change;
use crate::domain::custom_fields::{
    Definition, DefinitionChanges, Definitions, FieldName, FieldType, MAX_DEFINITIONS, NAME_TAKEN,
    NewDefinition, TOO_MANY_DEFINITIONS,
};
use crate::domain::ids::{CustomerId, OrganizationId};
use crate::domain::listing::ListParams;
use crate::domain::refusal::Refusal;
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;

#[derive(Queryable, Selectable)]
#[diesel(table_name = custom_fields)]
struct Row {
    name: String,
    kind: String,
    max_length: Option<i32>,
    allowed_values: Option<String>,
    description: Option<String>,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl Row {
    fn definition(self) -> Option<Definition> {
        Some(Definition {
            name: FieldName::parse(&self.name).ok()?,
            kind: FieldType::from_stored(
                &self.kind,
                self.max_length,
                self.allowed_values.as_deref(),
            )?,
            description: self.description,
            created_time: Time::from_stored(self.created_at),
            updated_time: Time::from_stored(self.updated_at),
        })
    }
}

fn this(
    org: OrganizationId,
    name: &str,
) -> diesel::dsl::And<
    diesel::dsl::Eq<custom_fields::organization_id, OrganizationId>,
    diesel::dsl::Eq<custom_fields::name, String>,
> {
    custom_fields::organization_id
        .eq(org)
        .and(custom_fields::name.eq(name.to_owned()))
}

/// The organization's definitions, by name.
pub fn list(conn: &mut DbConnection, org: OrganizationId) -> Result<Vec<Definition>, StoreError> {
    let rows: Vec<Row> = custom_fields::table
        .filter(custom_fields::organization_id.eq(org))
        .order(custom_fields::name.asc())
        .select(Row::as_select())
        .load(conn)?;
    Ok(rows.into_iter().filter_map(Row::definition).collect())
}

pub fn find(
    conn: &mut DbConnection,
    org: OrganizationId,
    name: &str,
) -> Result<Option<Definition>, StoreError> {
    let row: Option<Row> = custom_fields::table
        .filter(this(org, name))
        .select(Row::as_select())
        .first(conn)
        .optional()?;
    Ok(row.and_then(Row::definition))
}

/// Creates a definition; refused when the name is taken or the
/// organization has [`MAX_DEFINITIONS`].
pub fn create(
    conn: &mut DbConnection,
    tenant: Tenant,
    new: &NewDefinition,
    by: &Audit,
) -> Result<Definition, StoreError> {
    let org = tenant.organization_id;
    let count: i64 = custom_fields::table
        .filter(custom_fields::organization_id.eq(org))
        .count()
        .get_result(conn)?;
    if count >= MAX_DEFINITIONS {
        return Err(TOO_MANY_DEFINITIONS.into());
    }
    let now = Time::now();
    let insert = |conn: &mut DbConnection| {
        diesel::insert_into(custom_fields::table)
            .values((
                custom_fields::organization_id.eq(org),
                custom_fields::name.eq(new.name.as_str()),
                custom_fields::kind.eq(new.kind.name()),
                custom_fields::max_length.eq(new.kind.max_length()),
                custom_fields::allowed_values.eq(new.kind.allowed_values_stored()),
                custom_fields::description.eq(&new.description),
                custom_fields::created_at.eq(now.naive()),
                custom_fields::updated_at.eq(now.naive()),
            ))
            .execute(conn)
    };
    // Under a savepoint: the primary key decides between racing creates,
    // and the transaction survives the loser's violation.
    match conn.transaction(insert).map_err(StoreError::from) {
        Ok(_) => {
            let target = Target::new("customField", new.name.as_str());
            audit::record(conn, tenant, by, Action::CustomFieldCreated, target, None)?;
            Ok(Definition {
                name: new.name.clone(),
                kind: new.kind.clone(),
                description: new.description.clone(),
                created_time: now,
                updated_time: now,
            })
        }
        Err(StoreError::UniqueViolation { .. }) => Err(NAME_TAKEN.into()),
        Err(error) => Err(error),
    }
}

/// Applies `changes` (already checked against `current`).
pub fn update(
    conn: &mut DbConnection,
    tenant: Tenant,
    current: &Definition,
    changes: &DefinitionChanges,
    by: &Audit,
) -> Result<Definition, StoreError> {
    let org = tenant.organization_id;
    let mut definition = current.clone();
    definition.kind = changes.kind.clone();
    if let Change::Set(description) = &changes.description {
        definition.description = description.clone();
    }
    definition.updated_time = Time::now().max(current.updated_time.next_millisecond());
    diesel::update(custom_fields::table.filter(this(org, current.name.as_str())))
        .set((
            custom_fields::max_length.eq(definition.kind.max_length()),
            custom_fields::allowed_values.eq(definition.kind.allowed_values_stored()),
            custom_fields::description.eq(&definition.description),
            custom_fields::updated_at.eq(definition.updated_time.naive()),
        ))
        .execute(conn)?;
    let target = Target::new("customField", current.name.as_str());
    audit::record(conn, tenant, by, Action::CustomFieldUpdated, target, None)?;
    Ok(definition)
}

/// Deletes a definition and every customer's value for it (in both modes,
/// deleted customers too); refused when there is no such definition. The
/// customers' revisions do not move: their data did not change, the
/// organization's schema did.
pub fn delete(
    conn: &mut DbConnection,
    tenant: Tenant,
    name: &str,
    by: &Audit,
) -> Result<(), StoreError> {
    let org = tenant.organization_id;
    if diesel::delete(custom_fields::table.filter(this(org, name))).execute(conn)? == 0 {
        return Err(Refusal::NotFound.into());
    }
    let target = Target::new("customField", name);
    audit::record(conn, tenant, by, Action::CustomFieldDeleted, target, None)?;
    let holders = || {
        custom_field_values::table
            .filter(custom_field_values::organization_id.eq(org))
            .filter(custom_field_values::field.eq(name.to_owned()))
    };
    let ids: Vec<CustomerId> = holders()
        .select(custom_field_values::customer_id)
        .load(conn)?;
    for id in ids {
        let stored: Option<String> = customers::table
            .filter(customers::organization_id.eq(org))
            .filter(customers::id.eq(id))
            .select(customers::custom_fields)
            .first(conn)
            .optional()?
            .flatten();
        let Some(stored) = stored else { continue };
        let mut values: Map<String, Value> = serde_json::from_str(&stored).unwrap_or_default();
        values.remove(name);
        let remaining = (!values.is_empty()).then(|| Value::Object(values).to_string());
        diesel::update(
            customers::table
                .filter(customers::organization_id.eq(org))
                .filter(customers::id.eq(id)),
        )
        .set(customers::custom_fields.eq(remaining))
        .execute(conn)?;
    }
    diesel::delete(holders()).execute(conn)?;
    Ok(())
}

/// A list filter on a custom field: its name and the canonical text of the
/// value (`Definitions::filter_value`).
pub type CustomFieldFilter = (String, String);

/// Each organization's definitions, remembered for the cache's lifetime: a
/// change made on another instance is seen within it, one made here at
/// once ([`DefinitionCache::forget`]).
pub struct DefinitionCache(moka::sync::Cache<OrganizationId, Arc<Definitions>>);

impl DefinitionCache {
    pub fn new(lifetime: Duration) -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(lifetime)
                .build(),
        )
    }

    /// The list's `customFields.<name>` filters of `params`, checked
    /// against the organization's definitions (read only when there are
    /// some): every bad one is named.
    pub async fn filters(
        &self,
        db: &Database,
        org: OrganizationId,
        params: &ListParams,
    ) -> Result<Result<Vec<CustomFieldFilter>, Vec<InvalidField>>, StoreError> {
        if params.custom_fields.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        let definitions = self.get(db, org).await?;
        let mut filters = Vec::new();
        let mut errors = Vec::new();
        for (name, raw) in &params.custom_fields {
            match definitions.filter_value(name, raw) {
                Ok(value) => filters.push((name.clone(), value)),
                Err(complaint) => errors.push(complaint),
            }
        }
        Ok(match errors.is_empty() {
            true => Ok(filters),
            false => Err(errors),
        })
    }

    pub async fn get(
        &self,
        db: &Database,
        org: OrganizationId,
    ) -> Result<Arc<Definitions>, StoreError> {
        if let Some(definitions) = self.0.get(&org) {
            return Ok(definitions);
        }
        let definitions = Arc::new(Definitions::new(db.run(move |conn| list(conn, org)).await?));
        self.0.insert(org, definitions.clone());
        Ok(definitions)
    }

    pub fn forget(&self, org: OrganizationId) {
        self.0.invalidate(&org);
    }
}
