//! Validated values: each `parse` is the only way to make one, so code that
//! holds a `HostAddress` or a `Port` never checks it again.

use crate::ValidationError;

/// Declares a newtype over `String` with `as_str`, `Display` and `into_inner`.
macro_rules! string_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_value!(
    /// A Tandem login name: 2 to 32 characters of `a-z`, `0-9`, `.`, `_`, `-`,
    /// starting with a letter or digit.
    UserName
);

impl UserName {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        let field = "username";
        if value.len() < 2 || value.len() > 32 {
            return Err(ValidationError::new(field, "must be 2 to 32 characters"));
        }
        if !value.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
            return Err(ValidationError::new(
                field,
                "must start with a lowercase letter or a digit",
            ));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c))
        {
            return Err(ValidationError::new(
                field,
                "may contain only lowercase letters, digits, '.', '_' and '-'",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

/// What someone typed as their user name when signing in: any text. The
/// audit log and the failed-login limiter keep it, lowercased and cut to
/// [`TypedLoginName::MAX_KEPT`] characters, so that a sign-in cannot make
/// either hold more; only a name that could be an account is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedLoginName {
    kept: String,
    account: Option<UserName>,
}

impl TypedLoginName {
    /// Characters kept of a longer name; an account name is at most 32.
    pub const MAX_KEPT: usize = 64;

    pub fn new(typed: &str) -> Self {
        let lowercase = typed.trim().to_lowercase();
        let account = UserName::parse(&lowercase).ok();
        let mut kept: String = lowercase.chars().take(Self::MAX_KEPT).collect();
        if kept.len() < lowercase.len() {
            kept.push('…');
        }
        Self { kept, account }
    }

    /// The name as recorded: lowercased, at most `MAX_KEPT` characters and
    /// an ellipsis.
    pub fn as_str(&self) -> &str {
        &self.kept
    }

    /// The account this name would be, if it is a valid user name at all.
    pub fn account(&self) -> Option<&UserName> {
        self.account.as_ref()
    }
}

string_value!(
    /// A person's name as shown to colleagues: 1 to 64 characters.
    DisplayName
);

impl DisplayName {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        bounded_text("display_name", value, 1, 64).map(Self)
    }
}

string_value!(
    /// The name of a project or a host: 1 to 64 characters, no control
    /// characters.
    ResourceName
);

impl ResourceName {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        bounded_text("name", value, 1, 64).map(Self)
    }
}

string_value!(
    /// Free text describing a project: up to 500 characters, may be empty.
    Description
);

impl Description {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        bounded_text("description", value, 0, 500).map(Self)
    }
}

string_value!(
    /// What a session is for, shown on My Sessions: 1 to 100 characters.
    SessionTitle
);

impl SessionTitle {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        bounded_text("title", value, 1, 100).map(Self)
    }
}

string_value!(
    /// Free text for the people a session is shared with: up to 1000
    /// characters, may be empty.
    ShareNote
);

impl ShareNote {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        bounded_text("note", value, 0, 1000).map(Self)
    }
}

string_value!(
    /// Where a user's notifications are mailed: `local@domain`, at most
    /// 254 characters, no spaces.
    EmailAddress
);

impl EmailAddress {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        let field = "email";
        let well_formed = value.len() <= 254
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        match well_formed {
            true => Ok(Self(value.to_owned())),
            false => Err(ValidationError::new(
                field,
                "must be an address like name@example.com",
            )),
        }
    }
}

