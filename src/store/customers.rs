//! Customers: every query is scoped to one organization and mode (a
//! [`Tenant`]) and, but for the audit trail, to rows that are not
//! soft-deleted.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use diesel::dsl;
use diesel::prelude::*;
use serde_json::value::RawValue;

use super::counts::{self, Counted};
use super::feed::events;
use super::schema::{custom_field_values, customers};
use super::{DbConnection, StoreError, audit, idempotency};
use crate::domain::address::Address;
use crate::domain::audit::{Action, Audit, Target};
use crate::domain::change::Change;
use crate::domain::contact::{fold_case, phone_digits};
use crate::domain::customer::{Customer, CustomerChanges};
use crate::domain::event::EventType;
use crate::domain::ids::{CustomerId, OrganizationId};
use crate::domain::preconditions::Condition;
use crate::domain::refusal::Refusal;
use crate::domain::shipping::ShippingAddress;
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;

/// A customer's row: the same struct is read and inserted; a write sets
/// the columns that changed ([`changed_columns`]).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = customers, primary_key(organization_id, id))]
#[diesel(treat_none_as_default_value = false)]
pub(super) struct CustomerRow {
    organization_id: OrganizationId,
    pub(super) id: CustomerId,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone_number: Option<String>,
    language: Option<String>,
    address1: Option<String>,
    address2: Option<String>,
    city: Option<String>,
    region: Option<String>,
    zip: Option<String>,
    country: Option<String>,
    /// JSON text of an object of strings.
    metadata: Option<String>,
    /// Lowercased `first last`, for search.
    name_search: Option<String>,
    /// Lowercased email, for search and the exact-email filter.
    email_search: Option<String>,
    /// The phone number's digits, for search.
    phone_search: Option<String>,
    revision: i32,
    pub(super) created_at: NaiveDateTime,
    pub(super) updated_at: NaiveDateTime,
    deleted_at: Option<NaiveDateTime>,
    external_id: Option<String>,
    /// JSON text of the list, null when empty.
    shipping_addresses: Option<String>,
    /// JSON text of the values, null when none.
    custom_fields: Option<String>,
    livemode: bool,
    erased_at: Option<NaiveDateTime>,
}

/// The changeset of `row` written over `old`: only the columns whose values
/// differ. SQLite rewrites every index on a column named in `SET`, changed
/// or not, so setting the whole row made an update rewrite six indexes
/// where a changed name touches one. The keys, `created_at` and `livemode`
/// never change; every other column is listed here once.
macro_rules! changed_columns {
    ($row:expr, $old:expr) => {
        changed_columns!(@ $row, $old, first_name, last_name, email, phone_number, language,
            address1, address2, city, region, zip, country, metadata, name_search, email_search,
            phone_search, revision, updated_at, deleted_at, external_id, shipping_addresses,
            custom_fields, erased_at)
    };
    (@ $row:expr, $old:expr, $($column:ident),*) => {
        ($(($row.$column != $old.$column).then(|| customers::$column.eq($row.$column.clone())),)*)
    };
}

impl CustomerRow {
    fn new(tenant: Tenant, at: Time) -> Self {
        Self {
            organization_id: tenant.organization_id,
            id: CustomerId::generate(),
            first_name: None,
            last_name: None,
            email: None,
            phone_number: None,
            language: None,
            address1: None,
            address2: None,
            city: None,
            region: None,
            zip: None,
            country: None,
            metadata: None,
            name_search: None,
            email_search: None,
            phone_search: None,
            revision: 1,
            created_at: at.naive(),
            updated_at: at.naive(),
            deleted_at: None,
            external_id: None,
            shipping_addresses: None,
            custom_fields: None,
            livemode: tenant.livemode,
            erased_at: None,
        }
    }

