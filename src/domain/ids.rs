//! Typed, prefixed identifiers (`org_…`, `cus_…`, `key_…`): a prefix, then a
//! UUIDv7 in lowercase simple form. UUIDv7 keeps inserts in index order.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::{Value, json};
use utoipa::openapi::{RefOr, Schema};
use uuid::Uuid;

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $example:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            pub const PREFIX: &'static str = $prefix;
            pub const PATTERN: &'static str = concat!("^", $prefix, "_[0-9a-f]{32}$");
            pub const EXAMPLE: &'static str = $example;

            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Accepts only the canonical form this service hands out, so
            /// one record has exactly one spelling of its id.
            pub fn parse(text: &str) -> Option<Self> {
                let hex = text.strip_prefix($prefix)?.strip_prefix('_')?;
                let canonical = hex.len() == 32
                    && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                canonical.then(|| Uuid::try_parse(hex).ok().map(Self)).flatten()
            }

            pub fn schema() -> Value {
                json!({"type": "string", "pattern": Self::PATTERN, "examples": [Self::EXAMPLE]})
            }

            /// The UUID behind the prefix (ids of different kinds may share
            /// a keyed structure through it).
            pub fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}_{}", $prefix, self.0.simple())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                super::schema::of($name::schema())
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

prefixed_id!(
    /// An organization: the tenant every other record belongs to.
    OrganizationId,
    "org",
    "org_0193a3c2d1007c2e8a1b2c3d4e5f6a7b"
);
prefixed_id!(
    /// A customer of one organization.
    CustomerId,
    "cus",
    "cus_0193a3c2e4f87b6a9d5e1f0c2b3a4d5e"
);
prefixed_id!(
    /// An event of the change feed.
    EventId,
    "evt",
    "evt_0193a3c2e5f07d1e8f2a3b4c5d6e7f80"
);
prefixed_id!(
    /// A webhook endpoint of one organization.
    EndpointId,
    "whe",
    "whe_0193a3c2e6117e2f9a3b4c5d6e7f8091"
);
prefixed_id!(
    /// One attempt to deliver an event to an endpoint.
    AttemptId,
    "wha",
    "wha_0193a3c2e7227f3a0b4c5d6e7f8091a2"
);
prefixed_id!(
    /// The public half of an API key.
    KeyId,
    "key",
    "key_0193a3c2d1017d3e9a2b3c4d5e6f7a8b"
);

prefixed_id!(
    /// A person who signs in to the console: a member of one organization,
    /// or a platform operator.
    UserId,
    "usr",
    "usr_0193a3c2d1027e4fab3c4d5e6f7a8b9c"
);
prefixed_id!(
    /// An import of customers from a file (contract section 15).
    ImportId,
    "imp",
    "imp_0193a3c2e9449b5c2d6e7f8091a2b3c4"
);
prefixed_id!(
    /// An event of an organization's audit log.
    AuditEventId,
    "aud",
    "aud_0193a3c2e8338a4b1c5d6e7f8091a2b3"
);

impl AuditEventId {
    /// The id of an audit event at `time`: a UUIDv7 of that millisecond, so
    /// that ids order the log by time and a time is a bound on ids.
    pub fn at(time: super::time::Time) -> Self {
        let millis = time.unix_millis().max(0);
        let timestamp = uuid::Timestamp::from_unix(
            uuid::NoContext,
            millis.div_euclid(1000) as u64,
            (millis.rem_euclid(1000) * 1_000_000) as u32,
        );
        Self(Uuid::new_v7(timestamp))
    }

    /// The lowest id of any event at `time` or later.
    pub fn first_at(time: super::time::Time) -> Self {
        let bytes = (time.unix_millis().max(0) as u64).to_be_bytes();
        let mut raw = [0u8; 16];
        raw[..6].copy_from_slice(&bytes[2..]);
        Self(Uuid::from_bytes(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_text() {
        let id = CustomerId::generate();
        let text = id.to_string();
        assert!(text.starts_with("cus_") && text.len() == 36);
        assert_eq!(CustomerId::parse(&text), Some(id));
    }

    #[test]
    fn audit_ids_order_by_time() {
        let now = super::super::time::Time::now();
        let id = AuditEventId::at(now);
        assert!(AuditEventId::first_at(now) <= id);
        assert!(id < AuditEventId::first_at(now.next_millisecond()));
    }

    #[test]
    fn rejects_other_spellings() {
        let id = CustomerId::generate().to_string();
        assert_eq!(CustomerId::parse(&id.to_uppercase()), None);
        assert_eq!(CustomerId::parse(&id.replace("cus_", "org_")), None);
        assert_eq!(OrganizationId::parse(&id), None);
        assert_eq!(CustomerId::parse(&id[..35]), None);
        assert_eq!(
            CustomerId::parse("cus_0193a3c2-e4f8-7b6a-9d5e-1f0c2b3a4d5e"),
            None
        );
        assert_eq!(CustomerId::parse(""), None);
    }
}
