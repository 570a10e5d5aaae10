//! A person's session in the console: its cookies, the extractor every
//! signed-in page takes ([`Signed`]), the anti-forgery check of every
//! state-changing request, and how a page that cannot go on answers
//! ([`PageError`]).

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::Payload;
use actix_web::http::{StatusCode, header};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use askama::Template;

use std::sync::Arc;

use super::assets::{SCRIPT, STYLESHEET};
use crate::auth::middleware::record_operator_read;
use crate::auth::people::DEVICE_VALID;
use crate::auth::sign_in::person;
use crate::auth::{Authenticator, Principal, Tenant};
use crate::domain::audit::Audit;
use crate::domain::people::Role;
use crate::domain::scopes::Scope;
use crate::error::ApiError;
use crate::store::Database;
use crate::store::sessions::Found;
use crate::telemetry::origin_of;

pub use crate::auth::sign_in::{DEVICE_COOKIE as DEVICE, SESSION_COOKIE as SESSION};
/// The theme cookie's name: `light` or `dark`; absent, the system's.
pub const THEME: &str = "clientele_theme";

/// How the console's cookies are set.
#[derive(Debug, Clone)]
pub struct ConsoleSettings {
    /// `Secure` on every cookie (all but development on loopback).
    pub secure: bool,
    /// Where people reach the console: the base of invite links.
    pub public_url: String,
}

/// A cookie of the console: `HttpOnly`, `SameSite=Strict`, `Path=/console`,
/// `Secure` unless in development on loopback.
fn cookie(
    name: &'static str,
    value: String,
    settings: &ConsoleSettings,
    max_age: Option<CookieDuration>,
) -> Cookie<'static> {
    let mut cookie = Cookie::build(name, value)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/console")
        .secure(settings.secure)
        .finish();
    if let Some(age) = max_age {
        cookie.set_max_age(age);
    }
    cookie
}

/// A cookie of the browser's preferences (the theme), kept `age`.
pub fn preference_cookie(
    name: &'static str,
    value: String,
    settings: &ConsoleSettings,
    age: CookieDuration,
) -> Cookie<'static> {
    cookie(name, value, settings, Some(age))
}

/// The session cookie for `secret`, living as long as a session may.
pub fn session_cookie(
    secret: &str,
    settings: &ConsoleSettings,
    authenticator: &Authenticator,
) -> Cookie<'static> {
    let seconds = authenticator.session_timeouts().absolute.as_secs();
    let age = CookieDuration::seconds(i64::try_from(seconds).unwrap_or(i64::MAX));
    cookie(SESSION, secret.to_owned(), settings, Some(age))
}

/// The device cookie for a browser that just signed in.
pub fn device_cookie(value: String, settings: &ConsoleSettings) -> Cookie<'static> {
    let age = CookieDuration::seconds(i64::try_from(DEVICE_VALID.as_secs()).unwrap_or(i64::MAX));
    cookie(DEVICE, value, settings, Some(age))
}

/// A cookie that removes the session cookie.
pub fn cleared_session(settings: &ConsoleSettings) -> Cookie<'static> {
    let mut gone = cookie(SESSION, String::new(), settings, None);
    gone.make_removal();
    gone
}

/// The frame of every page: its title, the files, which navigation link
/// is current, the theme and mode, and who is signed in.
pub struct Chrome {
    pub title: String,
    pub css: &'static str,
    pub js: &'static str,
    pub current: &'static str,
    /// `narrow` for forms, empty for wide pages.
    pub width: &'static str,
    /// `system`, `light` or `dark` (the theme cookie).
    pub theme: &'static str,
    /// False while the console is switched to test mode.
    pub livemode: bool,
    /// This page's path and query, where the mode and theme forms return.
    pub back: String,
    pub who: Option<Who>,
}

/// The person a page is shown to, and which parts of the console they see
/// (each part is also refused by the server to anyone else). Customers and
/// Reports are in every page's navigation (contract section 14), whoever
/// may open them.
pub struct Who {
    pub email: String,
    pub role: &'static str,
    pub csrf: String,
    /// The organization's name, when the console shows one.
    pub organization: Option<String>,
    pub developers: bool,
    pub organization_pages: bool,
    pub operator: bool,
    pub read_only: bool,
}

