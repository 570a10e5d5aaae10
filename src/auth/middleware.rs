//! The two middlewares in front of every organization route, each doing
//! one job: [`authenticate`] turns the credential into a [`Principal`]
//! (401 otherwise); `authorize_*` checks that the principal may use the
//! method on the resource under the organization in the path (403
//! otherwise). Both run before any body or id is looked at.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};

use super::authenticator::Authenticator;
use super::principal::{Credential, Principal};
use super::sign_in::{CSRF_HEADER, SESSION_COOKIE, person};
use crate::domain::audit::{Action, Audit, Origin, Target};
use crate::domain::ids::OrganizationId;
use crate::domain::refusal::Refusal;
use crate::domain::scopes::Scope;
use crate::error::ApiError;
use crate::store::{Database, audit, organizations};
use crate::telemetry::origin_of;

/// What a guarded route serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// `/customers`
    Customers,
    /// `/customers/{customerId}[/restore]`
    Customer,
    /// `/customers/{customerId}/erase`
    Erase,
    /// `/customers/export`, `/customers/stats`
    Reports,
    /// `/tokens`
    Tokens,
    /// `/events`
    Events,
    /// `/webhook-endpoints[/…]`
    Webhooks,
    CustomFields,
    /// `/audit-events`
    Audit,
    /// `/customers/imports[/…]`
    Imports,
}

/// Refusals become responses, never errors, so that the middleware around
/// (metrics, request ids) sees them whole.
fn refuse<B>(req: ServiceRequest, error: ApiError) -> ServiceResponse<EitherBody<B>> {
    req.error_response(error).map_into_right_body()
}

pub async fn authenticate<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(authenticator) = req.app_data::<web::Data<Authenticator>>().cloned() else {
        return Ok(refuse(
            req,
            ApiError::Internal("no authenticator configured".into()),
        ));
    };
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().map(str::to_owned).unwrap_or_default());
    let client = req.peer_addr().map(|address| address.ip());
    match authenticator.authenticate(authorization, client).await {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(error) => Ok(refuse(req, error)),
    }
}

/// [`authenticate`] for the console's requests to the API
/// (`/console/api/…`): a person's session cookie instead of a key, and on
/// every request that changes anything the session's anti-forgery token in
/// `X-CSRF-Token` (403 without it). A member acts in their organization; a
/// platform operator reads any, and each read is recorded in that
/// organization's audit log.
pub async fn authenticate_session<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    match session_principal(&req).await {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            Ok(next.call(req).await?.map_into_left_body())
        }
        Err(error) => Ok(refuse(req, error)),
    }
}

async fn session_principal(req: &ServiceRequest) -> Result<Principal, ApiError> {
    let authenticator = req
        .app_data::<web::Data<Authenticator>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal("no authenticator configured".into()))?;
    let cookie = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .ok_or(ApiError::Unauthorized)?;
    let found = authenticator
        .session(&cookie)
        .await?
        .filter(|found| !found.session.pending)
        .ok_or(ApiError::Unauthorized)?;
    if found.organization_disabled() {
        return Err(ApiError::Forbidden("The organization is disabled."));
    }
    if found.two_step_required() && found.user.totp_secret.is_none() {
        return Err(ApiError::Forbidden(
            "The organization requires two-step sign-in: set it up in the console first.",
        ));
    }
    let reads = matches!(*req.method(), Method::GET | Method::HEAD);
    if !reads {
        let presented = req
            .headers()
            .get(CSRF_HEADER)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !same_secret(presented, &found.session.csrf) {
            return Err(ApiError::Forbidden(
                "A request that changes anything carries the session's anti-forgery token (X-CSRF-Token).",
            ));
        }
    }
    let organization = match found.user.organization_id {
        Some(own) => own,
        // An operator reads the organization the path names, if it exists.
        None => req
            .match_info()
            .get("organizationId")
            .and_then(OrganizationId::parse)
            .ok_or(ApiError::NOT_FOUND)?,
    };
    let principal = person(&found.session, &found.user, organization);
    if principal.read_only() && reads {
        let db = req
            .app_data::<web::Data<Database>>()
            .cloned()
            .ok_or_else(|| ApiError::Internal("no database configured".into()))?;
        record_operator_read(&db, &principal, origin_of(req.request())).await?;
    }
    Ok(principal)
}

