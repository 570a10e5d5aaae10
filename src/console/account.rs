//! A person's own account: accepting an invite, two-step sign-in, the
//! password, and (for owners) whether the organization requires two-step
//! sign-in.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use super::session::{Chrome, ConsoleSettings, Message, PageError, Signed, render};
use super::sign_in::{same_origin, see_other, start_session};
use crate::auth::Authenticator;
use crate::auth::keys;
use crate::auth::people::{
    digest, new_totp_secret, otpauth_url, qr_svg, recovery_code_hash, recovery_codes, totp_step,
};
use crate::auth::sign_in::SignInError;
use crate::domain::audit::Audit;
use crate::domain::people::Password;
use crate::domain::scopes::Scope;
use crate::error::ApiError;
use crate::store::{Database, organizations, users};
use crate::telemetry::origin_of;

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    chrome: Chrome,
    organization: String,
    email: String,
    role: &'static str,
    secret: String,
    password_error: Option<String>,
}

/// Hashes a new password off the async executor (argon2 is slow by design).
async fn hash(password: Password) -> Result<String, PageError> {
    web::block(move || keys::hash(password.expose()))
        .await
        .map_err(|e| PageError::Problem(ApiError::Internal(e.to_string())))
}

fn expired_invite() -> Result<HttpResponse, PageError> {
    let page = Message {
        chrome: Chrome::public("Invite"),
        heading: "This invite link does not work".into(),
        text: "It was used already, or it expired (a link works once, for 72 hours). Ask an owner of the organization for a new one.".into(),
        link: Some(("/console/sign-in".into(), "Sign in".into())),
    };
    render(StatusCode::NOT_FOUND, &page)
}

/// The invite a link names, and who it is for.
async fn invite_of(
    db: &Database,
    secret: &str,
) -> Result<Option<(users::User, String)>, PageError> {
    let hash = digest(secret);
    let found = db
        .run(move |conn| {
            let Some(user) = users::find_by_invite(conn, &hash)? else {
                return Ok(None);
            };
            let organization = match user.organization_id {
                Some(org) => organizations::settings(conn, org)?.name,
                None => "the platform's operators".to_owned(),
            };
            Ok(Some((user, organization)))
        })
        .await?;
    Ok(found)
}

