//! Who is asking: the signed-in user, and proof that they are an admin.

use domain::{Role, UserId};

use crate::ServiceError;

/// A signed-in, enabled user, loaded fresh for each request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}

impl Actor {
    /// The proof that admin-only methods ask for.
    pub fn require_admin(&self) -> Result<Admin, ServiceError> {
        match self.role {
            Role::Admin => Ok(Admin { _private: () }),
            Role::Operator => Err(ServiceError::Forbidden),
        }
    }
}

/// Held only by code that checked for the admin role (or by the server's own
/// command line, which runs with the operating system's authority).
#[derive(Debug, Clone, Copy)]
pub struct Admin {
    _private: (),
}

impl Admin {
    /// For the command line: whoever can run the server binary on the data
    /// directory already controls everything in it.
    pub fn command_line() -> Self {
        Admin { _private: () }
    }
}
