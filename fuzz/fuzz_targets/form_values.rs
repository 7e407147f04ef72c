//! Any form text: every validated value parses it without a panic, and
//! what is accepted keeps its documented bounds.
#![no_main]

use domain::{
    AccountLogin, Description, DisplayName, EmailAddress, Fingerprint, HostAddress, InvitationCode,
    NewPassword, Port, ResourceName, SessionTitle, ShareNote, ShareValidity, UserName,
    api_token_days, api_token_name,
};
use libfuzzer_sys::fuzz_target;

fn chars(text: &str) -> usize {
    text.chars().count()
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(input) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(name) = UserName::parse(input) {
        assert!((2..=32).contains(&name.as_str().len()));
    }
    if let Ok(name) = DisplayName::parse(input) {
        assert!((1..=64).contains(&chars(name.as_str())));
    }
    if let Ok(name) = ResourceName::parse(input) {
        assert!((1..=64).contains(&chars(name.as_str())));
    }
    if let Ok(text) = Description::parse(input) {
        assert!(chars(text.as_str()) <= 500);
    }
    if let Ok(title) = SessionTitle::parse(input) {
        assert!((1..=100).contains(&chars(title.as_str())));
    }
    if let Ok(note) = ShareNote::parse(input) {
        assert!(chars(note.as_str()) <= 1000);
    }
    if let Ok(address) = EmailAddress::parse(input) {
        assert!(address.as_str().len() <= 254 && address.as_str().matches('@').count() == 1);
    }
    if let Ok(password) = NewPassword::parse(input) {
        assert!((8..=256).contains(&chars(password.expose())));
    }
    if let Ok(address) = HostAddress::parse(input) {
        assert!(!address.as_str().is_empty() && address.as_str().len() <= 253);
    }
    if let Ok(port) = Port::parse(input) {
        assert!(port.get() >= 1);
    }
    if let Ok(fingerprint) = Fingerprint::parse(input) {
        assert_eq!(fingerprint.as_str().len(), "SHA256:".len() + 43);
    }
    if let Ok(login) = AccountLogin::parse(input) {
        assert!((1..=32).contains(&login.as_str().len()));
    }
    if let Ok(code) = InvitationCode::parse(input) {
        assert_eq!(code.as_str().len(), 8);
        assert_eq!(InvitationCode::parse(code.as_str()), Ok(code));
    }
    if let Ok(validity) = ShareValidity::parse(input) {
        assert_eq!(validity.as_str(), input);
    }
    if let Ok(name) = api_token_name(input) {
        assert!((1..=64).contains(&chars(&name)));
    }
    if let Ok(Some(days)) = api_token_days(input) {
        assert!((1..=domain::API_TOKEN_MAX_DAYS).contains(&days));
    }
});
