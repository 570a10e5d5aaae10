//! The organization's page: its two-step requirement, a link to its
//! members, and the audit log with the API's filters.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::form;
use super::session::{Chrome, PageError, Signed, render};
use super::shown;
use crate::domain::audit::{Action, AuditParams};
use crate::domain::scopes::Scope;
use crate::store::{Database, audit};

struct Entry {
    time: String,
    action: String,
    actor: String,
    target: String,
    fields: String,
    request: String,
    ip: String,
}

/// One filter of the audit log, as its form shows it.
struct AuditFilter {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    value: String,
}

#[derive(Template)]
#[template(path = "organization.html")]
struct OrganizationPage {
    chrome: Chrome,
    csrf: String,
    name: String,
    id: String,
    two_step_required: bool,
    may_settings: bool,
    may_members: bool,
    may_audit: bool,
    actions: Vec<&'static str>,
    action: String,
    filters: Vec<AuditFilter>,
    problems: Vec<String>,
    entries: Vec<Entry>,
    older: Option<String>,
}

/// `GET /console/organization`: the audit log takes the API's query
/// (`action`, `actorId`, `targetId`, `from`, `to`, `startingAfter`).
pub async fn page(
    req: HttpRequest,
    signed: Signed,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let principal = signed.principal()?;
    let organization = signed
        .found
        .organization
        .clone()
        .ok_or(PageError::ChooseOrganization)?;
    let may_audit = principal.require(Scope::AuditRead).is_ok();
    let pairs = form::filters(req.query_string());
    let value = |name: &str| form::first(&pairs, name).to_owned();
    let day = |name: &str| form::day(&pairs, name);
    let mut page = OrganizationPage {
        chrome: Chrome::signed("Organization", &signed, "organization"),
        csrf: signed.csrf(),
        name: organization.name.clone(),
        id: organization.id.to_string(),
        two_step_required: organization.two_step_required,
        may_settings: !principal.read_only() && principal.require(Scope::SettingsManage).is_ok(),
        may_members: !principal.read_only() && principal.require(Scope::MembersManage).is_ok(),
        may_audit,
        actions: Action::ALL.iter().map(|a| a.as_str()).collect(),
        action: value("action"),
        filters: vec![
            AuditFilter {
                name: "actorId",
                label: "Actor id",
                kind: "text",
                value: value("actorId"),
            },
            AuditFilter {
                name: "targetId",
                label: "Target id",
                kind: "text",
                value: value("targetId"),
            },
            AuditFilter {
                name: "from",
                label: "On or after",
                kind: "date",
                value: day("from"),
            },
            AuditFilter {
                name: "to",
                label: "Before",
                kind: "date",
                value: day("to"),
            },
        ],
        problems: Vec::new(),
        entries: Vec::new(),
        older: None,
    };
    if !may_audit {
        return render(StatusCode::OK, &page);
    }
    let tenant = signed.reading(&req, &db, Scope::AuditRead).await?;
    let params = match AuditParams::parse(&pairs) {
        Ok(params) => params,
        Err(invalid) => {
            page.problems = invalid
                .into_iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect();
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let (events, more) = db
        .run(move |conn| audit::list(conn, tenant, &params))
        .await?;
    if let (true, Some(last)) = (more, events.last()) {
        let last = last.id.to_string();
        let kept = pairs
            .iter()
            .filter(|(n, _)| n != "startingAfter")
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .chain([("startingAfter", last.as_str())]);
        page.older = Some(format!("/console/organization?{}", form::encode(kept)));
    }
    page.entries = events
        .into_iter()
        .map(|event| Entry {
            time: shown(event.time),
            action: event.action,
            actor: [Some(event.actor.kind), event.actor.email.or(event.actor.id)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
            target: [Some(event.target.kind), event.target.id]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" "),
            fields: event.fields.unwrap_or_default().join(", "),
            request: event.request_id.unwrap_or_default(),
            ip: event.ip.unwrap_or_default(),
        })
        .collect();
    render(StatusCode::OK, &page)
}
