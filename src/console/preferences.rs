//! How a person looks at the console: test mode or live (a session's
//! setting, which every page and `/console/api` follow), the theme (a
//! cookie of the browser), and, for a platform operator, which
//! organization they look at.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::{HttpResponse, web};

use super::form::{self, Pairs};
use super::session::{ConsoleSettings, PageError, Signed, THEME, preference_cookie};
use super::sign_in::see_other;
use crate::domain::ids::OrganizationId;
use crate::domain::people::Role;
use crate::error::ApiError;
use crate::store::{Database, organizations, sessions};

/// `POST /console/mode`: flips the session between live and test data,
/// then back to the page it was sent from.
pub async fn mode(
    signed: Signed,
    pairs: Pairs,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(pairs.get("csrf"))?;
    let (id, livemode) = (
        signed.session_id().to_owned(),
        !signed.found.session.livemode,
    );
    db.run(move |conn| sessions::set_livemode(conn, &id, livemode))
        .await?;
    Ok(see_other(form::back(pairs.get("back"))))
}

/// `POST /console/theme`: `light`, `dark`, or `system` (the cookie goes).
pub async fn theme(
    signed: Signed,
    pairs: Pairs,
    settings: web::Data<ConsoleSettings>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(pairs.get("csrf"))?;
    let mut answer = see_other(form::back(pairs.get("back")));
    let value = match pairs.get("theme") {
        theme @ ("light" | "dark") => theme,
        _ => "",
    };
    let age = CookieDuration::days(400);
    let mut cookie = preference_cookie(THEME, value.to_owned(), &settings, age);
    if value.is_empty() {
        cookie.make_removal();
    }
    answer
        .add_cookie(&cookie)
        .map_err(|e| ApiError::Internal(format!("a cookie did not fit: {e}")))?;
    Ok(answer)
}

/// `POST /console/organizations/{id}/view`: an operator looks at an
/// organization (read only) until they choose another or none
/// (`/console/organizations/none/view`).
pub async fn view(
    signed: Signed,
    id: web::Path<String>,
    pairs: Pairs,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(pairs.get("csrf"))?;
    if signed.found.user.role != Role::Operator {
        return Err(PageError::Problem(ApiError::Forbidden(
            "Only platform operators look at other organizations.",
        )));
    }
    let organization = match id.as_str() {
        "none" => None,
        id => Some(OrganizationId::parse(id).ok_or(ApiError::NOT_FOUND)?),
    };
    let session = signed.session_id().to_owned();
    db.run(move |conn| {
        if let Some(org) = organization
            && !organizations::exists(conn, org)?
        {
            return Err(crate::domain::refusal::Refusal::NotFound.into());
        }
        sessions::view(conn, &session, organization)
    })
    .await?;
    Ok(see_other(match organization {
        Some(_) => "/console/customers",
        None => "/console/organizations",
    }))
}