    /// Applies the changes a request asks for, then derives the search
    /// columns from the result.
    fn apply(&mut self, changes: &CustomerChanges) {
        set(&mut self.first_name, &changes.first_name, |v| v.as_str());
        set(&mut self.last_name, &changes.last_name, |v| v.as_str());
        set(&mut self.email, &changes.email, |v| v.as_str());
        set(&mut self.phone_number, &changes.phone_number, |v| {
            v.as_str()
        });
        set(&mut self.language, &changes.language, |v| v.as_str());
        set(&mut self.external_id, &changes.external_id, |v| v.as_str());
        if let Change::Set(address) = &changes.address {
            let address = address.clone().unwrap_or_default();
            self.address1 = address.address1;
            self.address2 = address.address2;
            self.city = address.city;
            self.region = address.region;
            self.zip = address.zip;
            self.country = address.country;
        }
        if let Change::Set(metadata) = &changes.metadata {
            self.metadata = metadata.as_ref().map(|m| m.to_json());
        }
        if let Change::Set(list) = &changes.shipping_addresses {
            self.shipping_addresses = list.as_ref().and_then(|l| l.to_stored());
        }
        if let Change::Set(values) = &changes.custom_fields {
            self.custom_fields = values.as_ref().and_then(|v| v.to_stored());
        }
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        self.name_search = (!name.is_empty()).then(|| name.to_lowercase());
        self.email_search = self.email.as_deref().map(fold_case);
        self.phone_search = self.phone_number.as_deref().and_then(phone_digits);
    }
}

fn set<T>(column: &mut Option<String>, change: &Change<T>, text: impl Fn(&T) -> &str) {
    if let Change::Set(value) = change {
        *column = value.as_ref().map(|v| text(v).to_owned());
    }
}

impl From<CustomerRow> for Customer {
    fn from(row: CustomerRow) -> Self {
        let address = Address {
            address1: row.address1,
            address2: row.address2,
            city: row.city,
            region: row.region,
            zip: row.zip,
            country: row.country,
        };
        Self {
            id: row.id,
            organization_id: row.organization_id,
            livemode: row.livemode,
            external_id: row.external_id,
            first_name: row.first_name,
            last_name: row.last_name,
            email: row.email,
            phone_number: row.phone_number,
            language: row.language,
            address: (!address.is_empty()).then_some(address),
            // Stored as JSON text by this service, so it is passed through
            // unparsed; text that is not JSON reads as null.
            metadata: row.metadata.and_then(|m| RawValue::from_string(m).ok()),
            shipping_addresses: row
                .shipping_addresses
                .and_then(|list| serde_json::from_str::<Vec<ShippingAddress>>(&list).ok())
                .unwrap_or_default(),
            custom_fields: row
                .custom_fields
                .and_then(|v| RawValue::from_string(v).ok()),
            revision: row.revision,
            created_time: Time::from_stored(row.created_at),
            updated_time: Time::from_stored(row.updated_at),
            deleted_time: row.deleted_at.map(Time::from_stored),
            erased_time: row.erased_at.map(Time::from_stored),
        }
    }
}

type Tenants = dsl::And<
    dsl::Eq<customers::organization_id, OrganizationId>,
    dsl::Eq<customers::livemode, bool>,
>;
type Live = dsl::And<Tenants, dsl::IsNull<customers::deleted_at>>;

/// The tenant's customers, deleted or not.
pub(super) fn of(tenant: Tenant) -> Tenants {
    customers::organization_id
        .eq(tenant.organization_id)
        .and(customers::livemode.eq(tenant.livemode))
}

/// The tenant's customers that are not deleted.
pub(super) fn live(tenant: Tenant) -> Live {
    of(tenant).and(customers::deleted_at.is_null())
}

/// One live customer of the tenant.
fn live_one(tenant: Tenant, id: CustomerId) -> dsl::And<Live, dsl::Eq<customers::id, CustomerId>> {
    live(tenant).and(customers::id.eq(id))
}

/// Creates a customer; refused when another live customer holds its
/// externalId.
pub fn create(
    conn: &mut DbConnection,
    tenant: Tenant,
    changes: &CustomerChanges,
    by: &Audit,
) -> Result<Customer, StoreError> {
    let mut row = CustomerRow::new(tenant, Time::now());
    row.apply(changes);
    let insert = |conn: &mut DbConnection| {
        diesel::insert_into(customers::table)
            .values(&row)
            .execute(conn)
    };
    unless_external_id_taken(conn, tenant, &row, insert)?;
    index_custom_fields(conn, &row, changes)?;
    counts::moved(conn, None, counted(&row))?;
    let at = Time::from_stored(row.created_at);
    let customer = Customer::from(row);
    record_change(conn, by, EventType::CustomerCreated, &customer, None, at)?;
    Ok(customer)
}

/// What became of one row of an import's batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Created,
    Updated,
    Refused(Refusal),
}

impl Written {
    fn of(outcome: Result<Written, StoreError>) -> Result<Written, StoreError> {
        match outcome {
            Err(StoreError::Refused(refusal)) => Ok(Self::Refused(refusal)),
            outcome => outcome,
        }
    }
}

