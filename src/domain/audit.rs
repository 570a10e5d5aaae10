//! The audit log (contract section 13): who changed or read what, when and
//! from where. An audit event names ids and field names, never a personal
//! value.

use serde::Serialize;
use serde_json::{Value, json};

use super::event::EventType;
use super::ids::{AuditEventId, KeyId, UserId};
use super::listing::{DEFAULT_LIMIT, Paged, limit_parameter};
use super::query::{Parameter, parse_query};
use super::time::Time;

/// What was done. Each is written by exactly one kind of action, in the
/// transaction of the change it records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    CustomerCreated,
    CustomerUpdated,
    CustomerDeleted,
    CustomerRestored,
    CustomerErased,
    /// A bulk read of personal data: an export.
    CustomersExported,
    /// A bulk read of personal data: a list that includes deleted customers.
    CustomersListedWithDeleted,
    /// An import of customers began (each row's change has its own event).
    CustomersImported,
    ImportCancelled,
    TokenCreated,
    KeyCreated,
    KeyRolled,
    KeyRevoked,
    WebhookEndpointCreated,
    WebhookEndpointUpdated,
    WebhookEndpointDeleted,
    WebhookDeliveryResent,
    CustomFieldCreated,
    CustomFieldUpdated,
    CustomFieldDeleted,
    MemberInvited,
    MemberJoined,
    MemberRoleChanged,
    MemberDisabled,
    SignInSucceeded,
    SignInFailed,
    TwoStepEnrolled,
    TwoStepRemoved,
    PasswordChanged,
    SettingsUpdated,
    OrganizationCreated,
    OrganizationDisabled,
    /// A platform operator read the organization's console.
    OrganizationViewed,
}

impl Action {
    pub const ALL: [Action; 33] = [
        Self::CustomerCreated,
        Self::CustomerUpdated,
        Self::CustomerDeleted,
        Self::CustomerRestored,
        Self::CustomerErased,
        Self::CustomersExported,
        Self::CustomersListedWithDeleted,
        Self::CustomersImported,
        Self::ImportCancelled,
        Self::TokenCreated,
        Self::KeyCreated,
        Self::KeyRolled,
        Self::KeyRevoked,
        Self::WebhookEndpointCreated,
        Self::WebhookEndpointUpdated,
        Self::WebhookEndpointDeleted,
        Self::WebhookDeliveryResent,
        Self::CustomFieldCreated,
        Self::CustomFieldUpdated,
        Self::CustomFieldDeleted,
        Self::MemberInvited,
        Self::MemberJoined,
        Self::MemberRoleChanged,
        Self::MemberDisabled,
        Self::SignInSucceeded,
        Self::SignInFailed,
        Self::TwoStepEnrolled,
        Self::TwoStepRemoved,
        Self::PasswordChanged,
        Self::SettingsUpdated,
        Self::OrganizationCreated,
        Self::OrganizationDisabled,
        Self::OrganizationViewed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerCreated => "customer.created",
            Self::CustomerUpdated => "customer.updated",
            Self::CustomerDeleted => "customer.deleted",
            Self::CustomerRestored => "customer.restored",
            Self::CustomerErased => "customer.erased",
            Self::CustomersExported => "customers.exported",
            Self::CustomersListedWithDeleted => "customers.listed_with_deleted",
            Self::CustomersImported => "customers.imported",
            Self::ImportCancelled => "import.cancelled",
            Self::TokenCreated => "token.created",
            Self::KeyCreated => "key.created",
            Self::KeyRolled => "key.rolled",
            Self::KeyRevoked => "key.revoked",
            Self::WebhookEndpointCreated => "webhook_endpoint.created",
            Self::WebhookEndpointUpdated => "webhook_endpoint.updated",
            Self::WebhookEndpointDeleted => "webhook_endpoint.deleted",
            Self::WebhookDeliveryResent => "webhook_delivery.resent",
            Self::CustomFieldCreated => "custom_field.created",
            Self::CustomFieldUpdated => "custom_field.updated",
            Self::CustomFieldDeleted => "custom_field.deleted",
            Self::MemberInvited => "member.invited",
            Self::MemberJoined => "member.joined",
            Self::MemberRoleChanged => "member.role_changed",
            Self::MemberDisabled => "member.disabled",
            Self::SignInSucceeded => "sign_in.succeeded",
            Self::SignInFailed => "sign_in.failed",
            Self::TwoStepEnrolled => "two_step.enrolled",
            Self::TwoStepRemoved => "two_step.removed",
            Self::PasswordChanged => "password.changed",
            Self::SettingsUpdated => "settings.updated",
            Self::OrganizationCreated => "organization.created",
            Self::OrganizationDisabled => "organization.disabled",
            Self::OrganizationViewed => "organization.viewed",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|action| action.as_str() == name)
    }

    /// A change of one customer: the actions whose target is a `customer`.
    pub fn is_customer_change(self) -> bool {
        matches!(
            self,
            Self::CustomerCreated
                | Self::CustomerUpdated
                | Self::CustomerDeleted
                | Self::CustomerRestored
                | Self::CustomerErased
        )
    }

    fn schema() -> Value {
        let names: Vec<&str> = Self::ALL.iter().map(|a| a.as_str()).collect();
        json!({"type": "string", "enum": names})
    }
}

