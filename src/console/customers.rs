//! The customers pages: the list (search, filters, sorts, cursor pages,
//! bulk delete and export), a customer with its timeline, the create and
//! edit forms, delete, restore and erase. Each calls the store functions
//! the API calls, in the same idempotent transactions, with the person as
//! actor.

use std::collections::HashMap;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::{Map, Value};

use super::customer_form::{self, Input};
use super::filters::{self, Filter};
use super::form::{self, Pairs};
use super::session::{Chrome, PageError, Signed, render};
use super::shown;
use super::sign_in::see_other;
use crate::api::lifecycle::RestoreWindow;
use crate::auth::Tenant;
use crate::auth::keys::random_hex;
use crate::domain::InvalidField;
use crate::domain::audit::{Action, Target};
use crate::domain::custom_fields::Definitions;
use crate::domain::customer::{Customer, CustomerChanges, FieldSet, Refused};
use crate::domain::ids::CustomerId;
use crate::domain::listing::{Cursor, ListParams};
use crate::domain::preconditions::{Condition, etag};
use crate::domain::reports::{ExportFormat, encode};
use crate::domain::scopes::Scope;
use crate::error::ApiError;
use crate::store::custom_fields::DefinitionCache;
use crate::store::feed::{deliveries, events};
use crate::store::{Database, StoreError, audit, customers, listing};

/// The sorts, as the list's select offers them.
const SORTS: [(&str, &str); 4] = [
    ("-createdTime", "Newest first"),
    ("createdTime", "Oldest first"),
    ("-updatedTime", "Recently updated first"),
    ("updatedTime", "Least recently updated first"),
];

/// The list's parameters that place a page rather than filter the list.
const PLACING: [&str; 3] = ["startingAfter", "endingBefore", "offset"];

/// A customer as a row of the list.
struct Row {
    id: CustomerId,
    name: String,
    email: String,
    phone: String,
    country: String,
    created: String,
    deleted: String,
}

impl Row {
    fn of(customer: &Customer) -> Self {
        Self {
            id: customer.id,
            name: display_name(customer),
            email: customer.email.clone().unwrap_or_default(),
            phone: customer.phone_number.clone().unwrap_or_default(),
            country: customer
                .address
                .as_ref()
                .and_then(|a| a.country.clone())
                .unwrap_or_default(),
            created: shown(customer.created_time),
            deleted: customer.deleted_time.map(shown).unwrap_or_default(),
        }
    }
}

/// How a customer is named on a page: their name, else their email, else
/// their id.
fn display_name(customer: &Customer) -> String {
    let name = [&customer.first_name, &customer.last_name]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(" ");
    match (name.is_empty(), &customer.email) {
        (false, _) => name,
        (true, Some(email)) => email.clone(),
        (true, None) => customer.id.to_string(),
    }
}

#[derive(Template)]
#[template(path = "customers.html")]
struct ListPage {
    chrome: Chrome,
    csrf: String,
    search: String,
    search_error: Option<String>,
    filters: Vec<Filter>,
    sorts: Vec<(&'static str, &'static str, bool)>,
    include_total: bool,
    include_deleted: bool,
    may_read_deleted: bool,
    may_write: bool,
    may_export: bool,
    problems: Vec<String>,
    notice: Option<String>,
    rows: Vec<Row>,
    total: Option<i64>,
    previous: Option<String>,
    next: Option<String>,
}

impl ListPage {
    /// Whether a filter beyond the search is set (its box starts open).
    fn filtered(&self) -> bool {
        self.include_deleted || filters::any_set(&self.filters)
    }
}

