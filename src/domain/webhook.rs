//! Webhook endpoints (contract section 9): where an organization's events
//! are sent, and which addresses they may be sent to.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::{Map, Value, json};
use url::{Host, Url};

use super::change::Change;
use super::event::{Event, EventType};
use super::ids::{AttemptId, EventId};
use super::invalid::{InvalidField, InvalidFields};
use super::listing::{DEFAULT_LIMIT, Paged, limit_parameter};
use super::query::{Parameter, parse_query};
use super::refusal::Refusal;
use super::text::{bounded_text, bounded_text_pattern};

/// At most this many endpoints per organization.
pub const MAX_ENDPOINTS: i64 = 16;
/// A create beyond [`MAX_ENDPOINTS`].
pub const TOO_MANY_ENDPOINTS: Refusal =
    Refusal::LimitReached("An organization has at most 16 webhook endpoints; delete one first.");
pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_DESCRIPTION_CHARS: usize = 500;

/// Which event types an endpoint receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    /// `["*"]`: every type, those added later included.
    All,
    Types(Vec<EventType>),
}

impl Subscription {
    pub fn includes(&self, event: &Event) -> bool {
        match self {
            Self::All => true,
            Self::Types(types) => {
                EventType::parse(event.r#type).is_some_and(|kind| types.contains(&kind))
            }
        }
    }

    /// `*`, or the types space-separated: as stored.
    pub fn to_stored(&self) -> String {
        match self {
            Self::All => "*".into(),
            Self::Types(types) => types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    pub fn from_stored(text: &str) -> Self {
        match text {
            "*" => Self::All,
            _ => Self::Types(text.split(' ').filter_map(EventType::parse).collect()),
        }
    }

    /// As answers show it: `["*"]` or the types.
    pub fn names(&self) -> Vec<&'static str> {
        match self {
            Self::All => vec!["*"],
            Self::Types(types) => types.iter().map(|t| t.as_str()).collect(),
        }
    }

    /// An item of `events`: a type or `*` (one enum, which generated
    /// clients turn into one type).
    fn item_schema() -> Value {
        let mut schema = EventType::schema();
        schema["enum"].as_array_mut().unwrap().insert(0, json!("*"));
        schema["x-enum-varnames"]
            .as_array_mut()
            .unwrap()
            .insert(0, json!("ALL"));
        schema
    }

    fn parse(value: &Value) -> Result<Self, String> {
        const RULE: &str = "must be [\"*\"] or a non-empty list of event types";
        let names: Option<Vec<&str>> = value
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect());
        let names = names
            .filter(|n| !n.is_empty() && Some(n.len()) == value.as_array().map(Vec::len))
            .ok_or(RULE)?;
        let mut types = Vec::new();
        for name in names.iter().filter(|name| **name != "*") {
            let kind =
                EventType::parse(name).ok_or_else(|| format!("unknown event type {name:?}"))?;
            if !types.contains(&kind) {
                types.push(kind);
            }
        }
        // `*` among types still means every type (the document's one item
        // enum cannot say "alone"), once every other item is a type.
        match names.contains(&"*") {
            true => Ok(Self::All),
            false => Ok(Self::Types(types)),
        }
    }
}

/// Whether endpoints may be plain http and point at private addresses:
/// outside production, or when `CLIENTELE_WEBHOOK_ALLOW_PRIVATE=true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlPolicy {
    pub allow_private: bool,
}

/// An endpoint URL: absolute `http(s)`, at most 2,048 characters; under a
/// strict policy `https` only, and no host that names a private address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl(Url);