impl From<EventType> for Action {
    fn from(kind: EventType) -> Self {
        match kind {
            EventType::CustomerCreated => Self::CustomerCreated,
            EventType::CustomerUpdated => Self::CustomerUpdated,
            EventType::CustomerDeleted => Self::CustomerDeleted,
            EventType::CustomerRestored => Self::CustomerRestored,
            EventType::CustomerErased => Self::CustomerErased,
        }
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    ApiKey(KeyId),
    /// A token, by the key that minted it.
    Token(KeyId),
    Member {
        id: UserId,
        email: String,
    },
    Operator {
        id: UserId,
        email: String,
    },
    /// The command line, on the server's host.
    Cli,
    /// Someone not (yet) known: a sign-in that failed.
    Anonymous,
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ApiKey(_) => "apiKey",
            Self::Token(_) => "token",
            Self::Member { .. } => "member",
            Self::Operator { .. } => "operator",
            Self::Cli => "cli",
            Self::Anonymous => "anonymous",
        }
    }

    pub fn id(&self) -> Option<String> {
        match self {
            Self::ApiKey(key) | Self::Token(key) => Some(key.to_string()),
            Self::Member { id, .. } | Self::Operator { id, .. } => Some(id.to_string()),
            Self::Cli | Self::Anonymous => None,
        }
    }

    /// The actor that [`Actor::kind`], [`Actor::id`] and [`Actor::email`]
    /// described, read back from where they were kept.
    pub fn restore(kind: &str, id: Option<&str>, email: Option<&str>) -> Option<Self> {
        let user = || id.and_then(UserId::parse);
        let email = || email.map(str::to_owned);
        Some(match kind {
            "apiKey" => Self::ApiKey(id.and_then(KeyId::parse)?),
            "token" => Self::Token(id.and_then(KeyId::parse)?),
            "member" => Self::Member {
                id: user()?,
                email: email()?,
            },
            "operator" => Self::Operator {
                id: user()?,
                email: email()?,
            },
            "cli" => Self::Cli,
            "anonymous" => Self::Anonymous,
            _ => return None,
        })
    }

    pub fn email(&self) -> Option<&str> {
        match self {
            Self::Member { email, .. } | Self::Operator { email, .. } => Some(email),
            _ => None,
        }
    }
}

/// Where a request came from: its id, the client's address and what it
/// said it is. Bounded: a client cannot grow the log by what it sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The most characters of a `User-Agent` kept.
pub const MAX_USER_AGENT_CHARS: usize = 256;

impl Origin {
    pub fn new(request_id: Option<&str>, ip: Option<String>, user_agent: Option<&str>) -> Self {
        Self {
            request_id: request_id.map(str::to_owned),
            ip,
            user_agent: user_agent.map(|agent| agent.chars().take(MAX_USER_AGENT_CHARS).collect()),
        }
    }
}

/// Who acts and from where: what every change's audit event records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    pub actor: Actor,
    pub origin: Origin,
}

impl Audit {
    /// The command line acting on the server's host.
    pub fn cli() -> Self {
        Self {
            actor: Actor::Cli,
            origin: Origin::default(),
        }
    }
}

/// What an action was done to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: &'static str,
    pub id: Option<String>,
}

impl Target {
    pub fn new(kind: &'static str, id: impl ToString) -> Self {
        Self {
            kind,
            id: Some(id.to_string()),
        }
    }

    /// Many records at once (an export): no one id.
    pub fn many(kind: &'static str) -> Self {
        Self { kind, id: None }
    }
}

/// An audit event as the API answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    #[schema(value_type = String, pattern = "^aud_[0-9a-f]{32}$")]
    pub id: AuditEventId,
    #[schema(inline)]
    pub time: Time,
    /// `customer.updated`, `key.rolled`, `sign_in.failed`, …
    pub action: String,
    pub actor: ActorBody,
    pub target: TargetBody,
    /// The names of the fields a change touched (never their values).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub fields: Option<Vec<String>>,
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub livemode: bool,
}