/// Creates a customer of each of `rows` (an import's batch) in the
/// caller's transaction, as [`create`] would one by one, but in a few
/// statements: the rows, their events, audit events and counts each
/// inserted together. A row whose externalId a live customer (or an
/// earlier row) holds is refused. Without `write` (a dry run) the same is
/// checked and nothing written.
pub fn create_many(
    conn: &mut DbConnection,
    tenant: Tenant,
    rows: &[CustomerChanges],
    by: &Audit,
    write: bool,
) -> Result<Vec<Written>, StoreError> {
    let built = new_rows(tenant, rows);
    if !write {
        return would_create(conn, tenant, &built);
    }
    let inserted = insert_unless_taken(conn, &built)?;
    let mut outcomes = Vec::with_capacity(rows.len());
    let (mut created, mut created_changes) = (Vec::new(), Vec::new());
    for (row, changes) in built.into_iter().zip(rows) {
        if inserted.contains(&row.id) {
            outcomes.push(Written::Created);
            created.push(row);
            created_changes.push(changes);
            continue;
        }
        let holder = customers::table
            .filter(live(tenant).and(customers::external_id.eq(&row.external_id)))
            .select(customers::id)
            .first(conn)
            .optional()?;
        // No holder: the one that took the externalId was deleted since.
        outcomes.push(Written::Refused(
            holder.map_or(Refusal::NotFound, |existing| Refusal::ExternalIdTaken {
                existing,
            }),
        ));
    }
    for (row, changes) in created.iter().zip(created_changes) {
        index_custom_fields(conn, row, changes)?;
    }
    counts::added(conn, created.iter().map(counted))?;
    let customers: Vec<Customer> = created.into_iter().map(Customer::from).collect();
    events::append_many(conn, EventType::CustomerCreated, &customers)?;
    let targets = customers.iter().map(|c| Target::new("customer", c.id));
    audit::record_many(conn, tenant, by, Action::CustomerCreated, targets)?;
    Ok(outcomes)
}

/// The new rows `rows` would make, created at one time (an import's batch).
fn new_rows(tenant: Tenant, rows: &[CustomerChanges]) -> Vec<CustomerRow> {
    let now = Time::now();
    rows.iter()
        .map(|changes| {
            let mut row = CustomerRow::new(tenant, now);
            row.apply(changes);
            row
        })
        .collect()
}

/// Inserts `rows`, a few hundred a statement, but those whose externalId a
/// live customer (or an earlier row) holds: the unique index decides, as it
/// does for [`create`], so a concurrent write cannot slip between a check
/// and the insert. `ON CONFLICT DO NOTHING` is written the same for both
/// databases; Diesel builds it for each. Returns the ids inserted.
fn insert_unless_taken(
    conn: &mut DbConnection,
    rows: &[CustomerRow],
) -> Result<std::collections::HashSet<CustomerId>, StoreError> {
    let mut inserted = std::collections::HashSet::with_capacity(rows.len());
    for chunk in rows.chunks(500) {
        let insert = diesel::insert_into(customers::table)
            .values(chunk)
            .on_conflict_do_nothing()
            .returning(customers::id);
        let ids: Vec<CustomerId> = match conn {
            DbConnection::Pg(pg) => insert.get_results(pg)?,
            DbConnection::Sqlite(sqlite) => insert.get_results(sqlite)?,
        };
        inserted.extend(ids);
    }
    Ok(inserted)
}

/// What [`create_many`] would do with `built`, writing nothing.
fn would_create(
    conn: &mut DbConnection,
    tenant: Tenant,
    built: &[CustomerRow],
) -> Result<Vec<Written>, StoreError> {
    let mut holders = external_id_holders(conn, tenant, built)?;
    let mut outcomes = Vec::with_capacity(built.len());
    for row in built {
        let Some(external_id) = &row.external_id else {
            outcomes.push(Written::Created);
            continue;
        };
        match holders.get(external_id) {
            Some(existing) => outcomes.push(Written::Refused(Refusal::ExternalIdTaken {
                existing: *existing,
            })),
            None => {
                holders.insert(external_id.clone(), row.id);
                outcomes.push(Written::Created);
            }
        }
    }
    Ok(outcomes)
}

