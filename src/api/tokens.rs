//! `POST /v1/public-api/organizations/{organizationId}/tokens`

use actix_web::{HttpResponse, web};
use secrecy::ExposeSecret;
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::JsonObject;
use super::paths;
use super::schemas::{BodyProblems, GuardedProblems, NotFoundProblem, TokenInput};
use crate::auth::{Authenticator, Principal, Tenant};
use crate::domain::time::Time;
use crate::domain::token_request::TokenRequest;
use crate::error::ApiError;
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
    params(Tenant),
    request_body(content = TokenInput, content_type = "application/json"),
    responses(
        (status = 201, description = "The token.", body = TokenBody),
        GuardedProblems, BodyProblems, NotFoundProblem,
    )
)]
pub async fn create(
    principal: Principal,
    authenticator: web::Data<Authenticator>,
    db: web::Data<Database>,
    body: JsonObject,
) -> Result<HttpResponse, ApiError> {
    let request = TokenRequest::from_json(&body)?;
    if !request.scopes.is_subset_of(principal.scopes) {
        return Err(ApiError::Forbidden(
            "A token cannot have scopes its key lacks.",
        ));
    }
    if let Some(customer) = request.customer_id {
        let org = principal.organization_id;
        let found = db
            .run(move |conn| customers::find(conn, org, customer))
            .await?;
        // Like a path id: a customer that does not exist here is not found.
        if found.is_none() {
            return Err(ApiError::NotFound);
        }
    }
    let (token, expires) =
        authenticator
            .signer()
            .mint(principal.organization_id, principal.key_id, &request);
    Ok(HttpResponse::Created().json(TokenBody {
        token: token.expose_secret().to_owned(),
        expires_time: expires,
    }))
}