/// Who acted, in an audit event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActorBody {
    /// `apiKey`, `token`, `member`, `operator`, `cli` or `anonymous`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The key's id (`key_…`) or the person's (`usr_…`); null for the CLI.
    pub id: Option<String>,
    /// A person's email.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub email: Option<String>,
}

/// What an action was done to, in an audit event.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TargetBody {
    /// `customer`, `customers`, `key`, `webhookEndpoint`, `customField`,
    /// `member`, `organization`, `token`.
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Option<String>,
}

/// The audit log's query: `startingAfter`, `action`, `actorId`,
/// `targetId`, `from`, `to`, `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditParams {
    pub starting_after: Option<AuditEventId>,
    pub action: Option<Action>,
    pub actor_id: Option<String>,
    pub target_id: Option<String>,
    pub from: Option<Time>,
    pub to: Option<Time>,
    pub limit: i64,
}

impl Default for AuditParams {
    fn default() -> Self {
        Self {
            starting_after: None,
            action: None,
            actor_id: None,
            target_id: None,
            from: None,
            to: None,
            limit: DEFAULT_LIMIT,
        }
    }
}

impl Paged for AuditParams {
    fn limit_mut(&mut self) -> &mut i64 {
        &mut self.limit
    }
}

/// An id of any kind, as a filter: the prefixed form this service hands out.
fn record_id(raw: &str) -> Result<String, String> {
    let valid = raw.len() <= 40
        && raw.split_once('_').is_some_and(|(prefix, hex)| {
            (3..=4).contains(&prefix.len())
                && prefix.bytes().all(|b| b.is_ascii_lowercase())
                && hex.len() == 32
                && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        });
    match valid {
        true => Ok(raw.to_owned()),
        false => Err("must be an id such as usr_… or cus_…".into()),
    }
}

fn id_schema() -> Value {
    json!({"type": "string", "pattern": "^[a-z]{3,4}_[0-9a-f]{32}$"})
}

pub const AUDIT_PARAMETERS: [Parameter<AuditParams>; 7] = [
    Parameter {
        name: "startingAfter",
        description: "The events after this one in the list's order: older than it.",
        parse: |p, raw| {
            p.starting_after =
                Some(AuditEventId::parse(raw).ok_or("must be an audit event id (aud_…)")?);
            Ok(())
        },
        schema: AuditEventId::schema,
    },
    Parameter {
        name: "action",
        description: "Only events of this action.",
        parse: |p, raw| {
            p.action =
                Some(Action::parse(raw).ok_or("must be an audit action such as customer.updated")?);
            Ok(())
        },
        schema: Action::schema,
    },
    Parameter {
        name: "actorId",
        description: "Only what this key (`key_…`) or person (`usr_…`) did.",
        parse: |p, raw| {
            p.actor_id = Some(record_id(raw)?);
            Ok(())
        },
        schema: id_schema,
    },
    Parameter {
        name: "targetId",
        description: "Only what was done to this record.",
        parse: |p, raw| {
            p.target_id = Some(record_id(raw)?);
            Ok(())
        },
        schema: id_schema,
    },
    Parameter {
        name: "from",
        description: "Only events at or after this time (RFC 3339).",
        parse: |p, raw| {
            p.from = Some(super::listing::parse_time(raw)?);
            Ok(())
        },
        schema: super::listing::time_schema,
    },
    Parameter {
        name: "to",
        description: "Only events before this time (RFC 3339).",
        parse: |p, raw| {
            p.to = Some(super::listing::parse_time(raw)?);
            Ok(())
        },
        schema: super::listing::time_schema,
    },
    limit_parameter(),
];

impl AuditParams {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Vec<super::InvalidField>> {
        let (params, errors) = parse_query(pairs, &AUDIT_PARAMETERS, Self::default());
        errors.into_result(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.as_str()), Some(action));
        }
        let mut names: Vec<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
    }

    #[test]
    fn the_query_is_parsed_whole() {
        let pairs = |q: &[(&str, &str)]| -> Vec<(String, String)> {
            q.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let params = AuditParams::parse(&pairs(&[
            ("action", "customer.updated"),
            ("actorId", "usr_0193a3c2d1027e4fab3c4d5e6f7a8b9c"),
            ("from", "2026-12-01T00:00:00Z"),
            ("limit", "5"),
        ]))
        .unwrap();
        assert_eq!(params.action, Some(Action::CustomerUpdated));
        assert_eq!(params.limit, 5);
        let refused = AuditParams::parse(&pairs(&[
            ("action", "x"),
            ("targetId", "cus_1"),
            ("nope", "1"),
        ]))
        .unwrap_err();
        let names: Vec<&str> = refused.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["action", "targetId", "nope"]);
    }
}
