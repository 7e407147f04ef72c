//! Properties of the validated values over generated input: every `parse`
//! takes any text without panicking, accepts exactly what its documentation
//! promises, and what it accepts keeps its bounds (so code holding one never
//! checks it again).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use domain::{
    API_TOKEN_MAX_DAYS, API_TOKEN_PREFIX, AccountLogin, ApiTokenSecret, Description, DisplayName,
    EmailAddress, Fingerprint, HostAddress, INVITATION_ALPHABET, InvitationCode, NewPassword, Port,
    ResourceName, SessionTitle, ShareNote, ShareValidity, UserName, api_token_days, api_token_name,
};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// What a form field may receive: anything, text near the interesting
/// lengths, and text made of the characters a value allows, padded with
/// spaces (which every value except passwords forgives).
fn form_text(allowed: &'static str) -> impl Strategy<Value = String> {
    let allowed_run = proptest::string::string_regex(&format!("[{allowed}]{{0,40}}")).unwrap();
    let allowed_word = proptest::string::string_regex(&format!("[{allowed}]{{1,80}}")).unwrap();
    prop_oneof![
        any::<String>(),
        "(?s).{0,80}",
        "[ \\t\\n]{0,2}[a-zA-Z0-9 ._@:-]{0,300}[ \\n]{0,2}",
        allowed_run,
        (" {0,2}", allowed_word, " {0,2}")
            .prop_map(|(before, text, after)| format!("{before}{text}{after}")),
    ]
}

/// Text of 1 to `max` characters, no control characters, no surrounding
/// whitespace: what a bounded text field must accept.
fn plain_text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<char>(), 1..=max)
        .prop_map(|chars| {
            chars
                .into_iter()
                .map(|c| if c.is_control() { 'x' } else { c })
                .collect::<String>()
        })
        .prop_filter("surrounding whitespace is trimmed", |text| {
            text.trim() == text
        })
}

/// The rule of `bounded_text`: trimmed, `min` to `max` characters, no
/// control characters other than newlines.
fn is_bounded_text(value: &str, min: usize, max: usize) -> bool {
    let length = value.trim().chars().count();
    (min..=max).contains(&length) && !value.trim().chars().any(|c| c.is_control() && c != '\n')
}

