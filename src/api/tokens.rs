//! `POST /v1/public-api/organizations/{organizationId}/tokens`

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use secrecy::ExposeSecret;
use serde::Serialize;
use utoipa::ToSchema;

use super::answers::{self, Idempotency};
use super::extract::JsonObject;
use super::paths;
use super::schemas::{
    BodyProblems, GuardedProblems, IdempotencyProblems, NotFoundProblem, TokenInput,
};
use crate::auth::{Authenticator, Credential, Principal, Tenant};
use crate::domain::audit::{Action, Audit, Target};
use crate::domain::refusal::Refusal;
use crate::domain::time::Time;
use crate::domain::token_request::TokenRequest;
use crate::error::ApiError;
use crate::store;
use crate::store::{Database, customers};

/// A short-lived token.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Token)]
pub struct TokenBody {
    /// An HS256 JWT, for `Authorization: Bearer <token>`.
    token: String,
    #[schema(inline)]
    expires_time: Time,
}

/// Mint a short-lived token.
///
/// API keys with `tokens:create` only. The scopes must be a subset of the
/// key's; a token bound to `customerId` may only read and update that
/// customer (a hosted payment form).
#[utoipa::path(
    post,
    path = paths::TOKENS,
    tag = "tokens",
    operation_id = "createToken",
    security(("ApiKey" = [])),
    params(Tenant, Idempotency),
    request_body(content = TokenInput, content_type = "application/json"),
    responses(
        (status = 201, description = "The token.", body = TokenBody),
        GuardedProblems, BodyProblems, NotFoundProblem, IdempotencyProblems,
    )
)]
pub async fn create(
    principal: Principal,
    authenticator: web::Data<Authenticator>,
    db: web::Data<Database>,
    body: JsonObject,
    idempotency: Idempotency,
    audit: Audit,
) -> Result<HttpResponse, ApiError> {
    let request = TokenRequest::from_json(&body)?;
    if !request.scopes.is_subset_of(principal.scopes) {
        return Err(ApiError::Forbidden(
            "A token cannot have scopes its key lacks.",
        ));
    }
    let Credential::ApiKey { key_ref, .. } = principal.credential else {
        return Err(ApiError::Forbidden("Tokens are minted with an API key."));
    };
    let key_ref = key_ref.ok_or(ApiError::Forbidden(
        "This key cannot mint tokens; create a new key.",
    ))?;
    let (org, tenant) = (principal.organization_id, principal.tenant());
    let authenticator = authenticator.into_inner();
    idempotency
        .respond(&db, tenant, Some(&body), move |conn| {
            // Like a path id: a customer that does not exist here is not found.
            if let Some(customer) = request.customer_id
                && customers::find(conn, tenant, customer)?.is_none()
            {
                return Err(Refusal::NotFound.into());
            }
            let (token, expires) = authenticator.signer().mint(org, key_ref, &request);
            let target = match request.customer_id {
                Some(customer) => Target::new("token", customer),
                None => Target::many("token"),
            };
            store::audit::record(conn, tenant, &audit, Action::TokenCreated, target, None)?;
            let body = TokenBody {
                token: token.expose_secret().to_owned(),
                expires_time: expires,
            };
            Ok(answers::json(StatusCode::CREATED, &body))
        })
        .await
}
