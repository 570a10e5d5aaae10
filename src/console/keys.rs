//! The API keys page: create (the secret shown once), revoke, and roll
//! with a grace period during which both secrets work.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::ExposeSecret;

use super::developers::{Section, sections};
use super::form::Pairs;
use super::session::{Chrome, PageError, Signed, render};
use super::shown;
use super::sign_in::see_other;
use crate::auth::keys;
use crate::domain::InvalidField;
use crate::domain::ids::KeyId;
use crate::domain::scopes::{Scope, Scopes};
use crate::error::ApiError;
use crate::store::{Database, api_keys};

struct KeyRow {
    id: KeyId,
    name: String,
    mode: &'static str,
    scopes: String,
    created: String,
    last_used: String,
    revoked: String,
    previous_until: String,
}

#[derive(Template)]
#[template(path = "keys.html")]
struct KeysPage {
    chrome: Chrome,
    sections: Vec<Section>,
    csrf: String,
    keys: Vec<KeyRow>,
    scopes: Vec<&'static str>,
    /// A secret just made: the key's id, the secret, and what happened.
    secret: Option<(KeyId, String, String)>,
    problems: Vec<String>,
    read_only: bool,
}

/// The grace periods the roll form offers, as [`keys::grace`] reads them.
const GRACES: [(&str, &str); 4] = [
    ("now", "The old secret stops at once"),
    ("1h", "The old secret works 1 more hour"),
    ("24h", "The old secret works 24 more hours"),
    ("7d", "The old secret works 7 more days"),
];

async fn page(
    req: &HttpRequest,
    signed: &Signed,
    db: &Database,
    status: StatusCode,
    secret: Option<(KeyId, String, String)>,
    problems: Vec<String>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.reading(req, db, Scope::KeysManage).await?;
    let org = tenant.organization_id;
    let listed = db.run(move |conn| api_keys::list(conn, org)).await?;
    let page = KeysPage {
        chrome: Chrome::signed("API keys", signed, "developers"),
        sections: sections(signed, "/console/developers/keys"),
        csrf: signed.csrf(),
        keys: listed
            .into_iter()
            .map(|key| KeyRow {
                id: key.id,
                name: key.name.unwrap_or_default(),
                mode: if key.livemode { "live" } else { "test" },
                scopes: key.scopes.names().join(", "),
                created: shown(key.created_time),
                last_used: key.last_used_time.map(shown).unwrap_or_default(),
                revoked: key.revoked_time.map(shown).unwrap_or_default(),
                previous_until: key.previous_expires_time.map(shown).unwrap_or_default(),
            })
            .collect(),
        scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
        secret,
        problems,
        read_only: signed.principal()?.read_only(),
    };
    render(status, &page)
}

impl KeysPage {
    fn graces(&self) -> &'static [(&'static str, &'static str)] {
        &GRACES
    }
}

/// `GET /console/developers/keys`
pub async fn list(
    req: HttpRequest,
    signed: Signed,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    page(&req, &signed, &db, StatusCode::OK, None, Vec::new()).await
}

/// `POST /console/developers/keys`: a key of the console's mode, with the
/// scopes ticked; its secret shown on the page that answers, only there.
pub async fn create(
    req: HttpRequest,
    signed: Signed,
    pairs: Pairs,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::KeysManage)?;
    let scopes: Result<Scopes, String> = pairs
        .all("scopes")
        .map(|name| Scope::parse(name).ok_or_else(|| format!("unknown scope {name:?}")))
        .collect();
    let scopes = match scopes {
        Ok(scopes) if !scopes.is_empty() => scopes,
        Ok(_) => return refused(&req, &signed, &db, "Tick at least one scope.".into()).await,
        Err(message) => return refused(&req, &signed, &db, message).await,
    };
    let name = pairs.get("name").trim().to_owned();
    if name.chars().count() > 100 || name.chars().any(char::is_control) {
        let message = "A key's name is at most 100 characters on one line.".into();
        return refused(&req, &signed, &db, message).await;
    }
    let by = signed.audit(&req);
    let issued = db
        .transaction(move |conn| {
            let name = Some(name.as_str()).filter(|n| !n.is_empty());
            keys::issue(
                conn,
                tenant.organization_id,
                name,
                scopes,
                tenant.livemode,
                &by,
            )
        })
        .await?;
    let secret = issued.api_key.expose_secret().to_owned();
    let what = "Created. Copy the secret now: it is not shown again.".to_owned();
    page(
        &req,
        &signed,
        &db,
        StatusCode::CREATED,
        Some((issued.key_id, secret, what)),
        Vec::new(),
    )
    .await
}

async fn refused(
    req: &HttpRequest,
    signed: &Signed,
    db: &Database,
    message: String,
) -> Result<HttpResponse, PageError> {
    page(
        req,
        signed,
        db,
        StatusCode::UNPROCESSABLE_ENTITY,
        None,
        vec![message],
    )
    .await
}

/// `POST /console/developers/keys/{id}/roll`: a new secret; the old one
/// works for the grace chosen.
pub async fn roll(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    pairs: Pairs,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::KeysManage)?;
    let id = KeyId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let grace = keys::grace(pairs.get("grace")).map_err(|message| {
        ApiError::Invalid(vec![InvalidField {
            field: "grace".into(),
            message,
        }])
    })?;
    let by = signed.audit(&req);
    let org = tenant.organization_id;
    let issued = db
        .transaction(move |conn| keys::roll(conn, Some(org), id, grace, &by))
        .await?;
    let secret = issued.api_key.expose_secret().to_owned();
    let what = "Rolled. Copy the new secret now: it is not shown again.".to_owned();
    page(
        &req,
        &signed,
        &db,
        StatusCode::OK,
        Some((id, secret, what)),
        Vec::new(),
    )
    .await
}

/// `POST /console/developers/keys/{id}/revoke`
pub async fn revoke(
    req: HttpRequest,
    signed: Signed,
    id: web::Path<String>,
    pairs: Pairs,
    db: web::Data<Database>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.form_changing(pairs.get("csrf"), Scope::KeysManage)?;
    let id = KeyId::parse(&id).ok_or(ApiError::NOT_FOUND)?;
    let by = signed.audit(&req);
    let org = tenant.organization_id;
    db.transaction(move |conn| keys::revoke(conn, Some(org), id, &by))
        .await?;
    Ok(see_other("/console/developers/keys"))
}
