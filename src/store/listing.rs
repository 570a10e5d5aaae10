//! Lists of customers: the filters, the search, the four orders, offset
//! and keyset pages; the reports read through the same condition.

use chrono::NaiveDateTime;
use diesel::dsl;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use super::custom_fields::{CustomFieldFilter, DefinitionCache};
use super::customers::{CustomerRow, live, of};
use super::schema::{custom_field_values, customers};
use super::{Database, Db, DbConnection, StoreError, audit};
use crate::domain::InvalidField;
use crate::domain::audit::{Action, Audit, Target};
use crate::domain::customer::Customer;
use crate::domain::ids::CustomerId;
use crate::domain::listing::{Cursor, ListParams, Sort};
use crate::domain::tenant::Tenant;

pub struct Page {
    pub customers: Vec<Customer>,
    pub has_more: bool,
    pub total: Option<i64>,
}

/// From this offset on, a page is read ids first (see `list`).
const DEEP_OFFSET: i64 = 1_000;

/// The customer a cursor names was never one of this organization's.
#[derive(Debug)]
pub struct UnknownAnchor(pub Cursor);

/// A page of the tenant's customers as the API and the console list them:
/// the custom-field filters checked against the definitions, a list that
/// includes deleted customers recorded in the audit log before it is read
/// (a bulk read of personal data; the caller checked `reports:read`), then
/// the page, from the read replica while it answers. A bad filter or an
/// unknown cursor is named.
pub async fn page(
    db: &Database,
    definitions: &DefinitionCache,
    tenant: Tenant,
    params: ListParams,
    by: &Audit,
) -> Result<Result<Page, Vec<InvalidField>>, StoreError> {
    let filters = match definitions
        .filters(db, tenant.organization_id, &params)
        .await?
    {
        Ok(filters) => filters,
        Err(invalid) => return Ok(Err(invalid)),
    };
    if params.reads_deleted() {
        let by = by.clone();
        db.transaction(move |conn| {
            let action = Action::CustomersListedWithDeleted;
            audit::record(conn, tenant, &by, action, Target::many("customers"), None)
        })
        .await?;
    }
    let listed = db
        .read(move |conn| list(conn, tenant, &params, &filters))
        .await?;
    Ok(listed.map_err(|UnknownAnchor(cursor)| {
        vec![InvalidField {
            field: cursor.parameter().into(),
            message: "names no customer this organization ever had".into(),
        }]
    }))
}

pub fn list(
    conn: &mut DbConnection,
    tenant: Tenant,
    params: &ListParams,
    custom_fields: &[CustomFieldFilter],
) -> Result<Result<Page, UnknownAnchor>, StoreError> {
    let matching = || matching(tenant, params, custom_fields);
    // A cursor's page: the rows beyond its anchor in the direction of
    // travel (backwards for endingBefore), read in that direction.
    let (travel, query) = match params.cursor() {
        None => (params.sort, matching()),
        Some(cursor) => {
            let Some(anchor) = anchor(conn, tenant, cursor.anchor())? else {
                return Ok(Err(UnknownAnchor(cursor)));
            };
            let travel = match cursor {
                Cursor::After(_) => params.sort,
                Cursor::Before(_) => params.sort.reversed(),
            };
            (travel, beyond(matching(), travel, anchor))
        }
    };
    // One row more than asked tells whether more follow.
    let ordered = in_order(query, travel);
    let (mut rows, found): (Vec<CustomerRow>, usize) = if params.offset < DEEP_OFFSET {
        let rows: Vec<CustomerRow> = ordered
            .select(CustomerRow::as_select())
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
        let ids: Vec<CustomerId> = ordered
            .select(customers::id)
            .limit(params.limit + 1)
            .offset(params.offset)
            .load(conn)?;
        let found = ids.len();
        let rows = in_order(customers::table.filter(of(tenant)).into_boxed(), travel)
            .filter(customers::id.eq_any(ids))
            .select(CustomerRow::as_select())
            .load(conn)?;
        (rows, found)
    };
    let has_more = found as i64 > params.limit;
    rows.truncate(params.limit as usize);
    if travel != params.sort {
        rows.reverse();
    }
    let total = match params.include_total {
        true => Some(matching().count().get_result(conn)?),
        false => None,
    };
    Ok(Ok(Page {
        customers: rows.into_iter().map(Customer::from).collect(),
        has_more,
        total,
    }))
}

/// Where a cursor's customer sits in every order: its times and id. It may
/// have been deleted since; it must have been this organization's.
#[derive(Queryable)]
pub(super) struct Anchor {
    pub(super) created_at: NaiveDateTime,
    pub(super) updated_at: NaiveDateTime,
    pub(super) id: CustomerId,
}

fn anchor(
    conn: &mut DbConnection,
    tenant: Tenant,
    id: CustomerId,
) -> Result<Option<Anchor>, StoreError> {
    Ok(customers::table
        .filter(of(tenant))
        .filter(customers::id.eq(id))
        .select((customers::created_at, customers::updated_at, customers::id))
        .first(conn)
        .optional()?)
}