/// `GET /console/invite/{secret}`
pub async fn invite(
    secret: web::Path<String>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let Some((user, organization)) = invite_of(&db, &secret).await? else {
        return expired_invite();
    };
    let page = InvitePage {
        chrome: Chrome::public("Join"),
        organization,
        email: user.email,
        role: user.role.as_str(),
        secret: secret.into_inner(),
        password_error: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct NewPassword {
    password: String,
}

/// `POST /console/invite/{secret}`: sets the password (the link then stops
/// working) and signs the person in.
pub async fn accept(
    req: HttpRequest,
    secret: web::Path<String>,
    form: web::Form<NewPassword>,
    db: web::Data<Database>,
    authenticator: web::Data<Authenticator>,
    settings: web::Data<ConsoleSettings>,
) -> Result<HttpResponse, PageError> {
    same_origin(&req)?;
    let Some((user, organization)) = invite_of(&db, &secret).await? else {
        return expired_invite();
    };
    let password = match Password::parse(&form.password, &user.email) {
        Ok(password) => password,
        Err(reason) => {
            let page = InvitePage {
                chrome: Chrome::public("Join"),
                organization,
                email: user.email,
                role: user.role.as_str(),
                secret: secret.into_inner(),
                password_error: Some(reason),
            };
            return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let password_hash = hash(password).await?;
    let (invite_hash, origin) = (digest(&secret), origin_of(&req));
    let joined = db
        .transaction(move |conn| users::accept_invite(conn, &invite_hash, &password_hash, &origin))
        .await;
    let joined = match joined {
        Ok(joined) => joined,
        Err(crate::store::StoreError::Refused(_)) => return expired_invite(),
        Err(error) => return Err(error.into()),
    };
    start_session(&joined, origin_of(&req), &authenticator, &db, &settings).await
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    email: String,
    role: &'static str,
    organization: String,
    two_step: bool,
    required: bool,
    recovery_left: usize,
    csrf: String,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct Notice {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /console/account`
pub async fn account(
    signed: Signed,
    query: web::Query<Notice>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let user = &signed.found.user;
    let organization = match user.organization_id {
        Some(org) => {
            db.run(move |conn| organizations::settings(conn, org))
                .await?
                .name
        }
        None => "Platform operators (every organization, read only)".into(),
    };
    let notice = match query.done.as_deref() {
        Some("password") => Some("Your password changed; your other sessions ended."),
        Some("two-step-removed") => Some("Two-step sign-in is off."),
        _ => None,
    };
    let page = AccountPage {
        chrome: Chrome::signed("Your account", &signed, "account"),
        email: user.email.clone(),
        role: user.role.as_str(),
        organization,
        two_step: user.totp_secret.is_some(),
        required: signed.found.two_step_required(),
        recovery_left: user.recovery_codes.len(),
        csrf: signed.found.session.csrf.clone(),
        notice,
    };
    render(StatusCode::OK, &page)
}

#[derive(Template)]
#[template(path = "two_step.html")]
struct TwoStepPage {
    chrome: Chrome,
    email: String,
    secret: String,
    proof: String,
    qr: String,
    csrf: String,
    required: bool,
    problem: Option<&'static str>,
}

fn two_step_page(
    signed: &Signed,
    authenticator: &Authenticator,
    secret: String,
    problem: Option<&'static str>,
) -> Result<HttpResponse, PageError> {
    let user = &signed.found.user;
    let page = TwoStepPage {
        chrome: Chrome::signed("Two-step sign-in", signed, "account"),
        email: user.email.clone(),
        proof: authenticator.seal(&format!("{}:{secret}", user.id)),
        qr: qr_svg(&otpauth_url(&secret, &user.email)),
        secret,
        csrf: signed.found.session.csrf.clone(),
        required: signed.found.two_step_required(),
        problem,
    };
    let status = match problem {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    render(status, &page)
}

/// `GET /console/two-step`: a new secret, as a QR code and as text. The
/// secret travels in the form, sealed, until a code proves the app holds it.
pub async fn two_step(
    signed: Signed,
    authenticator: web::Data<Authenticator>,
) -> Result<HttpResponse, PageError> {
    if signed.found.user.totp_secret.is_some() {
        return Ok(see_other("/console/account"));
    }
    two_step_page(&signed, &authenticator, new_totp_secret(), None)
}

#[derive(Deserialize)]
pub struct Enrollment {
    csrf: String,
    secret: String,
    proof: String,
    code: String,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    chrome: Chrome,
    codes: Vec<String>,
}

/// `POST /console/two-step`: turns two-step sign-in on once a code from the
/// app proves it holds the secret, and shows the recovery codes once.
pub async fn enroll(
    req: HttpRequest,
    signed: Signed,
    form: web::Form<Enrollment>,
    authenticator: web::Data<Authenticator>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(&form.csrf)?;
    let user = signed.found.user.clone();
    if !authenticator.sealed(&format!("{}:{}", user.id, form.secret), &form.proof) {
        return Err(
            ApiError::Forbidden("The two-step secret was not the one this server gave.").into(),
        );
    }
    let Some(step) = totp_step(&form.secret, &form.code) else {
        let problem = Some(
            "That code is not right: check the time on your device, and type the code the app shows now.",
        );
        return two_step_page(&signed, &authenticator, form.secret.clone(), problem);
    };
    let codes = recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|code| recovery_code_hash(code)).collect();
    let by = Audit {
        actor: users::actor_of(&user),
        origin: origin_of(&req),
    };
    let secret = form.secret.clone();
    db.transaction(move |conn| {
        users::set_two_step(conn, &user, Some((&secret, &hashes)), &by)?;
        users::use_totp_step(conn, user.id, step).map(drop)
    })
    .await?;
    let page = RecoveryCodesPage {
        chrome: Chrome::signed("Two-step sign-in", &signed, "account"),
        codes,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct CodeForm {
    csrf: String,
    code: String,
}

/// `POST /console/two-step/remove`, with a current code; not while the
/// organization requires two-step sign-in.
pub async fn remove_two_step(
    req: HttpRequest,
    signed: Signed,
    form: web::Form<CodeForm>,
    authenticator: web::Data<Authenticator>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(&form.csrf)?;
    if signed.found.two_step_required() {
        return Err(ApiError::Refused(crate::domain::refusal::Refusal::Conflict(
            "The organization requires two-step sign-in.",
        ))
        .into());
    }
    let user = signed.found.user.clone();
    match authenticator.second_step(&user, &form.code).await {
        Ok(true) => {}
        Ok(false) | Err(SignInError::Wrong | SignInError::Busy) => {
            return Err(ApiError::Forbidden("That code is not right, or was used already.").into());
        }
        Err(SignInError::Throttled(seconds)) => {
            return Err(ApiError::RateLimited {
                retry_after: seconds,
            }
            .into());
        }
        Err(SignInError::Store(error)) => return Err(error.into()),
    }
    let by = Audit {
        actor: users::actor_of(&user),
        origin: origin_of(&req),
    };
    db.transaction(move |conn| users::set_two_step(conn, &user, None, &by))
        .await?;
    Ok(see_other("/console/account?done=two-step-removed"))
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    chrome: Chrome,
    csrf: String,
    current_error: Option<&'static str>,
    password_error: Option<String>,
}

/// `GET /console/password`
pub async fn password(signed: Signed) -> Result<HttpResponse, PageError> {
    let page = PasswordPage {
        chrome: Chrome::signed("Password", &signed, "account"),
        csrf: signed.found.session.csrf.clone(),
        current_error: None,
        password_error: None,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub struct PasswordChange {
    csrf: String,
    current: String,
    password: String,
}

/// `POST /console/password`: a new password ends every other session of
/// the person.
pub async fn change_password(
    req: HttpRequest,
    signed: Signed,
    form: web::Form<PasswordChange>,
    authenticator: web::Data<Authenticator>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(&form.csrf)?;
    let user = signed.found.user.clone();
    let refuse = |current_error: Option<&'static str>, password_error: Option<String>| {
        let page = PasswordPage {
            chrome: Chrome::signed("Password", &signed, "account"),
            csrf: signed.found.session.csrf.clone(),
            current_error,
            password_error,
        };
        render(StatusCode::UNPROCESSABLE_ENTITY, &page)
    };
    match authenticator
        .verify_password(&user, SecretString::from(form.current.clone()))
        .await
    {
        Ok(true) => {}
        Ok(false) | Err(SignInError::Wrong | SignInError::Busy) => {
            return refuse(Some("This is not your current password."), None);
        }
        Err(SignInError::Throttled(seconds)) => {
            return Err(ApiError::RateLimited {
                retry_after: seconds,
            }
            .into());
        }
        Err(SignInError::Store(error)) => return Err(error.into()),
    }
    let password = match Password::parse(&form.password, &user.email) {
        Ok(password) => password,
        Err(reason) => return refuse(None, Some(reason)),
    };
    let password_hash = hash(password).await?;
    let by = Audit {
        actor: users::actor_of(&user),
        origin: origin_of(&req),
    };
    let keep = signed.session_id().to_owned();
    db.transaction(move |conn| users::set_password(conn, &user, &password_hash, Some(&keep), &by))
        .await?;
    Ok(see_other("/console/account?done=password"))
}

#[derive(Deserialize)]
pub struct TwoStepSetting {
    csrf: String,
    #[serde(default)]
    required: Option<String>,
}

/// `POST /console/settings/two-step`: an owner requires two-step sign-in of
/// every member, or stops requiring it.
pub async fn require_two_step(
    req: HttpRequest,
    signed: Signed,
    form: web::Form<TwoStepSetting>,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    signed.check_csrf(&form.csrf)?;
    let user = signed.found.user.clone();
    let Some(org) = user.organization_id else {
        return Err(ApiError::Forbidden(Scope::SettingsManage.lacking()).into());
    };
    if !user.role.scopes().contains(Scope::SettingsManage) {
        return Err(ApiError::Forbidden(Scope::SettingsManage.lacking()).into());
    }
    let required = form.required.is_some();
    let by = Audit {
        actor: users::actor_of(&user),
        origin: origin_of(&req),
    };
    db.transaction(move |conn| organizations::set_require_two_step(conn, org, required, &by))
        .await?;
    Ok(see_other("/console/organization"))
}