/// A password chosen for a Tandem user: 8 to 256 characters. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let length = value.chars().count();
        if length < 8 {
            return Err(ValidationError::new(
                "password",
                "must be at least 8 characters",
            ));
        }
        if length > 256 {
            return Err(ValidationError::new(
                "password",
                "must be at most 256 characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

/// The password an invitation asks for on Enter: 1 to 256 characters.
/// Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SharePassword(String);

impl SharePassword {
    pub const MAX_CHARS: usize = 256;

    /// `None` for an empty password: the invitation asks for none.
    pub fn parse(value: &str) -> Result<Option<Self>, ValidationError> {
        match value.chars().count() {
            0 => Ok(None),
            length if length > Self::MAX_CHARS => Err(ValidationError::new(
                "password",
                "must be at most 256 characters",
            )),
            _ => Ok(Some(Self(value.to_owned()))),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SharePassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharePassword(..)")
    }
}

string_value!(
    /// Where a managed host is reached: a DNS name, an IPv4 or an IPv6
    /// address (without brackets).
    HostAddress
);

impl HostAddress {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        let field = "address";
        if value.is_empty() {
            return Err(ValidationError::new(field, "must not be empty"));
        }
        if value.len() > 253 {
            return Err(ValidationError::new(
                field,
                "must be at most 253 characters",
            ));
        }
        if value.contains(':') {
            return value
                .parse::<std::net::Ipv6Addr>()
                .map(|_| Self(value.to_owned()))
                .map_err(|_| ValidationError::new(field, "is not a valid IPv6 address"));
        }
        let labels_ok = value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
        if !labels_ok {
            return Err(ValidationError::new(
                field,
                "must be a host name or an IP address",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

/// A TCP port from 1 to 65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port(u16);

impl Port {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        match value.trim().parse::<u16>() {
            Ok(port) if port > 0 => Ok(Self(port)),
            _ => Err(ValidationError::new(
                "port",
                "must be a number from 1 to 65535",
            )),
        }
    }

    pub fn new(port: u16) -> Result<Self, ValidationError> {
        Self::parse(&port.to_string())
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

string_value!(
    /// A host key's SHA-256 fingerprint as OpenSSH prints it:
    /// `SHA256:` followed by 43 characters of unpadded base64.
    Fingerprint
);

impl Fingerprint {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        let Some(digest) = value.strip_prefix("SHA256:") else {
            return Err(ValidationError::new(
                "host_key",
                "must be a SHA256 fingerprint (SHA256:...) or an OpenSSH public key",
            ));
        };
        let base64_ok = digest.len() == 43
            && digest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/');
        if !base64_ok {
            return Err(ValidationError::new(
                "host_key",
                "the SHA256 fingerprint must have 43 base64 characters after 'SHA256:'",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

string_value!(
    /// A login on a managed host: 1 to 32 characters, no whitespace, ':' or
    /// '@'.
    AccountLogin
);

impl AccountLogin {
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim();
        let field = "login";
        if value.is_empty() || value.len() > 32 {
            return Err(ValidationError::new(field, "must be 1 to 32 characters"));
        }
        if value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == ':' || c == '@')
        {
            return Err(ValidationError::new(
                field,
                "must not contain spaces, ':' or '@'",
            ));
        }
        Ok(Self(value.to_owned()))
    }
}

fn bounded_text(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<String, ValidationError> {
    let value = value.trim();
    let length = value.chars().count();
    if length < min {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if length > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if value.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_short_lowercase_words() {
        assert_eq!(UserName::parse(" alice ").unwrap().as_str(), "alice");
        assert!(UserName::parse("a.b_c-1").is_ok());
        assert!(UserName::parse("a").is_err());
        assert!(UserName::parse("Alice").is_err());
        assert!(UserName::parse("-alice").is_err());
        assert!(UserName::parse("al ice").is_err());
        assert!(UserName::parse(&"a".repeat(33)).is_err());
        assert!(UserName::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn a_typed_login_name_is_kept_short_and_looked_up_only_if_it_could_be_an_account() {
        let typed = TypedLoginName::new(" Alice ");
        assert_eq!(typed.as_str(), "alice");
        assert_eq!(typed.account().map(UserName::as_str), Some("alice"));

        let exactly_kept = "é".repeat(TypedLoginName::MAX_KEPT);
        let typed = TypedLoginName::new(&exactly_kept);
        assert_eq!(typed.as_str(), exactly_kept, "64 characters are kept whole");
        assert_eq!(typed.account(), None);

        let long = format!("admin{}", "x".repeat(100_000));
        let typed = TypedLoginName::new(&long);
        assert_eq!(
            typed.as_str(),
            format!("admin{}…", "x".repeat(TypedLoginName::MAX_KEPT - 5))
        );
        assert_eq!(typed.account(), None, "too long to be an account");
    }

    #[test]
    fn a_host_name_may_be_253_characters_long() {
        let label = |c: &str, n: usize| c.repeat(n);
        let longest = [
            label("a", 63),
            label("b", 63),
            label("c", 63),
            label("d", 61),
        ]
        .join(".");
        assert_eq!(longest.len(), 253);
        assert_eq!(HostAddress::parse(&longest).unwrap().as_str(), longest);
        let error = HostAddress::parse(&format!("{longest}d")).unwrap_err();
        assert_eq!(error.message, "must be at most 253 characters");
    }

    #[test]
    fn a_share_password_is_optional_and_bounded() {
        assert_eq!(SharePassword::parse("").unwrap(), None);
        let most = "p".repeat(SharePassword::MAX_CHARS);
        assert_eq!(SharePassword::parse(&most).unwrap().unwrap().expose(), most);
        let error = SharePassword::parse(&format!("{most}p")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "password: must be at most 256 characters"
        );
        assert_eq!(
            format!("{:?}", SharePassword::parse("secret")),
            "Ok(Some(SharePassword(..)))"
        );
    }

    #[test]
    fn email_addresses_have_one_at_and_a_domain() {
        assert_eq!(
            EmailAddress::parse(" ann@example.com ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "a@b@c",
            "a b@c.d",
            "ann@.com",
        ] {
            assert_eq!(
                EmailAddress::parse(bad).unwrap_err().field,
                "email",
                "{bad}"
            );
        }
    }

    #[test]
    fn titles_and_notes_are_bounded_text() {
        assert_eq!(
            SessionTitle::parse("  Fix nginx ").unwrap().as_str(),
            "Fix nginx"
        );
        assert_eq!(SessionTitle::parse("").unwrap_err().field, "title");
        assert_eq!(ShareNote::parse("").unwrap().as_str(), "");
        assert!(ShareNote::parse(&"x".repeat(1001)).is_err());
    }

    #[test]
    fn names_must_not_be_empty_or_too_long() {
        assert!(ResourceName::parse("   ").is_err());
        assert!(ResourceName::parse(&"x".repeat(65)).is_err());
        assert!(ResourceName::parse("bad\u{7}bell").is_err());
        assert_eq!(ResourceName::parse(" web-1 ").unwrap().as_str(), "web-1");
        assert!(Description::parse("").is_ok());
    }

    #[test]
    fn passwords_need_eight_characters_and_never_print() {
        assert!(NewPassword::parse("short").is_err());
        let password = NewPassword::parse("long enough").unwrap();
        assert_eq!(format!("{password:?}"), "NewPassword(..)");
    }

    #[test]
    fn addresses_are_host_names_or_ip_addresses() {
        for good in [
            "localhost",
            "127.0.0.1",
            "db-1.example.org",
            "::1",
            "fe80::1",
        ] {
            assert!(HostAddress::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a b",
            "-bad.example",
            "x..y",
            "1::2::3",
            "host/1",
            "[::1]",
        ] {
            assert!(HostAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ports_run_from_one_to_65535() {
        assert_eq!(Port::parse("22").unwrap().get(), 22);
        assert_eq!(Port::parse(" 65535 ").unwrap().get(), 65535);
        for bad in ["0", "65536", "-1", "ssh", ""] {
            assert!(Port::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fingerprints_are_openssh_sha256() {
        let good = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";
        assert_eq!(Fingerprint::parse(good).unwrap().as_str(), good);
        assert!(Fingerprint::parse("MD5:aa:bb").is_err());
        assert!(Fingerprint::parse("SHA256:short").is_err());
        assert!(Fingerprint::parse("SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF=").is_err());
    }

    #[test]
    fn account_logins_have_no_separators() {
        assert!(AccountLogin::parse("root").is_ok());
        assert!(AccountLogin::parse("").is_err());
        assert!(AccountLogin::parse("a b").is_err());
        assert!(AccountLogin::parse("user@host").is_err());
    }
}
