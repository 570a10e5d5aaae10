//! Typed, prefixed identifiers (`org_…`, `cus_…`, `key_…`): a prefix, then a
//! UUIDv7 in lowercase simple form. UUIDv7 keeps inserts in index order.

use std::fmt;
use uuid::Uuid;

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A new, time-ordered id.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Accepts only the canonical form this service hands out, so
            /// one customer has exactly one spelling of its id.
            pub fn parse(text: &str) -> Option<Self> {
                let hex = text.strip_prefix($prefix)?.strip_prefix('_')?;
                let canonical = hex.len() == 32
                    && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                canonical.then(|| Uuid::try_parse(hex).ok().map(Self)).flatten()
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
    };
}

prefixed_id!(
    /// An organization: the tenant every other record belongs to.
    OrganizationId,
    "org"
);
prefixed_id!(
    /// A customer of one organization.
    CustomerId,
    "cus"
);
prefixed_id!(
    /// The public half of an API key.
    KeyId,
    "key"
);

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
