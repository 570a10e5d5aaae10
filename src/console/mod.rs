//! The console (contract section 14): pages for the people who run an
//! organization's customers, served by the same binary. Server-rendered
//! HTML from templates checked at compile time that escape every value; no
//! inline script or style, one stylesheet from the binary. Every page calls
//! the same domain and store code as the API, with the person as actor;
//! the console's scripts reach the API itself under `/console/api`
//! ([`crate::api::CONSOLE_API`]) with the person's session.

mod account;
pub mod assets;
mod custom_fields;
mod customer_form;
mod customers;
mod developers;
mod filters;
mod form;
mod keys;
mod members;
mod organization;
mod platform;
mod preferences;
pub mod reports;
pub mod session;
mod sign_in;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::Authenticator;
use crate::domain::scopes::Scope;
use crate::domain::time::Time;

use crate::http::{console_policy, no_store};
use session::{Chrome, Message, PageError, Signed, render};

/// The console's routes, under `/console`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/console")
            .wrap(from_fn(forget_sessions_after_changes))
            .wrap(from_fn(no_store))
            .wrap(from_fn(console_policy))
            .app_data(web::PayloadConfig::new(form::MAX_FORM_BYTES))
            .app_data(
                web::FormConfig::default()
                    .limit(16 * 1024)
                    .error_handler(form_error),
            )
            .route("", web::get().to(home))
            .route("/", web::get().to(home))
            .route("/sign-in", web::get().to(sign_in::page))
            .route("/sign-in", web::post().to(sign_in::submit))
            .route("/sign-in/code", web::post().to(sign_in::code))
            .route("/sign-out", web::post().to(sign_in::sign_out))
            .route("/invite/{secret}", web::get().to(account::invite))
            .route("/invite/{secret}", web::post().to(account::accept))
            .route("/account", web::get().to(account::account))
            .route("/two-step", web::get().to(account::two_step))
            .route("/two-step", web::post().to(account::enroll))
            .route("/two-step/remove", web::post().to(account::remove_two_step))
            .route("/password", web::get().to(account::password))
            .route("/password", web::post().to(account::change_password))
            .route(
                "/settings/two-step",
                web::post().to(account::require_two_step),
            )
            .route("/customers", web::get().to(customers::list))
            .route("/customers", web::post().to(customers::create))
            .route("/customers/new", web::get().to(customers::new))
            .route("/customers/bulk", web::post().to(customers::bulk))
            .route("/customers/{id}", web::get().to(customers::detail))
            .route("/customers/{id}", web::post().to(customers::update))
            .route("/customers/{id}/edit", web::get().to(customers::edit))
            .route("/customers/{id}/delete", web::post().to(customers::delete))
            .route(
                "/customers/{id}/restore",
                web::post().to(customers::restore),
            )
            .route("/customers/{id}/erase", web::post().to(customers::erase))
            .route("/reports", web::get().to(reports::page))
            .route("/developers", web::get().to(developers::home))
            .route("/developers/webhooks", web::get().to(developers::webhooks))
            .route(
                "/developers/webhooks",
                web::post().to(developers::create_endpoint),
            )
            .route(
                "/developers/webhooks/{id}",
                web::get().to(developers::endpoint),
            )
            .route(
                "/developers/webhooks/{id}/resend",
                web::post().to(developers::resend),
            )
            .route(
                "/developers/webhooks/{id}/enabled",
                web::post().to(developers::set_enabled),
            )
            .route(
                "/developers/webhooks/{id}/delete",
                web::post().to(developers::delete_endpoint),
            )
            .route("/developers/events", web::get().to(developers::feed_page))
            .route("/developers/keys", web::get().to(keys::list))
            .route("/developers/keys", web::post().to(keys::create))
            .route("/developers/keys/{id}/roll", web::post().to(keys::roll))
            .route("/developers/keys/{id}/revoke", web::post().to(keys::revoke))
            .route(
                "/developers/custom-fields",
                web::get().to(custom_fields::list),
            )
            .route(
                "/developers/custom-fields",
                web::post().to(custom_fields::create),
            )
            .route(
                "/developers/custom-fields/{name}/delete",
                web::post().to(custom_fields::delete),
            )
            .route("/organization", web::get().to(organization::page))
            .route("/mode", web::post().to(preferences::mode))
            .route("/theme", web::post().to(preferences::theme))
            .route(
                "/organizations/{id}/view",
                web::post().to(preferences::view),
            )
            .route("/members", web::get().to(members::list))
            .route("/members", web::post().to(members::invite))
            .route("/members/{id}/role", web::post().to(members::change_role))
            .route("/members/{id}/disable", web::post().to(members::disable))
            .route("/organizations", web::get().to(platform::list))
            .route("/organizations", web::post().to(platform::create))
            .route(
                "/organizations/{id}/disable",
                web::post().to(platform::disable),
            )
            .service(
                web::resource("/assets/{file}")
                    .wrap(from_fn(crate::http::cacheable))
                    .route(web::get().to(assets::serve)),
            )
            .default_service(web::to(not_found)),
    );
}

/// After a form of the console changed anything (a sign-out, a password, a
/// role, a mode), this instance forgets the sessions it cached, so the
/// change holds here from the next request; other instances see it within
/// their next look ([`crate::auth::Authenticator::watch_sessions`]).
async fn forget_sessions_after_changes<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let changes = req.method() != Method::GET && req.method() != Method::HEAD;
    let authenticator = req.app_data::<web::Data<Authenticator>>().cloned();
    let response = next.call(req).await?;
    if let (true, Some(authenticator)) = (changes, authenticator) {
        authenticator.forget_sessions();
    }
    Ok(response)
}

/// `GET /console`: where a signed-in person starts: the customers when
/// they may read them, the organizations for an operator looking at none.
async fn home(signed: Signed) -> HttpResponse {
    let start = match signed.principal() {
        Ok(principal) if principal.require(Scope::CustomersRead).is_ok() => "/console/customers",
        Ok(_) => "/console/account",
        Err(_) => "/console/organizations",
    };
    sign_in::see_other(start)
}

/// A time as pages show it: `2026-12-07 10:22 UTC`.
pub fn shown(time: Time) -> String {
    time.to_rfc3339()
        .get(..16)
        .map(|minute| format!("{} UTC", minute.replace('T', " ")))
        .unwrap_or_default()
}

/// A console path that serves nothing: a page, 404.
async fn not_found(_: HttpRequest) -> Result<HttpResponse, PageError> {
    let page = Message {
        chrome: Chrome::public("Not found"),
        heading: "Nothing is here".into(),
        text: "This address of the console serves no page.".into(),
        link: Some(("/console".into(), "Go to the console".into())),
    };
    render(actix_web::http::StatusCode::NOT_FOUND, &page)
}

/// A form that cannot be read: 400, or 413 past the limit.
fn form_error(error: actix_web::error::UrlencodedError, _: &HttpRequest) -> actix_web::Error {
    use actix_web::error::UrlencodedError as E;
    let problem = match error {
        E::Overflow { .. } => crate::error::ApiError::TOO_LARGE,
        E::ContentType => crate::error::ApiError::Malformed(
            "Send the form as application/x-www-form-urlencoded.".into(),
        ),
        _ => crate::error::ApiError::Malformed("The form could not be read.".into()),
    };
    PageError::Problem(problem).into()
}
