//! Each route's path, written once: the router, the metrics' route label
//! and the OpenAPI document all read it.

macro_rules! organization {
    ($rest:literal) => {
        concat!("/v1/public-api/organizations/{organizationId}", $rest)
    };
}

pub const CUSTOMERS: &str = organization!("/customers");
pub const CUSTOMER: &str = organization!("/customers/{customerId}");
pub const CUSTOMERS_EXPORT: &str = organization!("/customers/export");
pub const CUSTOMERS_STATS: &str = organization!("/customers/stats");
pub const CUSTOMER_IMPORTS: &str = organization!("/customers/imports");
pub const CUSTOMER_IMPORT: &str = organization!("/customers/imports/{importId}");
pub const CUSTOMER_IMPORT_ERRORS: &str = organization!("/customers/imports/{importId}/errors");
pub const CUSTOMER_RESTORE: &str = organization!("/customers/{customerId}/restore");
pub const CUSTOMER_ERASE: &str = organization!("/customers/{customerId}/erase");
pub const TOKENS: &str = organization!("/tokens");
pub const EVENTS: &str = organization!("/events");
pub const AUDIT_EVENTS: &str = organization!("/audit-events");
pub const WEBHOOK_ENDPOINTS: &str = organization!("/webhook-endpoints");
pub const WEBHOOK_ENDPOINT: &str = organization!("/webhook-endpoints/{endpointId}");
pub const CUSTOM_FIELDS: &str = organization!("/custom-fields");
pub const CUSTOM_FIELD: &str = organization!("/custom-fields/{name}");
pub const WEBHOOK_DELIVERIES: &str = organization!("/webhook-endpoints/{endpointId}/deliveries");
pub const WEBHOOK_RESEND: &str = organization!("/webhook-endpoints/{endpointId}/resend");
pub const HEALTH: &str = "/health";
pub const READY: &str = "/ready";
pub const METRICS: &str = "/metrics";
pub const OPENAPI: &str = "/openapi.json";
pub const DOCS: &str = "/docs";