impl Chrome {
    /// A page for someone not signed in.
    pub fn public(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            css: STYLESHEET.path(),
            js: SCRIPT.path(),
            current: "",
            width: "narrow",
            theme: "system",
            livemode: true,
            back: "/console".into(),
            who: None,
        }
    }

    /// A page for a signed-in person.
    pub fn signed(title: impl Into<String>, signed: &Signed, current: &'static str) -> Self {
        let user = &signed.found.user;
        let organization = signed.found.organization.as_ref();
        let shown = organization.is_some();
        Self {
            title: title.into(),
            css: STYLESHEET.path(),
            js: SCRIPT.path(),
            current,
            width: "",
            theme: signed.theme,
            livemode: signed.found.session.livemode,
            back: signed.back.clone(),
            who: Some(Who {
                email: user.email.clone(),
                role: user.role.as_str(),
                csrf: signed.found.session.csrf.clone(),
                organization: organization.map(|o| o.name.clone()),
                developers: shown
                    && (signed.may(Scope::EventsRead) || signed.may(Scope::KeysManage)),
                organization_pages: shown
                    && (signed.may(Scope::MembersManage) || signed.may(Scope::AuditRead)),
                operator: user.role == Role::Operator,
                read_only: user.role.read_only() && shown,
            }),
        }
    }
}

/// A page of its own that says one thing.
#[derive(Template)]
#[template(path = "message.html")]
pub struct Message {
    pub chrome: Chrome,
    pub heading: String,
    pub text: String,
    pub link: Option<(String, String)>,
}

/// Renders a page; a template that fails to render is a bug (500).
pub fn render(status: StatusCode, page: &impl Template) -> Result<HttpResponse, PageError> {
    let html = page.render().map_err(|e| {
        PageError::Problem(ApiError::Internal(format!("a page did not render: {e}")))
    })?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(html))
}

/// Why a console page cannot go on.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in (or the session ended): to the sign-in page.
    SignIn,
    /// Signed in, but two-step sign-in must be set up first.
    TwoStepFirst,
    /// A platform operator on an organization's page who looks at none:
    /// to the list of organizations, to choose one.
    ChooseOrganization,
    /// A refusal, shown as a page with its status.
    Problem(ApiError),
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        Self::Problem(error)
    }
}

impl From<crate::store::StoreError> for PageError {
    fn from(error: crate::store::StoreError) -> Self {
        Self::Problem(error.into())
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SignIn => f.write_str("sign in first"),
            Self::TwoStepFirst => f.write_str("set up two-step sign-in first"),
            Self::ChooseOrganization => f.write_str("choose an organization first"),
            Self::Problem(error) => error.fmt(f),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignIn | Self::TwoStepFirst | Self::ChooseOrganization => StatusCode::SEE_OTHER,
            Self::Problem(error) => error.status(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        let redirect = |to: &str| {
            HttpResponse::SeeOther()
                .insert_header((header::LOCATION, to))
                .finish()
        };
        match self {
            Self::SignIn => redirect("/console/sign-in"),
            Self::TwoStepFirst => redirect("/console/two-step"),
            Self::ChooseOrganization => redirect("/console/organizations"),
            Self::Problem(error) => {
                // The same status and headers (Retry-After, …) as the API's
                // answer, with a page instead of problem+json; its cause is
                // logged the same way.
                let mut answer = error.error_response();
                let page = Message {
                    chrome: Chrome::public(error.title()),
                    heading: error.title().to_owned(),
                    text: error.to_string(),
                    link: Some(("/console".into(), "Back to the console".into())),
                };
                if let Ok(html) = page.render() {
                    let head = answer.head_mut();
                    head.headers_mut().insert(
                        header::CONTENT_TYPE,
                        header::HeaderValue::from_static("text/html; charset=utf-8"),
                    );
                    answer = answer.set_body(actix_web::body::BoxBody::new(html));
                }
                answer
            }
        }
    }
}

/// A signed-in person's request: their session and account. Pages that
/// take it send everyone else to the sign-in page, and a member whose
/// organization requires two-step sign-in, without it, to its setup.
pub struct Signed {
    pub found: Arc<Found>,
    /// The session cookie's secret (to end this session, or keep it).
    pub cookie: String,
    /// The theme cookie's value.
    pub theme: &'static str,
    /// The request's path and query.
    pub back: String,
}

impl Signed {
    /// Refuses a state-changing request whose anti-forgery token is not the
    /// session's (403).
    pub fn check_csrf(&self, presented: &str) -> Result<(), PageError> {
        let expected = self.found.session.csrf.as_bytes();
        let presented = presented.as_bytes();
        let same = expected.len() == presented.len()
            && expected
                .iter()
                .zip(presented)
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0;
        match same {
            true => Ok(()),
            false => Err(PageError::Problem(ApiError::Forbidden(
                "The form was not sent from this session's console (anti-forgery token).",
            ))),
        }
    }

