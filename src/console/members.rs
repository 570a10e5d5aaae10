//! An organization's members (owners): invite, change roles, disable.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::session::{Chrome, ConsoleSettings, PageError, Signed, render};
use super::sign_in::see_other;
use crate::auth::people;
use crate::domain::contact::Email;
use crate::domain::ids::{OrganizationId, UserId};
use crate::domain::people::Role;
use crate::domain::scopes::Scope;
use crate::error::ApiError;
use crate::store::{Database, StoreError, users};

/// A member as the page lists them.
struct Row {
    id: UserId,
    email: String,
    role: &'static str,
    status: &'static str,
    two_step: bool,
}

#[derive(Template)]
#[template(path = "members.html")]
struct MembersPage {
    chrome: Chrome,
    csrf: String,
    members: Vec<Row>,
    roles: Vec<&'static str>,
    problem: Option<String>,
    invited_email: String,
    invite_link: Option<String>,
}

/// The signed-in owner's organization.
fn organization(signed: &Signed) -> Result<OrganizationId, PageError> {
    signed.require(Scope::MembersManage)?;
    signed
        .found
        .user
        .organization_id
        .ok_or(PageError::Problem(ApiError::Forbidden(
            Scope::MembersManage.lacking(),
        )))
}

async fn page(
    signed: &Signed,
    db: &Database,
    status: StatusCode,
    problem: Option<String>,
    invited: Option<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let org = organization(signed)?;
    let listed = db.run(move |conn| users::list(conn, Some(org))).await?;
    let members = listed
        .into_iter()
        .map(|user| Row {
            id: user.id,
            status: match (user.disabled_time, user.joined_time) {
                (Some(_), _) => "disabled",
                (None, Some(_)) => "active",
                (None, None) => "invited",
            },
            email: user.email,
            role: user.role.as_str(),
            two_step: user.totp_secret.is_some(),
        })
        .collect();
    let (invited_email, invite_link) = match invited {
        Some((email, link)) => (email, Some(link)),
        None => (String::new(), None),
    };
    let page = MembersPage {
        chrome: Chrome::signed("Members", signed, "members"),
        csrf: signed.found.session.csrf.clone(),
        members,
        roles: Role::MEMBER_ROLES.iter().map(|r| r.as_str()).collect(),
        problem,
        invited_email,
        invite_link,
    };
    render(status, &page)
}

/// `GET /console/members`
pub async fn list(signed: Signed, db: web::Data<Database>) -> Result<HttpResponse, PageError> {
    page(&signed, &db, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
pub struct InviteForm {
    csrf: String,
    email: String,
    role: String,
}

/// A refusal the members page shows above the list (409s), or the error
/// page for anything else.
async fn refused(
    error: StoreError,
    signed: &Signed,
    db: &Database,
) -> Result<HttpResponse, PageError> {
    match error {
        StoreError::Refused(refusal) => {
            let error = ApiError::Refused(refusal);
            page(signed, db, error.status(), Some(error.to_string()), None).await
        }
        other => Err(other.into()),
    }
}

/// `POST /console/members`: invites a person; the page shows the link once.
pub async fn invite(
    req: HttpRequest,
    signed: Signed,
    form: web::Form<InviteForm>,
    db: web::Data<Database>,
    settings: web::Data<ConsoleSettings>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(&form.csrf)?;
    let org = organization(&signed)?;
    let email = match Email::parse(&form.email) {
        Ok(email) => email.as_str().to_owned(),
        Err(message) => {
            let problem = Some(format!("Email {message}."));
            return page(
                &signed,
                &db,
                StatusCode::UNPROCESSABLE_ENTITY,
                problem,
                None,
            )
            .await;
        }
    };
    let role = match Role::parse_member(&form.role) {
        Ok(role) => role,
        Err(message) => {
            let problem = Some(format!("Role {message}."));
            return page(
                &signed,
                &db,
                StatusCode::UNPROCESSABLE_ENTITY,
                problem,
                None,
            )
            .await;
        }
    };
    let by = signed.audit(&req);
    let invited = email.clone();
    let made = db
        .transaction(move |conn| people::invite(conn, Some(org), &invited, role, &by))
        .await;
    match made {
        Ok(invitation) => {
            let link = format!(
                "{}/console/invite/{}",
                settings.public_url,
                invitation.secret.expose_secret()
            );
            page(&signed, &db, StatusCode::OK, None, Some((email, link))).await
        }
        Err(error) => refused(error, &signed, &db).await,
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    csrf: String,
    role: String,
}

/// `POST /console/members/{id}/role`: a new role, from the member's next
/// request; an organization's last owner keeps theirs.
pub async fn change_role(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    form: web::Form<RoleForm>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(&form.csrf)?;
    let org = organization(&signed)?;
    let id = UserId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let role = Role::parse_member(&form.role).map_err(|message| {
        ApiError::Invalid(vec![crate::domain::InvalidField {
            field: "role".into(),
            message,
        }])
    })?;
    let by = signed.audit(&req);
    match db
        .transaction(move |conn| users::set_role(conn, org, id, role, &by))
        .await
    {
        Ok(_) => Ok(see_other("/console/members")),
        Err(error) => refused(error, &signed, &db).await,
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /console/members/{id}/disable`: the member's sessions end at once.
pub async fn disable(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(&form.csrf)?;
    let org = organization(&signed)?;
    let id = UserId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let by = signed.audit(&req);
    let done = db
        .transaction(move |conn| {
            users::member_of(conn, org, id)?;
            users::disable(conn, id, &by)
        })
        .await;
    match done {
        Ok(_) => Ok(see_other("/console/members")),
        Err(error) => refused(error, &signed, &db).await,
    }
}