/// The rows strictly after `anchor` in `sort`'s order. The redundant bound
/// on the time alone lets the sort index start its scan at the anchor.
pub(super) fn beyond(
    query: customers::BoxedQuery<'static, Db>,
    sort: Sort,
    anchor: Anchor,
) -> customers::BoxedQuery<'static, Db> {
    use customers::{created_at, id, updated_at};
    let Anchor {
        created_at: created,
        updated_at: updated,
        id: after,
    } = anchor;
    match sort {
        Sort::CreatedDescending => query.filter(created_at.le(created)).filter(
            created_at
                .lt(created)
                .or(created_at.eq(created).and(id.lt(after))),
        ),
        Sort::CreatedAscending => query.filter(created_at.ge(created)).filter(
            created_at
                .gt(created)
                .or(created_at.eq(created).and(id.gt(after))),
        ),
        Sort::UpdatedDescending => query.filter(updated_at.le(updated)).filter(
            updated_at
                .lt(updated)
                .or(updated_at.eq(updated).and(id.lt(after))),
        ),
        Sort::UpdatedAscending => query.filter(updated_at.ge(updated)).filter(
            updated_at
                .gt(updated)
                .or(updated_at.eq(updated).and(id.gt(after))),
        ),
    }
}

pub(super) fn in_order(
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

/// A condition on customers, built at run time.
pub(super) type Filter = Box<dyn BoxableExpression<customers::table, Db, SqlType = Bool>>;

/// The customers that match the list's filters and search term, as a query.
pub(super) fn matching(
    tenant: Tenant,
    params: &ListParams,
    custom_fields: &[CustomFieldFilter],
) -> customers::BoxedQuery<'static, Db> {
    customers::table
        .filter(matching_condition(tenant, params, custom_fields))
        .into_boxed()
}

/// The customers (live ones, unless the list includes deleted ones) that
/// match the list's filters and search term. A condition rather than a
/// query, so that reports can group what it selects (a boxed query cannot
/// be grouped).
pub(super) fn matching_condition(
    tenant: Tenant,
    params: &ListParams,
    custom_fields: &[CustomFieldFilter],
) -> Filter {
    let mut all: Vec<Filter> = match params.reads_deleted() {
        false => vec![Box::new(live(tenant))],
        true => vec![Box::new(of(tenant))],
    };
    for (field, value) in custom_fields {
        // Through the side table's primary key: as cheap as the email
        // filter, however large the organization.
        let holders = custom_field_values::table
            .filter(custom_field_values::organization_id.eq(tenant.organization_id))
            .filter(custom_field_values::field.eq(field.clone()))
            .filter(custom_field_values::value.eq(value.clone()))
            .select(custom_field_values::customer_id);
        all.push(Box::new(customers::id.eq_any(holders)));
    }
    // Columns that are null never match a value; saying they are not null
    // keeps each comparison a plain boolean (it adds nothing to the SQL).
    if let Some(external_id) = &params.external_id {
        let value = external_id.as_str().to_owned();
        all.push(Box::new(customers::external_id.assume_not_null().eq(value)));
    }
    if let Some(email) = &params.email {
        all.push(Box::new(
            customers::email_search.assume_not_null().eq(email.clone()),
        ));
    }
    let deleted_at = customers::deleted_at.assume_not_null();
    if let Some(from) = params.created_from {
        all.push(Box::new(customers::created_at.ge(from.naive())));
    }
    if let Some(to) = params.created_to {
        all.push(Box::new(customers::created_at.lt(to.naive())));
    }
    if let Some(from) = params.updated_from {
        all.push(Box::new(customers::updated_at.ge(from.naive())));
    }
    if let Some(to) = params.updated_to {
        all.push(Box::new(customers::updated_at.lt(to.naive())));
    }
    if let Some(from) = params.deleted_from {
        all.push(Box::new(deleted_at.ge(from.naive())));
    }
    if let Some(to) = params.deleted_to {
        all.push(Box::new(deleted_at.lt(to.naive())));
    }
    if let Some(term) = &params.search {
        // A cached prepared `LIKE '%term%'` switches to a generic plan after
        // five runs, and that plan cannot use the trigram index (45 against
        // 6,700 searches a second on 500,000 customers). A literal fragment
        // makes Diesel prepare a search afresh each time (unnamed), and
        // PostgreSQL then plans it for the actual term, on Citus workers
        // too, without a transaction around it.
        all.push(Box::new(dsl::sql::<Bool>("TRUE")));
        let text = contains(&term.text);
        let in_name_or_email = customers::name_search
            .assume_not_null()
            .like(text.clone())
            .escape('\\')
            .or(customers::email_search
                .assume_not_null()
                .like(text)
                .escape('\\'));
        all.push(match &term.digits {
            Some(digits) => Box::new(
                in_name_or_email.or(customers::phone_search
                    .assume_not_null()
                    .like(contains(digits))
                    .escape('\\')),
            ),
            None => Box::new(in_name_or_email),
        });
    }
    all.into_iter()
        .reduce(|all, one| Box::new(all.and(one)))
        .expect("the tenant's condition is always there")
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
