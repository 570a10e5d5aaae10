//! The developers' pages: webhook endpoints (the secret shown once), each
//! endpoint's delivery attempts with "Resend", and the event feed. API keys
//! and custom fields have pages of their own (`keys.rs`,
//! `custom_fields.rs`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde_json::{Map, Value, json};

use super::form::{self, Pairs};
use super::session::{Chrome, PageError, Signed, render};
use super::shown;
use super::sign_in::see_other;
use crate::api::webhooks::{WebhookSettings, changes};
use crate::auth::keys::random_hex;
use crate::domain::InvalidField;
use crate::domain::event::EventType;
use crate::domain::ids::{AttemptId, EndpointId, EventId};
use crate::domain::scopes::Scope;
use crate::domain::time::Time;
use crate::error::ApiError;
use crate::store::Database;
use crate::store::feed::{self, deliveries, endpoints, events};

/// The developers' sub-pages, as their navigation lists them.
pub struct Section {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The links of the developers' pages this person may open.
pub fn sections(signed: &Signed, current: &str) -> Vec<Section> {
    [
        (
            "/console/developers/webhooks",
            "Webhooks",
            Scope::WebhooksWrite,
        ),
        ("/console/developers/keys", "API keys", Scope::KeysManage),
        (
            "/console/developers/custom-fields",
            "Custom fields",
            Scope::CustomersRead,
        ),
        (
            "/console/developers/events",
            "Event feed",
            Scope::EventsRead,
        ),
    ]
    .into_iter()
    .filter(|(_, _, scope)| signed.may(*scope))
    .map(|(href, label, _)| Section {
        href,
        label,
        current: href == current,
    })
    .collect()
}

/// `GET /console/developers`: the first of its pages this person may open.
pub async fn home(signed: Signed) -> Result<HttpResponse, PageError> {
    let first = sections(&signed, "")
        .into_iter()
        .next()
        .ok_or(PageError::Problem(ApiError::Forbidden(
            "Developers' pages need a developer's or an owner's role.",
        )))?;
    Ok(see_other(first.href))
}

struct EndpointRow {
    id: EndpointId,
    url: String,
    events: String,
    description: String,
    enabled: bool,
    created: String,
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    chrome: Chrome,
    sections: Vec<Section>,
    csrf: String,
    key: String,
    endpoints: Vec<EndpointRow>,
    types: Vec<&'static str>,
    created: Option<(String, String)>,
    url: String,
    description: String,
    url_error: Option<String>,
    events_error: Option<String>,
    problems: Vec<String>,
    read_only: bool,
}

async fn webhooks_page(
    req: &HttpRequest,
    signed: &Signed,
    db: &Database,
    status: StatusCode,
    fill: impl FnOnce(&mut WebhooksPage),
) -> Result<HttpResponse, PageError> {
    let tenant = signed.reading(req, db, Scope::WebhooksWrite).await?;
    let listed = db.run(move |conn| endpoints::list(conn, tenant)).await?;
    let mut page = WebhooksPage {
        chrome: Chrome::signed("Webhooks", signed, "developers"),
        sections: sections(signed, "/console/developers/webhooks"),
        csrf: signed.csrf(),
        key: random_hex(16),
        endpoints: listed
            .iter()
            .map(|endpoint| EndpointRow {
                id: endpoint.id,
                url: endpoint.url.clone(),
                events: endpoint.subscription().names().join(", "),
                description: endpoint.description.clone().unwrap_or_default(),
                enabled: endpoint.enabled,
                created: shown(Time::from_stored(endpoint.created_at)),
            })
            .collect(),
        types: EventType::ALL.iter().map(|t| t.as_str()).collect(),
        created: None,
        url: String::new(),
        description: String::new(),
        url_error: None,
        events_error: None,
        problems: Vec::new(),
        read_only: signed.principal()?.read_only(),
    };
    fill(&mut page);
    render(status, &page)
}

/// `GET /console/developers/webhooks`
pub async fn webhooks(
    req: HttpRequest,
    signed: Signed,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    webhooks_page(&req, &signed, &db, StatusCode::OK, |_| {}).await
}

/// `POST /console/developers/webhooks`: a new endpoint, its secret on the
/// page that answers (and never again).
pub async fn create_endpoint(
    req: HttpRequest,
    signed: Signed,
    pairs: Pairs,
    db: web::Data<Database>,
    settings: web::Data<WebhookSettings>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::WebhooksWrite)?;
    let mut body = Map::new();
    body.insert("url".into(), json!(pairs.get("url").trim()));
    let events: Vec<&str> = pairs.all("events").collect();
    body.insert("events".into(), json!(events));
    let description = pairs.get("description").trim();
    if !description.is_empty() {
        body.insert("description".into(), json!(description));
    }
    let sent = (pairs.get("url").to_owned(), description.to_owned());
    let parsed = match changes(&body, true, &settings).await {
        Ok(parsed) => parsed,
        Err(error) => {
            return webhooks_page(&req, &signed, &db, error.status(), |page| {
                refused(page, error, sent)
            })
            .await;
        }
    };
    let secret = format!("whsec_{}", random_hex(32));
    let by = signed.audit(&req);
    let made = form::idempotency(&req, &pairs)?
        .answer(&db, tenant, Some(&body), move |conn| {
            let endpoint = endpoints::create(conn, tenant, &parsed, &secret, &by)?;
            let shown = json!({"id": endpoint.id, "secret": endpoint.secret});
            Ok(crate::api::answers::json(StatusCode::CREATED, &shown))
        })
        .await;
    match made {
        Ok((answer, _)) => {
            // A form sent twice shows the secret the first one made.
            let kept: Value = serde_json::from_str(&answer.body).unwrap_or_default();
            let text = |name: &str| kept[name].as_str().unwrap_or_default().to_owned();
            let created = (text("id"), text("secret"));
            webhooks_page(&req, &signed, &db, StatusCode::CREATED, |page| {
                page.created = Some(created)
            })
            .await
        }
        Err(error) => {
            webhooks_page(&req, &signed, &db, error.status(), |page| {
                refused(page, error, sent)
            })
            .await
        }
    }
}