/// For each of `rows` (an import's batch), updates the live customer that
/// holds its externalId, or creates one, in the caller's transaction and in
/// the rows' order (a later row updates what an earlier one created).
/// Without `write` (a dry run) the same is decided and nothing written.
pub fn upsert_many(
    conn: &mut DbConnection,
    tenant: Tenant,
    rows: &[CustomerChanges],
    by: &Audit,
    write: bool,
) -> Result<Vec<Written>, StoreError> {
    let built = new_rows(tenant, rows);
    let mut holders = external_id_holders(conn, tenant, &built)?;
    let mut outcomes = Vec::with_capacity(rows.len());
    for (row, changes) in built.iter().zip(rows) {
        let holder = row
            .external_id
            .as_ref()
            .and_then(|e| holders.get(e))
            .copied();
        let outcome = match (holder, write) {
            (Some(_), false) => Written::Updated,
            (Some(id), true) => {
                Written::of(update(conn, tenant, id, changes, None, by).map(|_| Written::Updated))?
            }
            (None, false) => Written::Created,
            (None, true) => match create(conn, tenant, changes, by) {
                Ok(customer) => {
                    if let Some(external_id) = customer.external_id {
                        holders.insert(external_id, customer.id);
                    }
                    Written::Created
                }
                outcome => Written::of(outcome.map(|_| Written::Created))?,
            },
        };
        if let (Written::Created, false, Some(external_id)) = (&outcome, write, &row.external_id) {
            holders.insert(external_id.clone(), row.id);
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

/// Which live customers of the tenant hold the externalIds `rows` set.
fn external_id_holders(
    conn: &mut DbConnection,
    tenant: Tenant,
    rows: &[CustomerRow],
) -> Result<std::collections::HashMap<String, CustomerId>, StoreError> {
    let wanted: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.external_id.as_deref())
        .collect();
    if wanted.is_empty() {
        return Ok(Default::default());
    }
    let held: Vec<(Option<String>, CustomerId)> = customers::table
        .filter(live(tenant).and(customers::external_id.is_not_null()))
        .filter(customers::external_id.eq_any(wanted))
        .select((customers::external_id, customers::id))
        .load(conn)?;
    Ok(held
        .into_iter()
        .filter_map(|(external_id, id)| Some((external_id?, id)))
        .collect())
}

/// Runs `write` of `row`; when `row` sets an externalId that another live
/// customer holds, refuses naming who holds it, and writes nothing. The
/// unique index decides (two writers racing for one reference cannot both
/// win); the write runs under a savepoint so that the transaction survives
/// the violation and can name the holder.
fn unless_external_id_taken(
    conn: &mut DbConnection,
    tenant: Tenant,
    row: &CustomerRow,
    write: impl FnOnce(&mut DbConnection) -> QueryResult<usize>,
) -> Result<(), StoreError> {
    let Some(external_id) = &row.external_id else {
        write(conn)?;
        return Ok(());
    };
    match conn.transaction(write).map_err(StoreError::from) {
        Ok(_) => Ok(()),
        Err(StoreError::UniqueViolation { .. }) => {
            let existing = customers::table
                .filter(live(tenant))
                .filter(customers::external_id.eq(external_id))
                .select(customers::id)
                .first(conn)?;
            Err(Refusal::ExternalIdTaken { existing }.into())
        }
        Err(error) => Err(error),
    }
}

pub fn find(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: CustomerId,
) -> Result<Option<Customer>, StoreError> {
    // Not boxed: the hottest query keeps a static type, so Diesel caches its
    // prepared statement by type instead of rebuilding its SQL text per call.
    let row = customers::table
        .filter(live_one(tenant, id))
        .select(CustomerRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Customer::from))
}

/// The tenant's customer, deleted or erased too (the console shows a
/// deleted customer with its Restore).
pub fn find_any(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: CustomerId,
) -> Result<Option<Customer>, StoreError> {
    let row = customers::table
        .filter(of(tenant).and(customers::id.eq(id)))
        .select(CustomerRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(Customer::from))
}

/// The tenant's live customers among `ids`, oldest first (a bulk export of
/// the rows a person selected).
pub fn live_among(
    conn: &mut DbConnection,
    tenant: Tenant,
    ids: Vec<CustomerId>,
) -> Result<Vec<Customer>, StoreError> {
    let rows = customers::table
        .filter(live(tenant).and(customers::id.eq_any(ids)))
        .order((customers::created_at.asc(), customers::id.asc()))
        .select(CustomerRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(Customer::from).collect())
}

/// The revision of the tenant's live customer: what a conditional GET
/// compares, without reading the rest of the row.
pub fn revision(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: CustomerId,
) -> Result<Option<i32>, StoreError> {
    Ok(customers::table
        .filter(live_one(tenant, id))
        .select(customers::revision)
        .first(conn)
        .optional()?)
}

/// The tenant's customer, deleted or not, locked until the transaction
/// ends, so that concurrent writes of one customer apply one after the
/// other.
fn lock(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: CustomerId,
) -> Result<Option<CustomerRow>, StoreError> {
    let query = customers::table.filter(of(tenant).and(customers::id.eq(id)));
    let row = match conn {
        DbConnection::Pg(pg) => query
            .select(CustomerRow::as_select())
            .for_update()
            .first(pg)
            .optional()?,
        // SQLite: the transaction's BEGIN IMMEDIATE already holds the one
        // writer lock.
        DbConnection::Sqlite(sqlite) => query
            .select(CustomerRow::as_select())
            .first(sqlite)
            .optional()?,
    };
    Ok(row)
}

/// The customer, locked, if the write `finds` it (else refused, not found)
/// and `expected` (an `If-Match`) allows writing it: a compare-and-set on
/// the revision it names.
fn lock_expecting(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: CustomerId,
    expected: Option<&Condition>,
    finds: impl Fn(&CustomerRow) -> bool,
) -> Result<CustomerRow, StoreError> {
    let row = lock(conn, tenant, id)?
        .filter(finds)
        .ok_or(Refusal::NotFound)?;
    match expected {
        Some(condition) if !condition.matches_strongly(row.revision) => {
            Err(Refusal::RevisionMismatch {
                current: row.revision,
            }
            .into())
        }
        _ => Ok(row),
    }
}

/// Where the row counts in the stats ([`counts`]).
fn counted(row: &CustomerRow) -> Counted {
    let tenant = Tenant {
        organization_id: row.organization_id,
        livemode: row.livemode,
    };
    Counted::new(
        tenant,
        row.deleted_at.is_some(),
        row.created_at,
        row.country.as_deref(),
        row.language.as_deref(),
    )
}

fn is_live(row: &CustomerRow) -> bool {
    row.deleted_at.is_none()
}

/// A time after every change the customer has had (its update, its
/// deletion), so that its events keep their order.
fn after_last_change(row: &CustomerRow) -> Time {
    let last = row
        .deleted_at
        .map_or(row.updated_at, |d| d.max(row.updated_at));
    Time::now().max(Time::from_stored(last).next_millisecond())
}

/// Applies `changes` to a live customer. Must run in a transaction
/// ([`super::Database::transaction`]).
pub fn update(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: CustomerId,
    changes: &CustomerChanges,
    expected: Option<&Condition>,
    by: &Audit,
) -> Result<Customer, StoreError> {
    let mut row = lock_expecting(conn, tenant, id, expected, is_live)?;
    let old = row.clone();
    let before = Customer::from(old.clone());
    row.apply(changes);
    row.revision += 1;
    // updatedTime always moves, even for two updates in one millisecond.
    let previous = Time::from_stored(row.updated_at);
    row.updated_at = Time::now().max(previous.next_millisecond()).naive();
    let write = |conn: &mut DbConnection| {
        diesel::update(customers::table.filter(live_one(tenant, id)))
            .set(changed_columns!(row, old))
            .execute(conn)
    };
    unless_external_id_taken(conn, tenant, &row, write)?;
    index_custom_fields(conn, &row, changes)?;
    counts::moved(conn, Some(counted(&old)), counted(&row))?;
    let at = Time::from_stored(row.updated_at);
    let customer = Customer::from(row);
    record_change(
        conn,
        by,
        EventType::CustomerUpdated,
        &customer,
        Some(&before),
        at,
    )?;
    Ok(customer)
}

/// Soft-deletes a live customer; answers it as it was.
pub fn delete(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: CustomerId,
    expected: Option<&Condition>,
    by: &Audit,
) -> Result<Customer, StoreError> {
    let mut row = lock_expecting(conn, tenant, id, expected, is_live)?;
    let at = after_last_change(&row);
    diesel::update(customers::table.filter(live_one(tenant, id)))
        .set(customers::deleted_at.eq(at.naive()))
        .execute(conn)?;
    let live = counted(&row);
    row.deleted_at = Some(at.naive());
    counts::moved(conn, Some(live), counted(&row))?;
    let customer = Customer::from(row);
    record_change(conn, by, EventType::CustomerDeleted, &customer, None, at)?;
    Ok(customer)
}

/// Makes a customer deleted less than `window` ago live again, at its next
/// revision; a live one is left as it is. An erased customer, or one
/// deleted longer ago, is not found.
pub fn restore(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: CustomerId,
    expected: Option<&Condition>,
    window: Duration,
    by: &Audit,
) -> Result<Customer, StoreError> {
    let since = Time::now().naive() - TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX);
    let restorable = |row: &CustomerRow| {
        row.erased_at.is_none() && row.deleted_at.is_none_or(|deleted| deleted >= since)
    };
    let mut row = lock_expecting(conn, tenant, id, expected, restorable)?;
    let old = row.clone();
    if is_live(&row) {
        return Ok(Customer::from(row));
    }
    let at = after_last_change(&row);
    row.deleted_at = None;
    row.revision += 1;
    row.updated_at = at.naive();
    let write = |conn: &mut DbConnection| {
        diesel::update(customers::table.filter(of(tenant).and(customers::id.eq(id))))
            .set(changed_columns!(row, old))
            .execute(conn)
    };
    unless_external_id_taken(conn, tenant, &row, write)?;
    counts::moved(conn, Some(counted(&old)), counted(&row))?;
    let customer = Customer::from(row);
    record_change(conn, by, EventType::CustomerRestored, &customer, None, at)?;
    Ok(customer)
}

