//! Signing in (email and password, then a code when two-step sign-in is
//! on), and signing out.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::session::{
    Chrome, ConsoleSettings, DEVICE, PageError, Signed, cleared_session, device_cookie, render,
    session_cookie, signed_in,
};
use crate::auth::Authenticator;
use crate::auth::keys::random_hex;
use crate::auth::sign_in::{Attempt, SignInError, new_session_secret};
use crate::domain::audit::{Action, Audit, Origin};
use crate::error::ApiError;
use crate::store::users::{self, User};
use crate::store::{Database, sessions};
use crate::telemetry::origin_of;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    email: String,
    problem: Option<String>,
    notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    chrome: Chrome,
    csrf: String,
    problem: Option<String>,
}

fn sign_in_page(
    status: StatusCode,
    email: &str,
    problem: Option<String>,
    notice: Option<&'static str>,
) -> Result<HttpResponse, PageError> {
    let page = SignInPage {
        chrome: Chrome::public("Sign in"),
        email: email.to_owned(),
        problem,
        notice,
    };
    render(status, &page)
}

#[derive(Deserialize)]
pub struct SignedOut {
    #[serde(default)]
    signed_out: Option<String>,
}

/// `GET /console/sign-in`; a signed-in person goes to the console.
pub async fn page(
    req: HttpRequest,
    query: web::Query<SignedOut>,
) -> Result<HttpResponse, PageError> {
    if let Some(signed) = signed_in(&req).await?
        && !signed.found.session.pending
    {
        return Ok(see_other("/console"));
    }
    let notice = query.signed_out.as_ref().map(|_| "You signed out.");
    sign_in_page(StatusCode::OK, "", None, notice)
}

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
}

/// A form must come from this origin: browsers send `Origin` with every
/// POST, and a sign-in form posted from another site is refused (login
/// forgery). Forms of a session also carry its anti-forgery token.
pub fn same_origin(req: &HttpRequest) -> Result<(), PageError> {
    let Some(origin) = req.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let host = req.connection_info().host().to_owned();
    let origin = origin.to_str().unwrap_or_default();
    let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    match origin_host == host {
        true => Ok(()),
        false => Err(PageError::Problem(ApiError::Forbidden(
            "The form was sent from another site.",
        ))),
    }
}