/// `GET /console/customers`: the list's query is the API's
/// (`GET …/customers`), so a page's address can be shared and its filters
/// are judged by the same parser.
pub async fn list(
    req: HttpRequest,
    signed: Signed,
    db: web::Data<Database>,
    cache: web::Data<DefinitionCache>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.reading(&req, &db, Scope::CustomersRead).await?;
    let principal = signed.principal()?;
    let definitions = cache.get(&db, tenant.organization_id).await?;
    let pairs: Vec<(String, String)> = form::filters(req.query_string())
        .into_iter()
        .filter(|(name, _)| name != "done")
        .collect();
    let mut page = ListPage {
        chrome: Chrome::signed("Customers", &signed, "customers"),
        csrf: signed.csrf(),
        search: value_of(&pairs, "q"),
        search_error: None,
        filters: filters::inputs(&pairs, &definitions),
        sorts: Vec::new(),
        include_total: value_of(&pairs, "includeTotal") == "true",
        include_deleted: value_of(&pairs, "includeDeleted") == "true",
        may_read_deleted: principal.require(Scope::ReportsRead).is_ok(),
        may_write: !principal.read_only() && principal.require(Scope::CustomersWrite).is_ok(),
        may_export: principal.require(Scope::ReportsRead).is_ok(),
        problems: Vec::new(),
        notice: done_notice(req.query_string()),
        rows: Vec::new(),
        total: None,
        previous: None,
        next: None,
    };
    let sort = value_of(&pairs, "sort");
    page.sorts = SORTS
        .iter()
        .map(|(value, label)| {
            (
                *value,
                *label,
                sort == *value || (sort.is_empty() && *value == "-createdTime"),
            )
        })
        .collect();
    let params = match ListParams::parse(&pairs) {
        Ok(params) => params,
        Err(invalid) => return refused_filters(page, invalid),
    };
    if params.reads_deleted() {
        principal.require(Scope::ReportsRead)?;
    }
    let cursor = params.cursor();
    let listed = listing::page(&db, &cache, tenant, params, &signed.audit(&req)).await?;
    let listed = match listed {
        Ok(listed) => listed,
        Err(invalid) => return refused_filters(page, invalid),
    };
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(name, _)| !PLACING.contains(&name.as_str()))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let link = |cursor: &str, id: CustomerId| {
        let id = id.to_string();
        let mut query = kept.clone();
        query.push((cursor, &id));
        format!("/console/customers?{}", form::encode(query))
    };
    let (first, last) = (listed.customers.first(), listed.customers.last());
    let (more_before, more_after) = match cursor {
        None => (false, listed.has_more),
        Some(Cursor::After(_)) => (true, listed.has_more),
        Some(Cursor::Before(_)) => (listed.has_more, true),
    };
    page.previous = first
        .filter(|_| more_before)
        .map(|c| link("endingBefore", c.id));
    page.next = last
        .filter(|_| more_after)
        .map(|c| link("startingAfter", c.id));
    page.rows = listed.customers.iter().map(Row::of).collect();
    page.total = listed.total;
    render(StatusCode::OK, &page)
}

