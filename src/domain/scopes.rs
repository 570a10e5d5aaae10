//! What a credential may do.

use std::fmt;

/// One permission (contract section 2): `customers:read` for reading
/// customers, `customers:write` for changing them, `tokens:create` for
/// minting tokens, `events:read` for the change feed, `webhooks:write` for
/// every webhook-endpoint route, those of the reporting, privacy and
/// custom-field routes, and `audit:read` for the audit log (section 13).
/// The last three are the console's alone: people hold them through their
/// role, never a key ([`Scope::CONSOLE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    CustomersRead,
    CustomersWrite,
    TokensCreate,
    CustomersErase,
    ReportsRead,
    EventsRead,
    WebhooksWrite,
    CustomFieldsWrite,
    AuditRead,
    /// Create, revoke and roll API keys.
    KeysManage,
    /// Invite members, change their roles, disable them.
    MembersManage,
    /// Change the organization's settings (two-step required).
    SettingsManage,
}

impl Scope {
    /// Every scope a key may hold.
    pub const ALL: [Scope; 9] = [
        Scope::CustomersRead,
        Scope::CustomersWrite,
        Scope::TokensCreate,
        Scope::CustomersErase,
        Scope::ReportsRead,
        Scope::EventsRead,
        Scope::WebhooksWrite,
        Scope::CustomFieldsWrite,
        Scope::AuditRead,
    ];
    /// What only people may do, through their role in the console.
    pub const CONSOLE: [Scope; 3] = [
        Scope::KeysManage,
        Scope::MembersManage,
        Scope::SettingsManage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomersRead => "customers:read",
            Self::CustomersWrite => "customers:write",
            Self::TokensCreate => "tokens:create",
            Self::CustomersErase => "customers:erase",
            Self::ReportsRead => "reports:read",
            Self::EventsRead => "events:read",
            Self::WebhooksWrite => "webhooks:write",
            Self::CustomFieldsWrite => "custom-fields:write",
            Self::AuditRead => "audit:read",
            Self::KeysManage => "keys:manage",
            Self::MembersManage => "members:manage",
            Self::SettingsManage => "settings:manage",
        }
    }

    /// A scope a key may hold, by name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == name)
    }

    /// The detail of a 403 for a credential without this scope.
    pub fn lacking(self) -> &'static str {
        match self {
            Self::CustomersRead => "The credential lacks the customers:read scope.",
            Self::CustomersWrite => "The credential lacks the customers:write scope.",
            Self::TokensCreate => "The credential lacks the tokens:create scope.",
            Self::CustomersErase => "The credential lacks the customers:erase scope.",
            Self::ReportsRead => "The credential lacks the reports:read scope.",
            Self::EventsRead => "The credential lacks the events:read scope.",
            Self::WebhooksWrite => "The credential lacks the webhooks:write scope.",
            Self::CustomFieldsWrite => "The credential lacks the custom-fields:write scope.",
            Self::AuditRead => "The credential lacks the audit:read scope.",
            Self::KeysManage => "Only owners and developers manage API keys.",
            Self::MembersManage => "Only owners manage members.",
            Self::SettingsManage => "Only owners change the organization's settings.",
        }
    }

    fn bit(self) -> u16 {
        1 << self as u8
    }
}

/// A set of scopes.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u16);

impl Scopes {
    pub fn all() -> Self {
        Scope::ALL.into_iter().collect()
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_subset_of(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn names(self) -> Vec<&'static str> {
        Scope::ALL
            .into_iter()
            .chain(Scope::CONSOLE)
            .filter(|s| self.contains(*s))
            .map(Scope::as_str)
            .collect()
    }

    /// Parses names separated by `separator`; the error names the first
    /// unknown scope.
    pub fn parse_list(text: &str, separator: char) -> Result<Self, String> {
        text.split(separator)
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| Scope::parse(name).ok_or_else(|| format!("unknown scope {name:?}")))
            .collect()
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(scopes: I) -> Self {
        Self(scopes.into_iter().fold(0, |bits, scope| bits | scope.bit()))
    }
}

/// Space-separated, as stored and as carried in tokens.
impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(" "))
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let scopes = Scopes::parse_list("customers:read, tokens:create", ',').unwrap();
        assert!(scopes.contains(Scope::CustomersRead) && scopes.contains(Scope::TokensCreate));
        assert!(!scopes.contains(Scope::CustomersWrite));
        assert_eq!(scopes.to_string(), "customers:read tokens:create");
        assert_eq!(
            Scopes::parse_list(&scopes.to_string(), ' ').unwrap(),
            scopes
        );
        assert!(Scopes::parse_list("customers:read,customers:admin", ',').is_err());
        assert!(Scopes::parse_list("", ',').unwrap().is_empty());
    }

    #[test]
    fn subsets() {
        let read = Scopes::from_iter([Scope::CustomersRead]);
        assert!(read.is_subset_of(Scopes::all()));
        assert!(!Scopes::all().is_subset_of(read));
        assert!(Scopes::default().is_subset_of(read));
    }
}
