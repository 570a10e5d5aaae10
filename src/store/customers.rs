//! Customers: every query is scoped to one organization and, but for the
//! audit trail, to rows that are not soft-deleted.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use super::schema::customers;
use super::{Db, DbConnection, StoreError, now};
use crate::domain::contact::{fold_case, phone_digits};
use crate::domain::customer::{Change, CustomerChanges};
use crate::domain::ids::{CustomerId, OrganizationId};
use crate::domain::listing::{ListParams, Sort};

/// A stored customer, in the table's column order.
#[derive(Debug, Clone, Queryable)]
pub struct Customer {
    pub organization_id: String,
    pub id: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub language: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub zip: Option<String>,
    pub country: Option<String>,
    /// JSON text of an object of strings.
    pub metadata: Option<String>,
    pub name_search: Option<String>,
    pub email_search: Option<String>,
    pub phone_search: Option<String>,
    pub revision: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

/// The columns a request can change, plus the search columns derived from
/// them. `None` writes NULL.
#[derive(Debug, Clone, Default, Insertable, AsChangeset)]
#[diesel(table_name = customers, treat_none_as_null = true, treat_none_as_default_value = false)]
struct Fields {
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
    metadata: Option<String>,
    name_search: Option<String>,
    email_search: Option<String>,
    phone_search: Option<String>,
}

impl Fields {
    fn of(c: &Customer) -> Self {
        Self {
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            email: c.email.clone(),
            phone_number: c.phone_number.clone(),
            language: c.language.clone(),
            address1: c.address1.clone(),
            address2: c.address2.clone(),
            city: c.city.clone(),
            region: c.region.clone(),
            zip: c.zip.clone(),
            country: c.country.clone(),
            metadata: c.metadata.clone(),
            name_search: None,
            email_search: None,
            phone_search: None,
        }
    }

    fn apply(mut self, changes: &CustomerChanges) -> Self {
        set(&mut self.first_name, &changes.first_name);
        set(&mut self.last_name, &changes.last_name);
        set(&mut self.email, &changes.email);
        set(&mut self.phone_number, &changes.phone_number);
        set(&mut self.language, &changes.language);
        if let Change::Set(address) = &changes.address {
            let address = address.clone().unwrap_or_default();
            self.address1 = address.address1;
            self.address2 = address.address2;
            self.city = address.city;
            self.region = address.region;
            self.zip = address.zip;
            self.country = address.country.map(|c| c.as_ref().to_owned());
        }
        if let Change::Set(metadata) = &changes.metadata {
            self.metadata = metadata.as_ref().map(|m| m.to_json());
        }
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        self.name_search = (!name.is_empty()).then(|| name.to_lowercase());
        self.email_search = self.email.as_deref().map(fold_case);
        self.phone_search = self.phone_number.as_deref().and_then(phone_digits);
        self
    }
}

fn set<T: AsRef<str>>(column: &mut Option<String>, change: &Change<T>) {
    if let Change::Set(value) = change {
        *column = value.as_ref().map(|v| v.as_ref().to_owned());
    }
}

/// The organization's customers that are not deleted.
fn live(org: &OrganizationId) -> customers::BoxedQuery<'static, Db> {
    customers::table
        .filter(customers::organization_id.eq(org.to_string()))
        .filter(customers::deleted_at.is_null())
        .into_boxed()
}

pub fn create(
    conn: &mut DbConnection,
    org: &OrganizationId,
    changes: &CustomerChanges,
) -> Result<Customer, StoreError> {
    let fields = Fields::default().apply(changes);
    let at = now();
    let customer = diesel::insert_into(customers::table)
        .values((
            &fields,
            customers::organization_id.eq(org.to_string()),
            customers::id.eq(CustomerId::generate().to_string()),
            customers::revision.eq(1),
            customers::created_at.eq(at),
            customers::updated_at.eq(at),
        ))
        .get_result(conn)?;
    Ok(customer)
}

pub fn find(
    conn: &mut DbConnection,
    org: &OrganizationId,
    id: &CustomerId,
) -> Result<Option<Customer>, StoreError> {
    // Not boxed: the hottest query keeps a static type, so Diesel caches its
    // prepared statement by type instead of rebuilding its SQL text per call.
    Ok(customers::table
        .filter(customers::organization_id.eq(org.to_string()))
        .filter(customers::id.eq(id.to_string()))
        .filter(customers::deleted_at.is_null())
        .first(conn)
        .optional()?)
}

/// How often an update re-reads a customer that another writer changed
/// between its read and its write.
const UPDATE_ATTEMPTS: usize = 5;