/// Erases a customer's personal data for good, whether it is live (it is
/// deleted too) or deleted: the fields ([`CustomerChanges::erasing`]),
/// what is derived from them, and the copies kept in its events (which
/// deliveries still to be made read) and in kept idempotent answers. An
/// erased customer is left as it is.
pub fn erase(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: CustomerId,
    expected: Option<&Condition>,
    by: &Audit,
) -> Result<Customer, StoreError> {
    let mut row = lock_expecting(conn, tenant, id, expected, |_| true)?;
    let old = row.clone();
    if row.erased_at.is_some() {
        return Ok(Customer::from(row));
    }
    let at = after_last_change(&row);
    let erasing = CustomerChanges::erasing(row.country.clone());
    row.apply(&erasing);
    row.revision += 1;
    row.updated_at = at.naive();
    row.deleted_at = row.deleted_at.or(Some(at.naive()));
    row.erased_at = Some(at.naive());
    diesel::update(customers::table.filter(of(tenant).and(customers::id.eq(id))))
        .set(changed_columns!(row, old))
        .execute(conn)?;
    index_custom_fields(conn, &row, &erasing)?;
    counts::moved(conn, Some(counted(&old)), counted(&row))?;
    events::redact(conn, tenant, id)?;
    idempotency::redact(conn, tenant, id)?;
    let customer = Customer::from(row);
    record_change(conn, by, EventType::CustomerErased, &customer, None, at)?;
    Ok(customer)
}