/// Records a platform operator's read of an organization in its audit log
/// (`organization.viewed`), or refuses one that does not exist (404): an
/// operator's every look at an organization is known to it.
pub async fn record_operator_read(
    db: &Database,
    principal: &Principal,
    origin: Origin,
) -> Result<(), ApiError> {
    let audit = Audit {
        actor: principal.actor(),
        origin,
    };
    let tenant = principal.tenant();
    let organization = principal.organization_id;
    db.transaction(move |conn| {
        if !organizations::exists(conn, organization)? {
            return Err(Refusal::NotFound.into());
        }
        let target = Target::new("organization", organization);
        audit::record(
            conn,
            tenant,
            &audit,
            Action::OrganizationViewed,
            target,
            None,
        )
    })
    .await?;
    Ok(())
}

/// Whether two secrets are equal, in a time that does not tell where they
/// differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

pub async fn authorize_customers<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    authorize_request(req, next, Resource::Customers).await
}

pub async fn authorize_customer<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    authorize_request(req, next, Resource::Customer).await
}

pub async fn authorize_erase<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    authorize_request(req, next, Resource::Erase).await
}

pub async fn authorize_imports<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    authorize_request(req, next, Resource::Imports).await
}

pub async fn authorize_reports<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    authorize_request(req, next, Resource::Reports).await
}

pub async fn authorize_tokens<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    authorize_request(req, next, Resource::Tokens).await
}

pub async fn authorize_events<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    authorize_request(req, next, Resource::Events).await
}

pub async fn authorize_custom_fields<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    authorize_request(req, next, Resource::CustomFields).await
}

pub async fn authorize_audit<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    authorize_request(req, next, Resource::Audit).await
}

pub async fn authorize_webhooks<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    authorize_request(req, next, Resource::Webhooks).await
}

async fn authorize_request<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
    resource: Resource,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let principal = req.extensions().get::<Principal>().cloned();
    let decision = match principal {
        Some(principal) => authorize(
            &principal,
            req.match_info().get("organizationId"),
            resource,
            req.method(),
            req.match_info().get("customerId"),
        ),
        None => Err(ApiError::Internal(
            "authorization before authentication".into(),
        )),
    };
    match decision {
        Ok(()) => Ok(next.call(req).await?.map_into_left_body()),
        Err(error) => Ok(refuse(req, error)),
    }
}

