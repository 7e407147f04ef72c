//! Who is asking: the signed-in user and where from, and proof that they
//! are an admin.

use std::net::IpAddr;

use domain::{Role, UserId};

use crate::ServiceError;

/// A signed-in, enabled user, loaded fresh for each request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The client's address, for the audit log; set by the edge that
    /// received the request.
    pub address: Option<IpAddr>,
}

impl Actor {
    pub fn with_address(self, address: IpAddr) -> Self {
        Self {
            address: Some(address),
            ..self
        }
    }

    /// The proof that admin-only methods ask for. `Services::require_admin`
    /// also audits a refusal.
    pub fn require_admin(&self) -> Result<Admin, ServiceError> {
        match self.role {
            Role::Admin => Ok(Admin {
                user: Some(self.id),
                address: self.address,
            }),
            Role::Operator => Err(ServiceError::Forbidden),
        }
    }
}

/// Held only by code that checked for the admin role (or by the server's own
/// command line, which runs with the operating system's authority). It
/// says who, so that admin changes are audited under their name.
#[derive(Debug, Clone, Copy)]
pub struct Admin {
    user: Option<UserId>,
    address: Option<IpAddr>,
}

impl Admin {
    /// For the command line: whoever can run the server binary on the data
    /// directory already controls everything in it.
    pub fn command_line() -> Self {
        Admin {
            user: None,
            address: None,
        }
    }

    /// The admin user; `None` for the command line.
    pub fn user(self) -> Option<UserId> {
        self.user
    }

    pub fn address(self) -> Option<IpAddr> {
        self.address
    }
}