/// Applies `changes` to a live customer; `None` when there is none.
///
/// Optimistic: read, merge, then write only if the revision is still the one
/// read. One statement cannot do it, because the search columns derive from
/// fields the request may not mention.
pub fn update(
    conn: &mut DbConnection,
    org: &OrganizationId,
    id: &CustomerId,
    changes: &CustomerChanges,
) -> Result<Option<Customer>, StoreError> {
    for _ in 0..UPDATE_ATTEMPTS {
        let Some(current) = find(conn, org, id)? else {
            return Ok(None);
        };
        // updatedTime always moves, even for two updates in one millisecond.
        let updated_at = now().max(current.updated_at + TimeDelta::milliseconds(1));
        let updated = diesel::update(customers::table)
            .filter(customers::organization_id.eq(&current.organization_id))
            .filter(customers::id.eq(&current.id))
            .filter(customers::deleted_at.is_null())
            .filter(customers::revision.eq(current.revision))
            .set((
                &Fields::of(&current).apply(changes),
                customers::revision.eq(current.revision + 1),
                customers::updated_at.eq(updated_at),
            ))
            .get_result(conn)
            .optional()?;
        if updated.is_some() {
            return Ok(updated);
        }
    }
    Err(StoreError::Contended)
}

/// Soft-deletes a live customer; `false` when there is none.
pub fn delete(
    conn: &mut DbConnection,
    org: &OrganizationId,
    id: &CustomerId,
) -> Result<bool, StoreError> {
    let deleted = diesel::update(customers::table)
        .filter(customers::organization_id.eq(org.to_string()))
        .filter(customers::id.eq(id.to_string()))
        .filter(customers::deleted_at.is_null())
        .set(customers::deleted_at.eq(now()))
        .execute(conn)?;
    Ok(deleted == 1)
}

pub struct Page {
    pub customers: Vec<Customer>,
    pub has_more: bool,
    pub total: Option<i64>,
}

pub fn list(
    conn: &mut DbConnection,
    org: &OrganizationId,
    params: &ListParams,
) -> Result<Page, StoreError> {
    if params.search.is_none() {
        return list_page(conn, org, params);
    }
    conn.transaction(|conn| {
        // A prepared `LIKE '%term%'` switches to a generic plan after five
        // runs, and that plan cannot use the trigram index (45 against 6,700
        // searches a second on 500,000 customers).
        if let DbConnection::Pg(pg) = conn {
            pg.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan")?;
        }
        list_page(conn, org, params)
    })
}

/// From this offset on, a page is read ids first (see `list_page`).
const DEEP_OFFSET: i64 = 1_000;

fn list_page(
    conn: &mut DbConnection,
    org: &OrganizationId,
    params: &ListParams,
) -> Result<Page, StoreError> {
    // One row more than asked tells whether another page follows.
    let ordered = in_order(matching(org, params), params.sort);
    let (mut rows, found): (Vec<Customer>, usize) = if params.offset < DEEP_OFFSET {
        let rows: Vec<Customer> = ordered
            .limit(params.limit + 1)
            .offset(params.offset)
            .load(conn)?;
        let found = rows.len();
        (rows, found)
    } else {
        // Deep pages: the ids first, from the sort index alone (an
        // index-only scan skips index entries, not heap rows), then their
        // rows. Two statements, because Diesel's MultiConnection cannot nest
        // a boxed subquery.
        let ids: Vec<String> = ordered
            .select(customers::id)
            .limit(params.limit + 1)
            .offset(params.offset)
            .load(conn)?;
        let found = ids.len();
        let rows = in_order(live(org), params.sort)
            .filter(customers::id.eq_any(ids))
            .load(conn)?;
        (rows, found)
    };
    let has_more = found as i64 > params.limit;
    rows.truncate(params.limit as usize);
    let total = match params.include_total {
        true => Some(matching(org, params).count().get_result(conn)?),
        false => None,
    };
    Ok(Page {
        customers: rows,
        has_more,
        total,
    })
}

fn in_order(
    query: customers::BoxedQuery<'static, Db>,
    sort: Sort,
) -> customers::BoxedQuery<'static, Db> {
    use customers::{created_at, id, updated_at};
    match sort {
        Sort::CreatedDescending => query.order((created_at.desc(), id.desc())),
        Sort::CreatedAscending => query.order((created_at.asc(), id.asc())),
        Sort::UpdatedDescending => query.order((updated_at.desc(), id.desc())),
        Sort::UpdatedAscending => query.order((updated_at.asc(), id.asc())),
    }
}

/// The live customers that match the list's filters and search term.
fn matching(org: &OrganizationId, params: &ListParams) -> customers::BoxedQuery<'static, Db> {
    let mut query = live(org);
    if let Some(email) = &params.email {
        query = query.filter(customers::email_search.eq(email.clone()));
    }
    if let Some(from) = params.created_from {
        query = query.filter(customers::created_at.ge(from));
    }
    if let Some(to) = params.created_to {
        query = query.filter(customers::created_at.lt(to));
    }
    if let Some(term) = &params.search {
        let text = contains(&term.text);
        let in_name_or_email = customers::name_search
            .like(text.clone())
            .escape('\\')
            .or(customers::email_search.like(text).escape('\\'));
        query = match &term.digits {
            Some(digits) => query.filter(
                in_name_or_email.or(customers::phone_search.like(contains(digits)).escape('\\')),
            ),
            None => query.filter(in_name_or_email),
        };
    }
    query
}

/// A LIKE pattern matching `term` anywhere, its wildcards taken literally.
fn contains(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}