/// The webhooks page again with what was sent and why it was refused.
fn refused(page: &mut WebhooksPage, error: ApiError, (url, description): (String, String)) {
    page.url = url;
    page.description = description;
    match error {
        ApiError::Invalid(invalid) => {
            for problem in invalid {
                match problem.field.split('[').next() {
                    Some("url") => page.url_error = Some(problem.message),
                    Some("events") => page.events_error = Some(problem.message),
                    _ => page
                        .problems
                        .push(format!("{}: {}", problem.field, problem.message)),
                }
            }
        }
        other => page.problems.push(other.to_string()),
    }
}

struct AttemptRow {
    event: EventId,
    attempt: i32,
    outcome: String,
    status: String,
    duration: i32,
    time: String,
}

#[derive(Template)]
#[template(path = "endpoint.html")]
struct EndpointPage {
    chrome: Chrome,
    sections: Vec<Section>,
    csrf: String,
    endpoint: EndpointRow,
    attempts: Vec<AttemptRow>,
    older: Option<String>,
    notice: Option<String>,
    read_only: bool,
}

/// How many attempts an endpoint's page lists.
const ATTEMPTS: i64 = 50;

/// `GET /console/developers/webhooks/{id}`: the endpoint and its attempts,
/// newest first, each with "Resend".
pub async fn endpoint(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.reading(&req, &db, Scope::WebhooksWrite).await?;
    let id = EndpointId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let query = form::decode(req.query_string().as_bytes());
    let after = query
        .iter()
        .find(|(n, _)| n == "startingAfter")
        .and_then(|(_, v)| AttemptId::parse(v));
    let resent = query.iter().any(|(n, v)| n == "done" && v == "resent");
    let (endpoint, (attempts, more)) = db
        .run(move |conn| {
            let endpoint = endpoints::find(conn, tenant, id)?
                .ok_or(crate::domain::refusal::Refusal::NotFound)?;
            Ok((
                endpoint,
                deliveries::attempts(conn, tenant, id, after, ATTEMPTS)?,
            ))
        })
        .await?;
    let older = attempts.last().filter(|_| more).map(|last| {
        format!(
            "/console/developers/webhooks/{id}?startingAfter={}",
            last.id
        )
    });
    let page = EndpointPage {
        chrome: Chrome::signed("Webhook endpoint", &signed, "developers"),
        sections: sections(&signed, "/console/developers/webhooks"),
        csrf: signed.csrf(),
        endpoint: EndpointRow {
            id: endpoint.id,
            url: endpoint.url.clone(),
            events: endpoint.subscription().names().join(", "),
            description: endpoint.description.clone().unwrap_or_default(),
            enabled: endpoint.enabled,
            created: shown(Time::from_stored(endpoint.created_at)),
        },
        attempts: attempts
            .into_iter()
            .map(|a| AttemptRow {
                event: a.event_id,
                attempt: a.attempt,
                outcome: a.outcome,
                status: a
                    .status
                    .map(|s| s.to_string())
                    .or(a.error)
                    .unwrap_or_default(),
                duration: a.duration_ms,
                time: shown(Time::from_stored(a.created_at)),
            })
            .collect(),
        older,
        notice: resent.then(|| "Sent again: a new attempt follows within seconds.".to_owned()),
        read_only: signed.principal()?.read_only(),
    };
    render(StatusCode::OK, &page)
}

