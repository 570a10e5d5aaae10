//! The change feed's events (contract section 9).

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::customer::{Customer, is_read_only};
use super::ids::{CustomerId, EventId, OrganizationId};
use super::listing::{Paged, limit_parameter};
use super::query::{Parameter, parse_query};
use super::time::Time;

/// What happened to a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    CustomerCreated,
    CustomerUpdated,
    CustomerDeleted,
    CustomerRestored,
    CustomerErased,
}

impl EventType {
    pub const ALL: [EventType; 5] = [
        Self::CustomerCreated,
        Self::CustomerUpdated,
        Self::CustomerDeleted,
        Self::CustomerRestored,
        Self::CustomerErased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerCreated => "customer.created",
            Self::CustomerUpdated => "customer.updated",
            Self::CustomerDeleted => "customer.deleted",
            Self::CustomerRestored => "customer.restored",
            Self::CustomerErased => "customer.erased",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    pub fn schema() -> Value {
        let names: Vec<&str> = Self::ALL.iter().map(|kind| kind.as_str()).collect();
        let codes: Vec<String> = names
            .iter()
            .map(|n| n.replace('.', "_").to_uppercase())
            .collect();
        json!({"type": "string", "enum": names, "x-enum-varnames": codes})
    }
}

/// An event as the feed and webhook deliveries show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    #[schema(inline)]
    pub id: EventId,
    #[schema(example = "customer.updated")]
    pub r#type: &'static str,
    #[schema(inline)]
    pub organization_id: OrganizationId,
    /// False for events of test-mode customers.
    pub livemode: bool,
    #[schema(inline)]
    pub customer_id: CustomerId,
    /// The customer's revision after the change.
    pub revision: i32,
    #[schema(inline)]
    pub created_time: Time,
    /// `{"object": the customer after the change (before it, when deleted),
    /// "previousAttributes": the previous value of each changed field (on
    /// customer.updated)}`.
    #[schema(value_type = Object)]
    pub data: Box<RawValue>,
}

/// The `data` of an event about `customer`: the customer, and on an update
/// the previous value of every field that changed; and the names of those
/// fields.
pub fn data(
    kind: EventType,
    customer: &Customer,
    before: Option<&Customer>,
) -> (String, Vec<String>) {
    let mut object = serde_json::to_value(customer).unwrap_or_default();
    if kind == EventType::CustomerErased {
        // Of an erased customer only the ids and times are told.
        if let Value::Object(fields) = &mut object {
            fields.retain(|name, _| is_read_only(name));
        }
    }
    let mut data = json!({"object": object});
    let mut changed = Vec::new();
    if let (EventType::CustomerUpdated, Some(before)) = (kind, before) {
        let before = serde_json::to_value(before).unwrap_or_default();
        let previous = previous_attributes(&before, &data["object"]);
        changed = previous.keys().cloned().collect();
        data["previousAttributes"] = Value::Object(previous);
    }
    (data.to_string(), changed)
}

/// An event's stored `data` with the personal fields of its customer
/// redacted (an erase); `None` when it is not JSON.
pub fn redacted_data(data: &str) -> Option<String> {
    let mut data: Value = serde_json::from_str(data).ok()?;
    for part in ["object", "previousAttributes"] {
        if let Some(copy) = data.get_mut(part) {
            super::customer::redact(copy);
        }
    }
    Some(data.to_string())
}

/// The fields whose value differs, with their value in `before`; the
/// bookkeeping that every update moves (revision, updatedTime) is left out.
fn previous_attributes(before: &Value, after: &Value) -> Map<String, Value> {
    const BOOKKEEPING: [&str; 2] = ["revision", "updatedTime"];
    let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else {
        return Map::new();
    };
    before
        .iter()
        .filter(|(name, value)| {
            !BOOKKEEPING.contains(&name.as_str()) && after.get(*name) != Some(*value)
        })
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_attributes_hold_what_changed() {
        let before = json!({"firstName": "Jane", "email": "a@b.co", "revision": 1, "updatedTime": "t1", "address": {"city": "X"}});
        let after = json!({"firstName": "Jane", "email": "c@d.co", "revision": 2, "updatedTime": "t2", "address": null});
        let previous = previous_attributes(&before, &after);
        assert_eq!(
            Value::Object(previous),
            json!({"email": "a@b.co", "address": {"city": "X"}})
        );
    }

    #[test]
    fn types_round_trip() {
        for kind in EventType::ALL {
            assert_eq!(EventType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventType::parse("customer.merged"), None);
    }
}

/// The feed's query: `startingAfter`, `type`, `customerId`, `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedParams {
    pub starting_after: Option<EventId>,
    pub kind: Option<EventType>,
    pub customer_id: Option<CustomerId>,
    pub limit: i64,
}

impl Paged for FeedParams {
    fn limit_mut(&mut self) -> &mut i64 {
        &mut self.limit
    }
}

impl Default for FeedParams {
    fn default() -> Self {
        Self {
            starting_after: None,
            kind: None,
            customer_id: None,
            limit: super::listing::DEFAULT_LIMIT,
        }
    }
}

pub const FEED_PARAMETERS: [Parameter<FeedParams>; 4] = [
    Parameter {
        name: "startingAfter",
        description: "The events after this one (the last one seen), oldest first. An event older than the retention is 422.",
        parse: |p, raw| {
            p.starting_after = Some(EventId::parse(raw).ok_or("must be an event id (evt_…)")?);
            Ok(())
        },
        schema: EventId::schema,
    },
    Parameter {
        name: "type",
        description: "Only events of this type.",
        parse: |p, raw| {
            p.kind = Some(
                EventType::parse(raw).ok_or("must be an event type such as customer.updated")?,
            );
            Ok(())
        },
        schema: EventType::schema,
    },
    Parameter {
        name: "customerId",
        description: "Only events about this customer.",
        parse: |p, raw| {
            p.customer_id = Some(CustomerId::parse(raw).ok_or("must be a customer id (cus_…)")?);
            Ok(())
        },
        schema: CustomerId::schema,
    },
    limit_parameter(),
];

impl FeedParams {
    pub fn parse(pairs: &[(String, String)]) -> Result<Self, Vec<super::InvalidField>> {
        let (params, errors) = parse_query(pairs, &FEED_PARAMETERS, Self::default());
        errors.into_result(params)
    }
}