/// Each bounded text value: accepted exactly when the rule holds, and then
/// it holds the trimmed input.
fn check_bounded_text<T: std::fmt::Debug>(
    input: &str,
    parsed: Result<T, domain::ValidationError>,
    as_str: fn(&T) -> &str,
    (min, max): (usize, usize),
    field: &str,
) -> Result<(), TestCaseError> {
    match parsed {
        Ok(value) => {
            prop_assert!(is_bounded_text(input, min, max), "{:?} accepted", input);
            prop_assert_eq!(as_str(&value), input.trim());
        }
        Err(error) => {
            prop_assert!(!is_bounded_text(input, min, max), "{:?} refused", input);
            prop_assert_eq!(error.field, field);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn bounded_texts_accept_exactly_their_documented_lengths(input in form_text("a-z ")) {
        check_bounded_text(&input, DisplayName::parse(&input), DisplayName::as_str, (1, 64), "display_name")?;
        check_bounded_text(&input, ResourceName::parse(&input), ResourceName::as_str, (1, 64), "name")?;
        check_bounded_text(&input, Description::parse(&input), Description::as_str, (0, 500), "description")?;
        check_bounded_text(&input, SessionTitle::parse(&input), SessionTitle::as_str, (1, 100), "title")?;
        check_bounded_text(&input, ShareNote::parse(&input), ShareNote::as_str, (0, 1000), "note")?;
    }

    #[test]
    fn bounded_texts_take_any_plain_text_within_their_length(text in plain_text(64)) {
        prop_assert_eq!(DisplayName::parse(&text).unwrap().into_inner(), text.clone());
        prop_assert_eq!(ResourceName::parse(&text).unwrap().to_string(), text.clone());
        prop_assert_eq!(SessionTitle::parse(&text).unwrap().into_inner(), text);
    }

    #[test]
    fn user_names_are_two_to_32_lowercase_word_characters(input in form_text("a-z0-9._-")) {
        let trimmed = input.trim();
        let documented = (2..=32).contains(&trimmed.chars().count())
            && trimmed.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && trimmed.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        match UserName::parse(&input) {
            Ok(name) => {
                prop_assert!(documented, "{:?} accepted", input);
                prop_assert_eq!(name.as_str(), trimmed);
            }
            Err(error) => {
                prop_assert!(!documented, "{:?} refused", input);
                prop_assert_eq!(error.field, "username");
            }
        }
    }

    #[test]
    fn email_addresses_have_one_at_a_domain_and_no_spaces(input in form_text("a-z.@")) {
        if let Ok(address) = EmailAddress::parse(&input) {
            let address = address.as_str();
            prop_assert_eq!(address, input.trim());
            prop_assert!(address.len() <= 254);
            prop_assert!(!address.chars().any(|c| c.is_whitespace() || c.is_control()));
            let (local, domain) = address.split_once('@').unwrap();
            prop_assert!(!local.is_empty() && !domain.is_empty() && !domain.contains('@'));
            prop_assert!(!domain.starts_with('.') && !domain.ends_with('.'));
        }
    }

    #[test]
    fn well_formed_email_addresses_are_accepted(
        local in "[a-z0-9._+-]{1,64}",
        domain in "[a-z0-9-]{1,20}(\\.[a-z0-9-]{1,20}){0,3}",
    ) {
        let address = format!("{local}@{domain}");
        prop_assert_eq!(EmailAddress::parse(&format!(" {address} ")).unwrap().into_inner(), address);
    }

    #[test]
    fn host_addresses_are_dns_names_or_ipv6(input in form_text("a-z0-9.:-")) {
        if let Ok(address) = HostAddress::parse(&input) {
            let address = address.as_str();
            prop_assert_eq!(address, input.trim());
            prop_assert!(!address.is_empty() && address.len() <= 253);
            if address.contains(':') {
                prop_assert!(address.parse::<std::net::Ipv6Addr>().is_ok());
            } else {
                for label in address.split('.') {
                    prop_assert!((1..=63).contains(&label.len()), "{:?}", label);
                    prop_assert!(!label.starts_with('-') && !label.ends_with('-'));
                    prop_assert!(label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
                }
            }
        }
    }

    #[test]
    fn every_ip_address_and_dns_name_is_a_host_address(
        v4 in any::<std::net::Ipv4Addr>(),
        v6 in any::<std::net::Ipv6Addr>(),
        name in "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?){0,4}",
    ) {
        for address in [v4.to_string(), v6.to_string(), name] {
            prop_assert_eq!(HostAddress::parse(&address).unwrap().into_inner(), address);
        }
    }

    #[test]
    fn ports_are_1_to_65535(input in prop_oneof![form_text("0-9"), any::<i64>().prop_map(|n| n.to_string())]) {
        match Port::parse(&input) {
            Ok(port) => {
                prop_assert!(port.get() >= 1);
                prop_assert_eq!(Some(port.get()), input.trim().parse::<u16>().ok());
            }
            Err(error) => {
                prop_assert!(!matches!(input.trim().parse::<u16>(), Ok(port) if port > 0));
                prop_assert_eq!(error.field, "port");
            }
        }
    }

    #[test]
    fn every_nonzero_port_number_is_a_port(number in 1u16..) {
        prop_assert_eq!(Port::new(number).unwrap().get(), number);
        prop_assert_eq!(Port::parse(&format!(" {number} ")).unwrap(), Port::new(number).unwrap());
    }

    #[test]
    fn fingerprints_are_sha256_and_43_base64_characters(
        input in prop_oneof![form_text("A-Za-z0-9+/:"), "SHA256:[A-Za-z0-9+/=]{40,46}"],
    ) {
        if let Ok(fingerprint) = Fingerprint::parse(&input) {
            let digest = fingerprint.as_str().strip_prefix("SHA256:").unwrap();
            prop_assert_eq!(fingerprint.as_str(), input.trim());
            prop_assert_eq!(digest.len(), 43);
            prop_assert!(digest.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/'));
        }
    }

    #[test]
    fn every_openssh_fingerprint_is_accepted(digest in "[A-Za-z0-9+/]{43}") {
        let fingerprint = format!("SHA256:{digest}");
        prop_assert_eq!(Fingerprint::parse(&fingerprint).unwrap().into_inner(), fingerprint);
    }

    #[test]
    fn account_logins_are_1_to_32_characters_without_separators(input in form_text("a-z0-9_@: -")) {
        let trimmed = input.trim();
        let documented = (1..=32).contains(&trimmed.len())
            && !trimmed.chars().any(|c| c.is_whitespace() || c.is_control() || c == ':' || c == '@');
        match AccountLogin::parse(&input) {
            Ok(login) => {
                prop_assert!(documented, "{:?} accepted", input);
                prop_assert_eq!(login.as_str(), trimmed);
            }
            Err(_) => prop_assert!(!documented, "{:?} refused", input),
        }
    }

    #[test]
    fn passwords_are_8_to_256_characters_kept_as_typed(input in form_text("a-zA-Z0-9 !")) {
        let documented = (8..=256).contains(&input.chars().count());
        match NewPassword::parse(&input) {
            Ok(password) => {
                prop_assert!(documented);
                prop_assert_eq!(password.expose(), input.as_str());
                prop_assert_eq!(format!("{password:?}"), "NewPassword(..)");
            }
            Err(_) => prop_assert!(!documented),
        }
    }

    #[test]
    fn invitation_codes_are_8_characters_of_the_alphabet(input in form_text("A-Za-z0-9")) {
        let typed = input.trim().to_ascii_uppercase();
        let documented = typed.len() == 8 && typed.bytes().all(|b| INVITATION_ALPHABET.contains(&b));
        match InvitationCode::parse(&input) {
            Ok(code) => {
                prop_assert!(documented, "{:?} accepted", input);
                prop_assert_eq!(code.as_str(), typed.as_str());
            }
            Err(error) => {
                prop_assert!(!documented, "{:?} refused", input);
                prop_assert_eq!(error.field, "code");
            }
        }
    }

    #[test]
    fn drawn_invitation_codes_are_read_back_however_they_are_typed(
        indexes in any::<[usize; 8]>(),
        lower in any::<bool>(),
        padding in " {0,3}",
    ) {
        let code = InvitationCode::from_indexes(indexes);
        prop_assert_eq!(code.as_str().len(), 8);
        let typed = match lower {
            true => code.as_str().to_ascii_lowercase(),
            false => code.to_string(),
        };
        prop_assert_eq!(InvitationCode::parse(&format!("{padding}{typed}{padding}")), Ok(code));
    }

    #[test]
    fn share_validity_accepts_only_its_four_choices(input in prop_oneof![".{0,4}", "[0-9]{1,2}[mh]"]) {
        match ShareValidity::parse(&input) {
            Ok(validity) => prop_assert_eq!(validity.as_str(), input.as_str()),
            Err(_) => prop_assert!(ShareValidity::ALL.iter().all(|v| v.as_str() != input)),
        }
    }

    #[test]
    fn api_token_secrets_are_the_prefix_and_64_hex_digits(
        bytes in any::<[u8; 32]>(),
        input in prop_oneof![".{0,80}", "tandem_[0-9a-fA-F]{62,66}"],
    ) {
        let secret = ApiTokenSecret::from_bytes(bytes);
        prop_assert_eq!(ApiTokenSecret::parse(secret.as_str()), Some(secret.clone()));
        if let Some(parsed) = ApiTokenSecret::parse(&input) {
            prop_assert_eq!(parsed.as_str(), input.as_str());
            prop_assert_eq!(input.len(), API_TOKEN_PREFIX.len() + 64);
            prop_assert_eq!(parsed.shown_prefix(), input[..API_TOKEN_PREFIX.len() + 6].to_owned());
        }
    }

    #[test]
    fn api_token_names_and_lifetimes_keep_their_bounds(
        name in form_text("a-z "),
        days in prop_oneof![form_text("0-9"), (0i64..5000).prop_map(|n| n.to_string())],
    ) {
        if let Ok(accepted) = api_token_name(&name) {
            prop_assert_eq!(accepted.as_str(), name.trim());
            prop_assert!((1..=64).contains(&accepted.chars().count()));
            prop_assert!(!accepted.chars().any(char::is_control));
        }
        match api_token_days(&days) {
            Ok(None) => prop_assert!(days.trim().is_empty()),
            Ok(Some(accepted)) => {
                prop_assert!((1..=API_TOKEN_MAX_DAYS).contains(&accepted));
                prop_assert_eq!(days.trim().parse::<u32>(), Ok(accepted));
            }
            Err(error) => prop_assert_eq!(error.field, "expires_in_days"),
        }
    }
}
