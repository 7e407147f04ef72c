//! The two roles of a Tandem user.

use serde::{Deserialize, Serialize};

use crate::ValidationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    /// Manages users, projects, hosts, host accounts and grants.
    Admin,
    /// Uses the host accounts granted to them.
    Operator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value.trim() {
            "admin" => Ok(Role::Admin),
            "operator" => Ok(Role::Operator),
            other => Err(ValidationError::new(
                "role",
                format!("unknown role {other:?}: use admin or operator"),
            )),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in [Role::Admin, Role::Operator] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("root").is_err());
        assert_eq!(
            [Role::Admin, Role::Operator].map(|role| role.to_string()),
            ["admin", "operator"]
        );
    }
}