impl EndpointUrl {
    pub fn parse(raw: &str, policy: UrlPolicy) -> Result<Self, String> {
        if raw.chars().count() > MAX_URL_CHARS {
            return Err(format!("must be at most {MAX_URL_CHARS} characters"));
        }
        let url =
            Url::parse(raw).map_err(|_| "must be an absolute http or https URL".to_owned())?;
        let host = url.host().ok_or("must name a host")?;
        match (url.scheme(), policy.allow_private) {
            ("https", _) | ("http", true) => {}
            ("http", false) => return Err("must be https".into()),
            _ => return Err("must be an absolute http or https URL".into()),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not hold credentials".into());
        }
        if !policy.allow_private {
            let private = match host {
                Host::Ipv4(ip) => !is_public(IpAddr::V4(ip)),
                Host::Ipv6(ip) => !is_public(IpAddr::V6(ip)),
                Host::Domain(name) => {
                    let name = name.trim_end_matches('.').to_ascii_lowercase();
                    name == "localhost" || name.ends_with(".localhost") || name.ends_with(".local")
                }
            };
            if private {
                return Err(
                    "must not point at a private, loopback, link-local or reserved address".into(),
                );
            }
        }
        Ok(Self(url))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host and port to resolve (a name, or an address literal).
    pub fn host_and_port(&self) -> (String, u16) {
        let host = self
            .0
            .host_str()
            .unwrap_or_default()
            .trim_matches(['[', ']'])
            .to_owned();
        (host, self.0.port_or_known_default().unwrap_or(443))
    }

    pub fn schema() -> Value {
        json!({"type": "string", "format": "uri", "maxLength": MAX_URL_CHARS, "examples": ["https://example.com/hooks/clientele"],
               "description": "Absolute http(s). In production https only, and never a loopback, private, link-local or otherwise reserved address (checked when set, and again on the resolved address at delivery) unless CLIENTELE_WEBHOOK_ALLOW_PRIVATE=true."})
    }
}

/// Whether a delivery may go to `ip`: not loopback, private, link-local,
/// unspecified, multicast, broadcast, shared (CGNAT), documentation,
/// benchmarking or otherwise reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(ip),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        || first == 0x0100
        || ip.to_ipv4().is_some())
}

/// What a request says about an endpoint: `POST` names `url` and `events`
/// (and may describe it); `PUT` changes any of them and `enabled`.
#[derive(Debug, Clone, Default)]
pub struct EndpointChanges {
    pub url: Option<EndpointUrl>,
    pub events: Option<Subscription>,
    pub description: Change<String>,
    pub enabled: Option<bool>,
}

impl EndpointChanges {
    /// Parses a body; `creating` makes `url` and `events` required and
    /// `enabled` unknown.
    pub fn from_json(
        body: &Map<String, Value>,
        creating: bool,
        policy: UrlPolicy,
    ) -> Result<Self, Vec<InvalidField>> {
        let mut errors = InvalidFields::default();
        let mut changes = Self::default();
        for (name, value) in body {
            match name.as_str() {
                "url" => match value.as_str().map(|raw| EndpointUrl::parse(raw, policy)) {
                    Some(Ok(url)) => changes.url = Some(url),
                    Some(Err(message)) => errors.push("url", message),
                    None => errors.push("url", "must be a string"),
                },
                "events" => match Subscription::parse(value) {
                    Ok(events) => changes.events = Some(events),
                    Err(message) => errors.push("events", message),
                },
                "description" => match value {
                    Value::Null => changes.description = Change::Set(None),
                    Value::String(text) => match bounded_text(text, MAX_DESCRIPTION_CHARS) {
                        Ok(text) => changes.description = Change::Set(Some(text)),
                        Err(message) => errors.push("description", message),
                    },
                    _ => errors.push("description", "must be a string or null"),
                },
                "enabled" if !creating => match value.as_bool() {
                    Some(enabled) => changes.enabled = Some(enabled),
                    None => errors.push("enabled", "must be true or false"),
                },
                "id" | "secret" | "createdTime" | "livemode" => {
                    errors.push(name.as_str(), "is read-only")
                }
                _ => errors.push(name.as_str(), "unknown field"),
            }
        }
        if creating {
            for (field, missing) in [
                ("url", changes.url.is_none()),
                ("events", changes.events.is_none()),
            ] {
                if missing && !body.contains_key(field) {
                    errors.push(field, "is required");
                }
            }
        }
        errors.into_result(changes)
    }

    /// The JSON Schema of a body: `creating` for POST, else PUT.
    pub fn schema(creating: bool) -> Value {
        let mut properties = json!({
            "url": EndpointUrl::schema(),
            "events": {"type": "array", "minItems": 1, "items": Subscription::item_schema(),
                       "description": "The event types sent to it, or [\"*\"] for every type.", "examples": [["customer.created", "customer.updated"]]},
            "description": {"type": ["string", "null"], "pattern": bounded_text_pattern(MAX_DESCRIPTION_CHARS)},
        });
        if !creating {
            properties["enabled"] =
                json!({"type": "boolean", "description": "A disabled endpoint receives nothing."});
        }
        let mut schema =
            json!({"type": "object", "additionalProperties": false, "properties": properties});
        if creating {
            schema["required"] = json!(["url", "events"]);
        }
        schema
    }
}