/// Decides whether `principal` may use `method` on `resource` under the
/// organization named in the path.
pub fn authorize(
    principal: &Principal,
    path_organization: Option<&str>,
    resource: Resource,
    method: &Method,
    path_customer: Option<&str>,
) -> Result<(), ApiError> {
    let own = principal.organization_id.to_string();
    if path_organization != Some(own.as_str()) {
        return Err(ApiError::Forbidden(
            "The credential belongs to another organization.",
        ));
    }
    if let Credential::Token {
        customer_id: Some(bound),
        ..
    } = principal.credential
    {
        let same_customer = path_customer == Some(bound.to_string().as_str());
        let allowed = resource == Resource::Customer
            && (method == Method::GET || method == Method::PUT)
            && same_customer;
        if !allowed {
            return Err(ApiError::Forbidden(
                "This token may only read and update the customer it was issued for.",
            ));
        }
    }
    if resource == Resource::Tokens && !matches!(principal.credential, Credential::ApiKey { .. }) {
        return Err(ApiError::Forbidden("Tokens are minted with an API key."));
    }
    if principal.read_only() && method != Method::GET {
        return Err(ApiError::Forbidden(
            "Platform operators read an organization's data; they do not change it.",
        ));
    }
    let needed = match (resource, method.clone()) {
        (Resource::Tokens, Method::POST) => Some(Scope::TokensCreate),
        (Resource::Audit, Method::GET) => Some(Scope::AuditRead),
        (Resource::Events, Method::GET) => Some(Scope::EventsRead),
        (Resource::Erase, Method::POST) => Some(Scope::CustomersErase),
        (Resource::Reports, Method::GET) => Some(Scope::ReportsRead),
        (Resource::Webhooks, _) => Some(Scope::WebhooksWrite),
        (Resource::Imports, _) => Some(Scope::CustomersWrite),
        (Resource::CustomFields, Method::GET) => Some(Scope::CustomersRead),
        (Resource::CustomFields, _) => Some(Scope::CustomFieldsWrite),
        (Resource::Customers | Resource::Customer, Method::GET) => Some(Scope::CustomersRead),
        (Resource::Customers | Resource::Customer, Method::POST | Method::PUT | Method::DELETE) => {
            Some(Scope::CustomersWrite)
        }
        // Other methods are answered 405 by the route.
        _ => None,
    };
    needed.map_or(Ok(()), |scope| principal.require(scope))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::customer::FieldSet;
    use crate::domain::ids::{CustomerId, KeyId, OrganizationId};

    fn principal(scopes: &[Scope], credential: Credential) -> Principal {
        Principal {
            organization_id: OrganizationId::generate(),
            livemode: true,
            scopes: scopes.iter().copied().collect(),
            credential,
        }
    }

    fn api_key() -> Credential {
        Credential::ApiKey {
            key_id: KeyId::generate(),
            key_ref: None,
        }
    }

    fn check(p: &Principal, resource: Resource, method: Method, customer: Option<&str>) -> bool {
        let org = p.organization_id.to_string();
        authorize(p, Some(&org), resource, &method, customer).is_ok()
    }

    #[test]
    fn scopes_follow_methods() {
        let read = principal(&[Scope::CustomersRead], api_key());
        assert!(check(&read, Resource::Customers, Method::GET, None));
        assert!(check(&read, Resource::Customer, Method::GET, Some("cus_x")));
        assert!(!check(&read, Resource::Customers, Method::POST, None));
        assert!(!check(
            &read,
            Resource::Customer,
            Method::PUT,
            Some("cus_x")
        ));
        assert!(!check(
            &read,
            Resource::Customer,
            Method::DELETE,
            Some("cus_x")
        ));
        assert!(!check(&read, Resource::Tokens, Method::POST, None));
        let all = principal(&Scope::ALL, api_key());
        assert!(check(&all, Resource::Tokens, Method::POST, None));
        assert!(!check(&read, Resource::Events, Method::GET, None));
        assert!(!check(&read, Resource::Webhooks, Method::GET, None));
        let events = principal(&[Scope::EventsRead], api_key());
        assert!(check(&events, Resource::Events, Method::GET, None));
        assert!(!check(&events, Resource::Webhooks, Method::GET, None));
        let webhooks = principal(&[Scope::WebhooksWrite], api_key());
        assert!(check(&webhooks, Resource::Webhooks, Method::GET, None));
        assert!(check(
            &webhooks,
            Resource::Webhooks,
            Method::DELETE,
            Some("whe_x")
        ));
    }

    #[test]
    fn other_organizations_are_forbidden() {
        let all = principal(&Scope::ALL, api_key());
        let other = OrganizationId::generate().to_string();
        assert!(authorize(&all, Some(&other), Resource::Customers, &Method::GET, None).is_err());
        assert!(authorize(&all, None, Resource::Customers, &Method::GET, None).is_err());
    }

    #[test]
    fn bound_tokens_reach_one_customer_for_get_and_put() {
        let bound = CustomerId::generate();
        let token = principal(
            &[Scope::CustomersRead, Scope::CustomersWrite],
            Credential::Token {
                key_id: KeyId::generate(),
                customer_id: Some(bound),
                fields: FieldSet::payer(),
            },
        );
        let own = bound.to_string();
        let other = CustomerId::generate().to_string();
        assert!(check(&token, Resource::Customer, Method::GET, Some(&own)));
        assert!(check(&token, Resource::Customer, Method::PUT, Some(&own)));
        assert!(!check(
            &token,
            Resource::Customer,
            Method::DELETE,
            Some(&own)
        ));
        assert!(!check(
            &token,
            Resource::Customer,
            Method::GET,
            Some(&other)
        ));
        assert!(!check(&token, Resource::Customers, Method::GET, None));
        assert!(!check(&token, Resource::Customers, Method::POST, None));
        let unbound = principal(
            &[Scope::CustomersRead],
            Credential::Token {
                key_id: KeyId::generate(),
                customer_id: None,
                fields: FieldSet::all(),
            },
        );
        assert!(check(&unbound, Resource::Customers, Method::GET, None));
        assert!(!check(&unbound, Resource::Tokens, Method::POST, None));
    }
}