/// `POST /console/sign-in`: the password, then (when two-step sign-in is on)
/// the code page, with a session good for nothing but the code.
pub async fn submit(
    req: HttpRequest,
    form: web::Form<Credentials>,
    authenticator: web::Data<Authenticator>,
    db: web::Data<Database>,
    settings: web::Data<ConsoleSettings>,
) -> Result<HttpResponse, PageError> {
    same_origin(&req)?;
    let form = form.into_inner();
    let device = req.cookie(DEVICE).map(|c| c.value().to_owned());
    let attempt = Attempt {
        email: &form.email,
        password: SecretString::from(form.password),
        origin: origin_of(&req),
        client: req.peer_addr().map(|peer| peer.ip()),
        device: device.as_deref(),
    };
    let user = match authenticator.sign_in(attempt).await {
        Ok(user) => user,
        Err(SignInError::Wrong) => {
            return sign_in_page(
                StatusCode::UNAUTHORIZED,
                &form.email,
                Some("The email or the password is wrong.".into()),
                None,
            );
        }
        Err(SignInError::Throttled(seconds)) => {
            return Err(ApiError::RateLimited {
                retry_after: seconds,
            }
            .into());
        }
        Err(SignInError::Busy) => return Err(ApiError::RateLimited { retry_after: 1 }.into()),
        Err(SignInError::Store(error)) => return Err(error.into()),
    };
    let origin = origin_of(&req);
    if user.totp_secret.is_some() {
        let (secret, id) = new_session_secret();
        let csrf = random_hex(16);
        let pending = (id, user.id, csrf.clone());
        db.transaction(move |conn| {
            sessions::create(
                conn,
                &sessions::NewSession {
                    id: &pending.0,
                    user_id: pending.1,
                    csrf: &pending.2,
                    pending: true,
                },
            )
        })
        .await?;
        let page = CodePage {
            chrome: Chrome::public("Sign in"),
            csrf,
            problem: None,
        };
        let mut answer = render(StatusCode::OK, &page)?;
        answer
            .add_cookie(&session_cookie(
                secret.expose_secret(),
                &settings,
                &authenticator,
            ))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        return Ok(answer);
    }
    start_session(&user, origin, &authenticator, &db, &settings).await
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

/// `POST /console/sign-in/code`: the second step.
pub async fn code(
    req: HttpRequest,
    form: web::Form<CodeForm>,
    authenticator: web::Data<Authenticator>,
    db: web::Data<Database>,
    settings: web::Data<ConsoleSettings>,
) -> Result<HttpResponse, PageError> {
    same_origin(&req)?;
    let pending = signed_in(&req).await?.ok_or(PageError::SignIn)?;
    if !pending.found.session.pending {
        return Ok(see_other("/console"));
    }
    pending.check_csrf(&form.csrf)?;
    let user = pending.found.user.clone();
    let accepted = match authenticator.second_step(&user, &form.code).await {
        Ok(accepted) => accepted,
        Err(SignInError::Throttled(seconds)) => {
            return Err(ApiError::RateLimited {
                retry_after: seconds,
            }
            .into());
        }
        Err(SignInError::Store(error)) => return Err(error.into()),
        Err(SignInError::Wrong | SignInError::Busy) => false,
    };
    if !accepted {
        let by = Audit {
            actor: users::actor_of(&user),
            origin: origin_of(&req),
        };
        let failed = user.clone();
        db.transaction(move |conn| users::record_sign_in(conn, &failed, &by, Action::SignInFailed))
            .await?;
        let page = CodePage {
            chrome: Chrome::public("Sign in"),
            csrf: pending.found.session.csrf.clone(),
            problem: Some("That code is not right, or was used already.".into()),
        };
        return render(StatusCode::UNAUTHORIZED, &page);
    }
    let ended = pending.found.session.id.clone();
    db.run(move |conn| sessions::end(conn, &ended)).await?;
    start_session(&user, origin_of(&req), &authenticator, &db, &settings).await
}

/// Starts a full session for `user` (its sign-in recorded in the same
/// transaction), sets its cookie and the device cookie, and goes to the
/// console.
pub async fn start_session(
    user: &User,
    origin: Origin,
    authenticator: &Authenticator,
    db: &Database,
    settings: &ConsoleSettings,
) -> Result<HttpResponse, PageError> {
    let (secret, id) = new_session_secret();
    let csrf = random_hex(16);
    let by = Audit {
        actor: users::actor_of(user),
        origin,
    };
    let (user_id, signed) = (user.id, user.clone());
    db.transaction(move |conn| {
        sessions::create(
            conn,
            &sessions::NewSession {
                id: &id,
                user_id,
                csrf: &csrf,
                pending: false,
            },
        )?;
        users::record_sign_in(conn, &signed, &by, Action::SignInSucceeded)
    })
    .await?;
    let mut answer = see_other("/console");
    answer
        .add_cookie(&session_cookie(
            secret.expose_secret(),
            settings,
            authenticator,
        ))
        .and_then(|()| {
            answer.add_cookie(&device_cookie(
                authenticator.device_cookie(user.id),
                settings,
            ))
        })
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(answer)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /console/sign-out`: ends this session, on every instance at once.
pub async fn sign_out(
    signed: Signed,
    form: web::Form<CsrfForm>,
    db: web::Data<Database>,
    settings: web::Data<ConsoleSettings>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(&form.csrf)?;
    let id = signed.session_id().to_owned();
    db.run(move |conn| sessions::end(conn, &id)).await?;
    let mut answer = see_other("/console/sign-in?signed_out=1");
    answer
        .add_cookie(&cleared_session(&settings))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(answer)
}

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}