/// The body of `POST …/webhook-endpoints/{endpointId}/resend`:
/// `{"eventId": "evt_…"}`, and nothing else.
pub fn resend_body(body: &Map<String, Value>) -> Result<EventId, Vec<InvalidField>> {
    let mut errors = InvalidFields::default();
    let mut event = None;
    for (name, value) in body {
        match name.as_str() {
            "eventId" => match value.as_str().and_then(EventId::parse) {
                Some(id) => event = Some(id),
                None => errors.push("eventId", "must be an event id (evt_…)"),
            },
            _ => errors.push(name.as_str(), "unknown field"),
        }
    }
    if event.is_none() && !body.contains_key("eventId") {
        errors.push("eventId", "is required");
    }
    errors.into_result(event.unwrap_or_else(EventId::generate))
}

/// The JSON Schema of [`resend_body`]'s body.
pub fn resend_schema() -> Value {
    json!({
        "type": "object", "additionalProperties": false, "required": ["eventId"],
        "properties": {"eventId": EventId::schema()},
        "examples": [{"eventId": EventId::EXAMPLE}]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: UrlPolicy = UrlPolicy {
        allow_private: false,
    };
    const LOOSE: UrlPolicy = UrlPolicy {
        allow_private: true,
    };

    #[test]
    fn urls_under_each_policy() {
        assert!(EndpointUrl::parse("https://hooks.example.com/x", STRICT).is_ok());
        for refused in [
            "http://hooks.example.com/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://192.168.0.1/x",
            "https://169.254.169.254/latest",
            "https://[::1]/x",
            "https://[fd00::1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://localhost:8443/x",
            "https://100.64.0.1/x",
            "https://0.0.0.0/x",
            "https://user:pass@hooks.example.com/x",
            "ftp://hooks.example.com/x",
            "/relative",
        ] {
            assert!(EndpointUrl::parse(refused, STRICT).is_err(), "{refused}");
        }
        assert!(EndpointUrl::parse("http://127.0.0.1:9/x", LOOSE).is_ok());
        assert!(
            EndpointUrl::parse(
                &format!("https://a.example/{}", "x".repeat(MAX_URL_CHARS)),
                LOOSE
            )
            .is_err()
        );
    }

    #[test]
    fn subscriptions() {
        assert_eq!(Subscription::parse(&json!(["*"])), Ok(Subscription::All));
        let some = Subscription::parse(&json!([
            "customer.created",
            "customer.created",
            "customer.deleted"
        ]))
        .unwrap();
        assert_eq!(some.to_stored(), "customer.created customer.deleted");
        assert_eq!(Subscription::from_stored(&some.to_stored()), some);
        for bad in [
            json!([]),
            json!("*"),
            json!(["customer.merged"]),
            json!(["*", "customer.merged"]),
            json!([1]),
        ] {
            assert!(Subscription::parse(&bad).is_err(), "{bad}");
        }
    }
}

/// The deliveries listing's query: `startingAfter` (an attempt), `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptParams {
    pub starting_after: Option<AttemptId>,
    pub limit: i64,
}

impl Paged for AttemptParams {
    fn limit_mut(&mut self) -> &mut i64 {
        &mut self.limit
    }
}

pub const ATTEMPT_PARAMETERS: [Parameter<AttemptParams>; 2] = [
    Parameter {
        name: "startingAfter",
        description: "The attempts older than this one (the last one seen).",
        parse: |p, raw| {
            p.starting_after = Some(AttemptId::parse(raw).ok_or("must be an attempt id (wha_…)")?);
            Ok(())
        },
        schema: AttemptId::schema,
    },
    limit_parameter(),
];

impl AttemptParams {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Vec<InvalidField>> {
        let first = Self {
            starting_after: None,
            limit: DEFAULT_LIMIT,
        };
        let (params, errors) = parse_query(pairs, &ATTEMPT_PARAMETERS, first);
        errors.into_result(params)
    }
}
