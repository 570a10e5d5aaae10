//! The platform operators' page: every organization with its live
//! customers, and creating and disabling organizations.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::session::{Chrome, PageError, Signed, render};
use super::sign_in::see_other;
use crate::auth::keys;
use crate::domain::ids::OrganizationId;
use crate::domain::people::Role;
use crate::error::ApiError;
use crate::store::{Database, organizations};

struct Row {
    id: OrganizationId,
    name: String,
    customers: i64,
    created: String,
    disabled: String,
}

#[derive(Template)]
#[template(path = "organizations.html")]
struct OrganizationsPage {
    chrome: Chrome,
    csrf: String,
    organizations: Vec<Row>,
    notice: Option<String>,
    /// The organization the operator looks at, by name.
    viewing: Option<String>,
}

fn operator(signed: &Signed) -> Result<(), PageError> {
    match signed.found.user.role {
        Role::Operator => Ok(()),
        _ => Err(PageError::Problem(ApiError::Forbidden(
            "Only platform operators see every organization.",
        ))),
    }
}

#[derive(Deserialize)]
pub struct Created {
    #[serde(default)]
    created: Option<String>,
}

/// `GET /console/organizations`
pub async fn list(
    signed: Signed,
    query: web::Query<Created>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    operator(&signed)?;
    let (listed, counts) = db
        .read(|conn| {
            Ok((
                organizations::list(conn)?,
                organizations::live_customer_counts(conn)?,
            ))
        })
        .await?;
    let organizations = listed
        .into_iter()
        .map(|org| Row {
            customers: counts.get(&org.id).copied().unwrap_or(0),
            id: org.id,
            name: org.name,
            created: org.created_time.to_rfc3339(),
            disabled: org
                .disabled_time
                .map(|t| t.to_rfc3339())
                .unwrap_or_default(),
        })
        .collect();
    let page = OrganizationsPage {
        chrome: Chrome::signed("Organizations", &signed, "organizations"),
        csrf: signed.found.session.csrf.clone(),
        viewing: signed.found.organization.as_ref().map(|o| o.name.clone()),
        organizations,
        notice: query
            .created
            .as_ref()
            .and_then(|id| OrganizationId::parse(id))
            .map(|id| format!("Created {id}. Invite its first owner with clientele user invite, or from its members page.")),
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct NewOrganization {
    csrf: String,
    name: String,
}

/// `POST /console/organizations`: a new organization with its first live
/// and test keys (their secrets are not shown: owners roll them).
pub async fn create(
    req: HttpRequest,
    signed: Signed,
    form: web::Form<NewOrganization>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(&form.csrf)?;
    operator(&signed)?;
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::Invalid(vec![crate::domain::InvalidField {
            field: "name".into(),
            message: "must be 1 to 200 characters".into(),
        }])
        .into());
    }
    let by = signed.audit(&req);
    let created = db
        .transaction(move |conn| keys::organization_with_keys(conn, &name, &by))
        .await?;
    Ok(see_other(&format!(
        "/console/organizations?created={}",
        created.organization_id
    )))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /console/organizations/{id}/disable`: its keys, tokens and members
/// are refused from then on.
pub async fn disable(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(&form.csrf)?;
    operator(&signed)?;
    let id = OrganizationId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let by = signed.audit(&req);
    db.transaction(move |conn| organizations::disable(conn, id, &by))
        .await?;
    Ok(see_other("/console/organizations"))
}