/// Writes a change's event and its audit event (the fields an update
/// changed, by name), in the change's transaction.
fn record_change(
    conn: &mut DbConnection,
    by: &Audit,
    kind: EventType,
    customer: &Customer,
    before: Option<&Customer>,
    at: Time,
) -> Result<(), StoreError> {
    let changed = events::append(conn, kind, customer, before, at)?;
    let tenant = Tenant {
        organization_id: customer.organization_id,
        livemode: customer.livemode,
    };
    let fields = (kind == EventType::CustomerUpdated).then_some(changed);
    let target = Target::new("customer", customer.id);
    audit::record(conn, tenant, by, Action::from(kind), target, fields)
}

/// Keeps the filter's side table in step with a customer's custom-field
/// values, when a write changed them.
fn index_custom_fields(
    conn: &mut DbConnection,
    row: &CustomerRow,
    changes: &CustomerChanges,
) -> Result<(), StoreError> {
    let Change::Set(values) = &changes.custom_fields else {
        return Ok(());
    };
    diesel::delete(
        custom_field_values::table
            .filter(custom_field_values::organization_id.eq(row.organization_id))
            .filter(custom_field_values::customer_id.eq(row.id)),
    )
    .execute(conn)?;
    let entries = values
        .as_ref()
        .map(|v| v.index_entries())
        .unwrap_or_default();
    for (field, value) in entries {
        diesel::insert_into(custom_field_values::table)
            .values((
                custom_field_values::organization_id.eq(row.organization_id),
                custom_field_values::field.eq(field),
                custom_field_values::value.eq(value),
                custom_field_values::customer_id.eq(row.id),
            ))
            .execute(conn)?;
    }
    Ok(())
}
