//! People who sign in to the console (contract section 13): their roles,
//! what each role may do, and the rules their passwords and codes follow.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};

use super::scopes::{Scope, Scopes};

/// What a person may do. A member of an organization has one of the first
/// four; a platform operator belongs to no organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Owner,
    Developer,
    Support,
    Analyst,
    Operator,
}

impl Role {
    /// The roles a member of an organization may hold.
    pub const MEMBER_ROLES: [Role; 4] =
        [Role::Owner, Role::Developer, Role::Support, Role::Analyst];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Developer => "developer",
            Self::Support => "support",
            Self::Analyst => "analyst",
            Self::Operator => "operator",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::MEMBER_ROLES
            .into_iter()
            .chain([Self::Operator])
            .find(|role| role.as_str() == name)
    }

    /// A member role by name; the error lists them.
    pub fn parse_member(name: &str) -> Result<Self, String> {
        Self::MEMBER_ROLES
            .into_iter()
            .find(|role| role.as_str() == name)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::MEMBER_ROLES.iter().map(|r| r.as_str()).collect();
                format!("must be one of {}", names.join(", "))
            })
    }

    /// The scopes the role carries: the same an API key would need for the
    /// same action, so one check serves keys and people alike. An operator
    /// holds every scope but is confined to reading ([`Role::read_only`]).
    pub fn scopes(self) -> Scopes {
        use Scope::*;
        match self {
            Self::Owner | Self::Operator => Scope::ALL.into_iter().chain(Scope::CONSOLE).collect(),
            Self::Developer => [
                CustomersRead,
                EventsRead,
                WebhooksWrite,
                CustomFieldsWrite,
                KeysManage,
            ]
            .into_iter()
            .collect(),
            Self::Support => [CustomersRead, CustomersWrite].into_iter().collect(),
            Self::Analyst => [CustomersRead, ReportsRead].into_iter().collect(),
        }
    }

    /// Whether the role may only read (an operator, in any organization).
    pub fn read_only(self) -> bool {
        self == Self::Operator
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The most: longer ones only cost argon2 time.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// The strength estimator's lowest acceptable score (of 4).
pub const MIN_PASSWORD_SCORE: u8 = 3;

/// A password that passed the rules: at least [`MIN_PASSWORD_CHARS`], and
/// judged strong enough by zxcvbn (a score of [`MIN_PASSWORD_SCORE`] or
/// more), with the person's own email counted against it. Never printed.
pub struct Password(SecretString);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password([REDACTED])")
    }
}

impl Password {
    /// Judges `text` for the person with `email`; the error says why it is
    /// refused, in zxcvbn's words where it has some.
    pub fn parse(text: &str, email: &str) -> Result<Self, String> {
        let chars = text.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
        }
        let local = email.split('@').next().unwrap_or_default();
        let estimate = zxcvbn::zxcvbn(text, &[email, local, "clientele"]);
        if u8::from(estimate.score()) >= MIN_PASSWORD_SCORE {
            return Ok(Self(SecretString::from(text)));
        }
        let mut reason = "is too easy to guess".to_owned();
        if let Some(feedback) = estimate.feedback() {
            if let Some(warning) = feedback.warning() {
                reason = format!("is too easy to guess: {warning}");
            }
            if let Some(suggestion) = feedback.suggestions().first() {
                reason = format!("{reason} ({suggestion})");
            }
        }
        Err(reason)
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A six-digit code from an authenticator app, or a recovery code, as
/// typed: spaces and dashes dropped, letters uppercased.
pub fn normalized_code(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_and_short_passwords_are_refused_with_the_reason() {
        assert!(
            Password::parse("short", "a@b.co")
                .unwrap_err()
                .contains("12")
        );
        let weak = Password::parse("password1234", "a@b.co").unwrap_err();
        assert!(weak.starts_with("is too easy to guess"), "{weak}");
        assert!(Password::parse("jane.doe.1990", "jane.doe.1990@example.com").is_err());
        assert!(Password::parse("correct horse battery staple", "a@b.co").is_ok());
        assert!(Password::parse(&"x".repeat(300), "a@b.co").is_err());
    }

    #[test]
    fn roles_carry_the_scopes_of_their_work() {
        let support = Role::Support.scopes();
        assert!(
            support.contains(Scope::CustomersWrite) && !support.contains(Scope::CustomersErase)
        );
        assert!(!Role::Developer.scopes().contains(Scope::CustomersWrite));
        assert!(Role::Developer.scopes().contains(Scope::KeysManage));
        assert!(Role::Analyst.scopes().contains(Scope::ReportsRead));
        assert!(!Role::Analyst.scopes().contains(Scope::AuditRead));
        assert!(Role::Owner.scopes().contains(Scope::CustomersErase));
        assert!(Role::Operator.read_only() && !Role::Owner.read_only());
        for role in Role::MEMBER_ROLES {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(Role::parse_member(role.as_str()), Ok(role));
        }
        assert!(Role::parse_member("operator").is_err());
    }

    #[test]
    fn codes_are_typed_loosely() {
        assert_eq!(normalized_code(" 123 456 "), "123456");
        assert_eq!(normalized_code("abcd-efgh"), "ABCDEFGH");
    }
}