/// The list page with the filters' refusals next to them (422).
fn refused_filters(
    mut page: ListPage,
    invalid: Vec<InvalidField>,
) -> Result<HttpResponse, PageError> {
    let (search, rest): (Vec<_>, Vec<_>) = invalid.into_iter().partition(|p| p.field == "q");
    page.search_error = search.into_iter().next().map(|p| p.message);
    page.problems = filters::place(&mut page.filters, rest);
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

fn value_of(pairs: &[(String, String)], name: &str) -> String {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The notice of a bulk action the list returns to (`done=deleted-3`):
/// made from a known word and a number, never from text in the address.
fn done_notice(query: &str) -> Option<String> {
    let done = form::decode(query.as_bytes())
        .into_iter()
        .find(|(name, _)| name == "done")?
        .1;
    let (what, count) = done.split_once('-')?;
    let count: usize = count.parse().ok()?;
    let plural = if count == 1 { "customer" } else { "customers" };
    match what {
        "deleted" => Some(format!("Deleted {count} {plural}.")),
        _ => None,
    }
}

/// `POST /console/customers/bulk`: the selected rows (`ids`) deleted, or
/// exported as CSV.
pub async fn bulk(
    req: HttpRequest,
    signed: Signed,
    pairs: Pairs,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(pairs.get("csrf"))?;
    let ids: Vec<CustomerId> = pairs.all("ids").filter_map(CustomerId::parse).collect();
    let back = form::back(pairs.get("back")).to_owned();
    let by = signed.audit(&req);
    match pairs.get("action") {
        "delete" => {
            let tenant = signed.changing(Scope::CustomersWrite)?;
            let deleted = db
                .transaction(move |conn| {
                    let mut deleted = 0;
                    for id in &ids {
                        match customers::delete(conn, tenant, *id, None, &by) {
                            Ok(_) => deleted += 1,
                            // Deleted meanwhile: nothing left to do.
                            Err(StoreError::Refused(_)) => {}
                            Err(error) => return Err(error),
                        }
                    }
                    Ok(deleted)
                })
                .await?;
            let joiner = if back.contains('?') { '&' } else { '?' };
            Ok(see_other(&format!("{back}{joiner}done=deleted-{deleted}")))
        }
        "export" => {
            let tenant = signed.reading(&req, &db, Scope::ReportsRead).await?;
            let selected = db
                .transaction(move |conn| {
                    let target = Target::many("customers");
                    audit::record(conn, tenant, &by, Action::CustomersExported, target, None)?;
                    customers::live_among(conn, tenant, ids.clone())
                })
                .await?;
            Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"customers-selected.csv\"",
                ))
                .body(encode(ExportFormat::Csv, &selected, true)))
        }
        _ => Err(ApiError::Invalid(vec![InvalidField {
            field: "action".into(),
            message: "must be delete or export".into(),
        }])
        .into()),
    }
}

/// One event of a customer's timeline, with its deliveries' outcomes.
struct Moment {
    id: String,
    kind: &'static str,
    time: String,
    fields: String,
    deliveries: Vec<Delivery>,
}