    /// Whether the person's role carries `scope`.
    pub fn may(&self, scope: Scope) -> bool {
        self.found.user.role.scopes().contains(scope)
    }

    /// Refuses (403) unless the person's role carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), PageError> {
        match self.may(scope) {
            true => Ok(()),
            false => Err(PageError::Problem(ApiError::Forbidden(scope.lacking()))),
        }
    }

    /// Who acts, for the audit log.
    pub fn audit(&self, req: &HttpRequest) -> Audit {
        Audit {
            actor: crate::store::users::actor_of(&self.found.user),
            origin: crate::telemetry::origin_of(req),
        }
    }

    /// The session's id (the digest of its cookie).
    pub fn session_id(&self) -> &str {
        &self.found.session.id
    }

    /// The anti-forgery token every form of the page carries.
    pub fn csrf(&self) -> String {
        self.found.session.csrf.clone()
    }

    /// What the person is in the organization the console shows (their
    /// own; the one an operator looks at), in the session's mode: the same
    /// principal the API sees under `/console/api`.
    pub fn principal(&self) -> Result<Principal, PageError> {
        let organization = self
            .found
            .organization
            .as_ref()
            .ok_or(PageError::ChooseOrganization)?;
        Ok(person(
            &self.found.session,
            &self.found.user,
            organization.id,
        ))
    }

    /// The tenant a page reads, when the role carries `scope` (403
    /// otherwise); a platform operator's read is in the organization's
    /// audit log first.
    pub async fn reading(
        &self,
        req: &HttpRequest,
        db: &Database,
        scope: Scope,
    ) -> Result<Tenant, PageError> {
        let principal = self.principal()?;
        principal.require(scope)?;
        if principal.read_only() {
            record_operator_read(db, &principal, origin_of(req)).await?;
        }
        Ok(principal.tenant())
    }

    /// The tenant a form that was sent changes: its anti-forgery token
    /// checked ([`Self::check_csrf`]), then as [`Self::changing`].
    pub fn form_changing(&self, csrf: &str, scope: Scope) -> Result<Tenant, PageError> {
        self.check_csrf(csrf)?;
        self.changing(scope)
    }

    /// The tenant a form changes, when the role carries `scope`; platform
    /// operators change nothing (403), as in the API.
    pub fn changing(&self, scope: Scope) -> Result<Tenant, PageError> {
        let principal = self.principal()?;
        if principal.read_only() {
            return Err(PageError::Problem(ApiError::Forbidden(
                "Platform operators read an organization's data; they do not change it.",
            )));
        }
        principal.require(scope)?;
        Ok(principal.tenant())
    }
}

/// The session a request's cookie names, fully signed in, if any.
pub async fn signed_in(req: &HttpRequest) -> Result<Option<Signed>, PageError> {
    let Some(cookie) = req.cookie(SESSION).map(|c| c.value().to_owned()) else {
        return Ok(None);
    };
    let authenticator = req
        .app_data::<web::Data<Authenticator>>()
        .ok_or_else(|| ApiError::Internal("no authenticator configured".into()))?;
    let found = authenticator.session(&cookie).await?;
    let theme = match req.cookie(THEME).as_ref().map(|c| c.value()) {
        Some("light") => "light",
        Some("dark") => "dark",
        _ => "system",
    };
    let back = match req.query_string() {
        "" => req.path().to_owned(),
        query => format!("{}?{query}", req.path()),
    };
    Ok(found.map(|found| Signed {
        found,
        cookie,
        theme,
        back,
    }))
}

impl FromRequest for Signed {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let signed = signed_in(&req).await?.ok_or(PageError::SignIn)?;
            if signed.found.session.pending {
                return Err(PageError::SignIn);
            }
            if signed.found.organization_disabled() {
                return Err(PageError::Problem(ApiError::Forbidden(
                    "The organization is disabled.",
                )));
            }
            let setting_up =
                req.path().starts_with("/console/two-step") || req.path() == "/console/sign-out";
            let required = signed.found.two_step_required();
            if required && signed.found.user.totp_secret.is_none() && !setting_up {
                return Err(PageError::TwoStepFirst);
            }
            Ok(signed)
        })
    }
}