/// `POST /console/developers/webhooks/{id}/resend`: the API's resend.
pub async fn resend(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    pairs: Pairs,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::WebhooksWrite)?;
    let id = EndpointId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let event = EventId::parse(pairs.get("eventId")).ok_or_else(|| {
        ApiError::Invalid(vec![InvalidField {
            field: "eventId".into(),
            message: "must be an event id (evt_…)".into(),
        }])
    })?;
    let by = signed.audit(&req);
    db.transaction(move |conn| deliveries::resend(conn, tenant, id, event, &by))
        .await?;
    Ok(see_other(&format!(
        "/console/developers/webhooks/{id}?done=resent"
    )))
}

/// `POST /console/developers/webhooks/{id}/enabled`: `enabled=true|false`.
pub async fn set_enabled(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    pairs: Pairs,
    db: web::Data<Database>,
    settings: web::Data<WebhookSettings>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::WebhooksWrite)?;
    let id = EndpointId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let mut body = Map::new();
    body.insert("enabled".into(), json!(pairs.get("enabled") == "true"));
    let parsed = changes(&body, false, &settings).await?;
    let by = signed.audit(&req);
    db.transaction(move |conn| feed::update_endpoint(conn, tenant, id, &parsed, &by))
        .await?;
    Ok(see_other(&format!("/console/developers/webhooks/{id}")))
}

/// `POST /console/developers/webhooks/{id}/delete`
pub async fn delete_endpoint(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    pairs: Pairs,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::WebhooksWrite)?;
    let id = EndpointId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let by = signed.audit(&req);
    db.transaction(move |conn| endpoints::delete(conn, tenant, id, &by))
        .await?;
    Ok(see_other("/console/developers/webhooks"))
}

struct EventRow {
    number: i64,
    id: EventId,
    kind: &'static str,
    customer: String,
    time: String,
}

#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage {
    chrome: Chrome,
    sections: Vec<Section>,
    events: Vec<EventRow>,
    older: Option<String>,
}

/// How many events the feed's page lists.
const EVENTS: i64 = 50;

/// `GET /console/developers/events`: the feed, newest first
/// (`before=<number>` for older ones).
pub async fn feed_page(
    req: HttpRequest,
    signed: Signed,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.reading(&req, &db, Scope::EventsRead).await?;
    let before = form::decode(req.query_string().as_bytes())
        .into_iter()
        .find(|(n, _)| n == "before")
        .and_then(|(_, v)| v.parse::<i64>().ok());
    let (listed, more) = db
        .run(move |conn| events::newest(conn, tenant, before, None, EVENTS))
        .await?;
    let older = listed
        .last()
        .filter(|_| more)
        .map(|(number, _)| format!("/console/developers/events?before={number}"));
    let page = EventsPage {
        chrome: Chrome::signed("Event feed", &signed, "developers"),
        sections: sections(&signed, "/console/developers/events"),
        events: listed
            .into_iter()
            .map(|(number, event)| EventRow {
                number,
                id: event.id,
                kind: event.r#type,
                customer: event.customer_id.to_string(),
                time: shown(event.created_time),
            })
            .collect(),
        older,
    };
    render(StatusCode::OK, &page)
}