struct Delivery {
    endpoint: String,
    attempt: i32,
    outcome: String,
    status: String,
    time: String,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct DetailPage {
    chrome: Chrome,
    csrf: String,
    id: CustomerId,
    name: String,
    facts: Vec<(String, String)>,
    deleted: Option<String>,
    erased: bool,
    show_fields: bool,
    may_write: bool,
    may_erase: bool,
    key: String,
    erase_error: Option<String>,
    timeline: Vec<Moment>,
    more_events: bool,
}

/// How many events of a customer its page shows.
const TIMELINE: i64 = 50;

/// `GET /console/customers/{id}`: every field, and what happened to the
/// customer, newest first, with each event's deliveries.
pub async fn detail(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.reading(&req, &db, Scope::CustomersRead).await?;
    let id = CustomerId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    detail_page(&signed, &db, tenant, id, StatusCode::OK, None).await
}

async fn detail_page(
    signed: &Signed,
    db: &Database,
    tenant: Tenant,
    id: CustomerId,
    status: StatusCode,
    erase_error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let principal = signed.principal()?;
    let (customer, (events, more), attempts) = db
        .read(move |conn| {
            let customer = customers::find_any(conn, tenant, id)?
                .ok_or(crate::domain::refusal::Refusal::NotFound)?;
            let events = events::newest(conn, tenant, None, Some(id), TIMELINE)?;
            let ids = events.0.iter().map(|(_, e)| e.id).collect();
            let attempts = deliveries::attempts_at(conn, tenant, ids)?;
            Ok((customer, events, attempts))
        })
        .await?;
    let mut by_event: HashMap<String, Vec<Delivery>> = HashMap::new();
    for (endpoint, attempt) in attempts {
        by_event
            .entry(attempt.event_id.to_string())
            .or_default()
            .push(Delivery {
                endpoint: endpoint.to_string(),
                attempt: attempt.attempt,
                outcome: attempt.outcome,
                status: attempt
                    .status
                    .map(|s| s.to_string())
                    .or(attempt.error)
                    .unwrap_or_default(),
                time: shown(crate::domain::time::Time::from_stored(attempt.created_at)),
            });
    }
    let timeline = events
        .into_iter()
        .map(|(_, event)| {
            let data: Value = serde_json::from_str(event.data.get()).unwrap_or_default();
            let fields = data["previousAttributes"]
                .as_object()
                .map(|changed| changed.keys().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            Moment {
                deliveries: by_event.remove(&event.id.to_string()).unwrap_or_default(),
                id: event.id.to_string(),
                kind: event.r#type,
                time: shown(event.created_time),
                fields,
            }
        })
        .collect();
    // A deleted customer's fields are reporting's (as includeDeleted is).
    let deleted = customer.deleted_time.map(shown);
    let show_fields = deleted.is_none() || principal.require(Scope::ReportsRead).is_ok();
    let page = DetailPage {
        chrome: Chrome::signed(display_name(&customer), signed, "customers"),
        csrf: signed.csrf(),
        id,
        name: display_name(&customer),
        facts: facts(&customer),
        erased: customer.erased_time.is_some(),
        deleted,
        show_fields,
        may_write: !principal.read_only() && principal.require(Scope::CustomersWrite).is_ok(),
        may_erase: !principal.read_only() && principal.require(Scope::CustomersErase).is_ok(),
        key: random_hex(16),
        erase_error,
        timeline,
        more_events: more,
    };
    render(status, &page)
}

/// Every field of a customer, as label and text, in the form's order.
fn facts(customer: &Customer) -> Vec<(String, String)> {
    let json = serde_json::to_value(customer).unwrap_or_default();
    let text = |value: &Value| match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    let mut facts = vec![("Id".to_owned(), customer.id.to_string())];
    for input in customer_form::inputs(&Definitions::default()) {
        let value = match input.name.split_once('.') {
            Some((outer, inner)) => &json[outer][inner],
            None => &json[input.name.as_str()],
        };
        facts.push((input.label, text(value)));
    }
    if let Some(custom) = json["customFields"].as_object() {
        for (name, value) in custom {
            facts.push((name.clone(), text(value)));
        }
    }
    facts.push(("Revision".into(), customer.revision.to_string()));
    facts.push(("Created".into(), shown(customer.created_time)));
    facts.push(("Updated".into(), shown(customer.updated_time)));
    facts
}

#[derive(Template)]
#[template(path = "customer_form.html")]
struct FormPage {
    chrome: Chrome,
    csrf: String,
    heading: String,
    action: String,
    /// The revision the edit form was opened at (the If-Match it sends).
    revision: Option<i32>,
    key: String,
    inputs: Vec<Input>,
    problems: Vec<String>,
    cancel: String,
}

impl FormPage {
    /// Whether a field was refused.
    fn field_errors(&self) -> bool {
        self.inputs.iter().any(|i| i.error.is_some())
    }
}

/// `GET /console/customers/new`
pub async fn new(
    signed: Signed,
    db: web::Data<Database>,
    cache: web::Data<DefinitionCache>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.changing(Scope::CustomersWrite)?;
    let definitions = cache.get(&db, tenant.organization_id).await?;
    let page = FormPage {
        chrome: Chrome::signed("New customer", &signed, "customers"),
        csrf: signed.csrf(),
        heading: "New customer".into(),
        action: "/console/customers".into(),
        revision: None,
        key: random_hex(16),
        inputs: customer_form::inputs(&definitions),
        problems: Vec::new(),
        cancel: "/console/customers".into(),
    };
    render(StatusCode::OK, &page)
}

/// `GET /console/customers/{id}/edit`
pub async fn edit(
    signed: Signed,
    id: web::Path<String>,
    db: web::Data<Database>,
    cache: web::Data<DefinitionCache>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.changing(Scope::CustomersWrite)?;
    let id = CustomerId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let definitions = cache.get(&db, tenant.organization_id).await?;
    let customer = db
        .run(move |conn| customers::find(conn, tenant, id))
        .await?
        .ok_or(ApiError::NOT_FOUND)?;
    let page = FormPage {
        chrome: Chrome::signed(
            format!("Edit {}", display_name(&customer)),
            &signed,
            "customers",
        ),
        csrf: signed.csrf(),
        heading: format!("Edit {}", display_name(&customer)),
        action: format!("/console/customers/{id}"),
        revision: Some(customer.revision),
        key: random_hex(16),
        inputs: customer_form::filled(&definitions, &customer),
        problems: Vec::new(),
        cancel: format!("/console/customers/{id}"),
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/customers`: creates a customer; its page, or the form
/// again with each refusal next to its field.
pub async fn create(
    req: HttpRequest,
    signed: Signed,
    pairs: Pairs,
    db: web::Data<Database>,
    cache: web::Data<DefinitionCache>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::CustomersWrite)?;
    let definitions = cache.get(&db, tenant.organization_id).await?;
    let form = FormPage {
        chrome: Chrome::signed("New customer", &signed, "customers"),
        csrf: signed.csrf(),
        heading: "New customer".into(),
        action: "/console/customers".into(),
        revision: None,
        key: pairs.get("idempotency").to_owned(),
        inputs: customer_form::inputs(&definitions),
        problems: Vec::new(),
        cancel: "/console/customers".into(),
    };
    let by = signed.audit(&req);
    let sent = changes(&pairs, &definitions, true);
    let (body, changes) = match sent {
        Ok(sent) => sent,
        Err(error) => return refused_form(form, &pairs, error),
    };
    let written = form::idempotency(&req, &pairs)?
        .answer(&db, tenant, Some(&body), move |conn| {
            let customer = customers::create(conn, tenant, &changes, &by)?;
            Ok(crate::api::answers::customer(
                StatusCode::CREATED,
                &customer,
                true,
            ))
        })
        .await;
    match written {
        Ok((answer, _)) => Ok(see_other(&customer_page(&answer.body))),
        Err(error) => refused_form(form, &pairs, error),
    }
}

/// `POST /console/customers/{id}`: the edit form's changes, at the
/// revision it was opened at (412 says someone changed it meanwhile).
pub async fn update(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    pairs: Pairs,
    db: web::Data<Database>,
    cache: web::Data<DefinitionCache>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::CustomersWrite)?;
    let id = CustomerId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let definitions = cache.get(&db, tenant.organization_id).await?;
    let revision: Option<i32> = pairs.get("revision").parse().ok();
    let form = FormPage {
        chrome: Chrome::signed("Edit customer", &signed, "customers"),
        csrf: signed.csrf(),
        heading: "Edit customer".into(),
        action: format!("/console/customers/{id}"),
        revision,
        key: random_hex(16),
        inputs: customer_form::inputs(&definitions),
        problems: Vec::new(),
        cancel: format!("/console/customers/{id}"),
    };
    let by = signed.audit(&req);
    let (body, changes) = match changes(&pairs, &definitions, false) {
        Ok(sent) => sent,
        Err(error) => return refused_form(form, &pairs, error),
    };
    let expected = revision.and_then(|r| Condition::parse(&etag(r)));
    let written = form::idempotency(&req, &pairs)?
        .answer(&db, tenant, Some(&body), move |conn| {
            let customer = customers::update(conn, tenant, id, &changes, expected.as_ref(), &by)?;
            Ok(crate::api::answers::customer(
                StatusCode::OK,
                &customer,
                false,
            ))
        })
        .await;
    match written {
        Ok(_) => Ok(see_other(&format!("/console/customers/{id}"))),
        Err(error) => refused_form(form, &pairs, error),
    }
}

/// The body a form stands for, and the changes the API's parser reads in
/// it (a person may change every field); every refused field at once,
/// the form's own (JSON that is not JSON) with the parser's.
fn changes(
    pairs: &Pairs,
    definitions: &Definitions,
    creating: bool,
) -> Result<(Map<String, Value>, CustomerChanges), ApiError> {
    let (body, mut invalid) = customer_form::body(pairs, definitions, creating);
    match CustomerChanges::from_json(&body, FieldSet::all(), definitions) {
        Ok(changes) if invalid.is_empty() => Ok((body, changes)),
        Ok(_) => Err(ApiError::Invalid(invalid)),
        Err(Refused::Invalid(more)) => {
            invalid.extend(more);
            Err(ApiError::Invalid(invalid))
        }
        Err(Refused::Forbidden(fields)) => Err(ApiError::ForbiddenFields(fields)),
    }
}

/// The form again, as sent, with what was refused: each field's message
/// next to it (422), or the refusal above the form (409, 412).
fn refused_form(
    mut form: FormPage,
    pairs: &Pairs,
    error: ApiError,
) -> Result<HttpResponse, PageError> {
    customer_form::refill(&mut form.inputs, pairs);
    let status = error.status();
    match error {
        ApiError::Invalid(invalid) => {
            form.problems = customer_form::place(&mut form.inputs, invalid);
        }
        ApiError::Refused(crate::domain::refusal::Refusal::RevisionMismatch { .. }) => {
            form.problems.push(
                "Someone changed this customer after you opened the form: open it again to see their change.".into(),
            );
        }
        error @ ApiError::Refused(crate::domain::refusal::Refusal::ExternalIdTaken { .. }) => {
            if let Some(input) = form.inputs.iter_mut().find(|i| i.name == "externalId") {
                input.error = Some(error.to_string());
            }
        }
        other @ (ApiError::Refused(_)
        | ApiError::IdempotencyKeyInUse
        | ApiError::IdempotencyKeyReused) => {
            form.problems.push(other.to_string());
        }
        other => return Err(other.into()),
    }
    if form.problems.is_empty() && form.inputs.iter().all(|i| i.error.is_none()) {
        form.problems.push("The form was refused.".into());
    }
    render(status, &form)
}

/// The console page of the customer a kept answer holds.
fn customer_page(body: &str) -> String {
    let id = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_owned))
        .unwrap_or_default();
    format!("/console/customers/{id}")
}

/// `POST /console/customers/{id}/delete`
pub async fn delete(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    pairs: Pairs,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::CustomersWrite)?;
    let id = CustomerId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let by = signed.audit(&req);
    form::idempotency(&req, &pairs)?
        .answer(&db, tenant, None, move |conn| {
            customers::delete(conn, tenant, id, None, &by)?;
            Ok(crate::api::answers::no_content())
        })
        .await?;
    Ok(see_other(&format!("/console/customers/{id}")))
}

/// `POST /console/customers/{id}/restore`
pub async fn restore(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    pairs: Pairs,
    db: web::Data<Database>,
    window: web::Data<RestoreWindow>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::CustomersWrite)?;
    let id = CustomerId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let by = signed.audit(&req);
    let window = window.0;
    form::idempotency(&req, &pairs)?
        .answer(&db, tenant, None, move |conn| {
            let customer = customers::restore(conn, tenant, id, None, window, &by)?;
            Ok(crate::api::answers::customer(
                StatusCode::OK,
                &customer,
                false,
            ))
        })
        .await?;
    Ok(see_other(&format!("/console/customers/{id}")))
}

/// `POST /console/customers/{id}/erase`: only once the person typed the
/// customer's id (`confirm`); else the page again, saying so (422).
pub async fn erase(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    pairs: Pairs,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::CustomersErase)?;
    let id = CustomerId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    if pairs.get("confirm").trim() != id.to_string() {
        let error = "Type the customer's id exactly to erase it.".to_owned();
        return detail_page(
            &signed,
            &db,
            tenant,
            id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(error),
        )
        .await;
    }
    let by = signed.audit(&req);
    form::idempotency(&req, &pairs)?
        .answer(&db, tenant, None, move |conn| {
            customers::erase(conn, tenant, id, None, &by)?;
            Ok(crate::api::answers::no_content())
        })
        .await?;
    Ok(see_other(&format!("/console/customers/{id}")))
}
