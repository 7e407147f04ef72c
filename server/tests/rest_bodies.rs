//! Properties of what the REST API decodes from a request before any
//! lookup: the ids in the path and the body of a POST. Any input is decoded
//! or refused with its documented code (`TANDEM.4001`-`4003` are 400s),
//! never a panic; what is accepted is what was sent, within its bounds.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail loudly

use domain::ShareValidity;
use proptest::prelude::*;
use serde_json::{Value, json};
use server::rest_api::{ApiError, parse_id, parse_share_body};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 512,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The validities a body may name, with what each means.
const VALIDITIES: [(&str, ShareValidity); 4] = [
    ("10m", ShareValidity::TenMinutes),
    ("1h", ShareValidity::OneHour),
    ("8h", ShareValidity::EightHours),
    ("24h", ShareValidity::TwentyFourHours),
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("name|password|validity|.{0,6}", inner, 0..4)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// A share space name that must be accepted: 1 to 64 characters, no
/// control characters, nothing to trim.
fn good_name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9@._-][a-zA-Z0-9@._ -]{0,62}[a-zA-Z0-9@._-]|[a-zA-Z0-9]"
}

fn refusal_code(error: &ApiError) -> &'static str {
    assert_eq!(error.status(), 400, "{error:?}");
    error.code()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ids_are_positive_i64s_in_their_one_decimal_spelling(
        value in prop_oneof![".{0,24}", "[0-9]{0,22}", "[-+ ]?[0-9]{1,19}", any::<i64>().prop_map(|n| n.to_string())],
    ) {
        // The document's rule: a positive int64, written without sign or
        // leading zeros.
        let documented = value.parse::<i64>().is_ok_and(|id| id > 0 && id.to_string() == value);
        match parse_id(&value) {
            Some(id) => {
                prop_assert!(documented, "{:?} accepted", value);
                prop_assert_eq!(value.parse::<i64>(), Ok(id));
            }
            None => prop_assert!(!documented, "{:?} refused", value),
        }
    }

    #[test]
    fn every_id_a_database_hands_out_is_read_back(id in 1i64..=i64::MAX) {
        prop_assert_eq!(parse_id(&id.to_string()), Some(id));
    }

    #[test]
    fn any_body_is_decoded_or_refused_as_malformed_or_invalid(
        body in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..200),
            json_value().prop_map(|value| serde_json::to_vec(&value).unwrap()),
        ],
    ) {
        match parse_share_body(&body) {
            Ok(options) => {
                if let Some(name) = options.name {
                    let length = name.as_str().chars().count();
                    prop_assert!((1..=64).contains(&length));
                    prop_assert!(!name.as_str().chars().any(|c| c.is_control() && c != '\n'));
                }
            }
            Err(error) => {
                let code = refusal_code(&error);
                prop_assert!(code == "TANDEM.4002" || code == "TANDEM.4003", "{}", code);
            }
        }
    }

    #[test]
    fn well_formed_bodies_are_taken_as_sent(
        name in proptest::option::of(good_name()),
        password in proptest::option::of(".{1,256}"),
        validity in proptest::option::of(0usize..4),
        padding in "[ \t\r\n]{0,3}",
    ) {
        let mut body = serde_json::Map::new();
        if let Some(name) = &name {
            body.insert("name".to_owned(), json!(format!(" {name} ")));
        }
        if let Some(password) = &password {
            body.insert("password".to_owned(), json!(password));
        }
        if let Some(validity) = validity {
            body.insert("validity".to_owned(), json!(VALIDITIES[validity].0));
        }
        let body = format!("{padding}{}{padding}", Value::Object(body));
        let options = parse_share_body(body.as_bytes()).unwrap();
        prop_assert_eq!(options.name.map(|name| name.into_inner()), name);
        let password_taken = options.password.as_ref().map(|password| password.expose());
        prop_assert_eq!(password_taken, password.as_deref());
        let expected = validity.map_or(ShareValidity::OneHour, |index| VALIDITIES[index].1);
        prop_assert_eq!(options.validity, expected);
    }

    #[test]
    fn whitespace_alone_takes_the_defaults(body in "[ \t\r\n]{0,16}") {
        let options = parse_share_body(body.as_bytes()).unwrap();
        prop_assert!(options.name.is_none() && options.password.is_none());
        prop_assert_eq!(options.validity, ShareValidity::OneHour);
    }

    #[test]
    fn unknown_fields_and_wrong_types_are_malformed(
        field in "[a-z_]{1,12}",
        value in json_value(),
    ) {
        let known = ["name", "password", "validity"].contains(&field.as_str());
        let body = serde_json::to_vec(&json!({ field.clone(): value.clone() })).unwrap();
        let outcome = parse_share_body(&body);
        if !known {
            prop_assert_eq!(refusal_code(&outcome.unwrap_err()), "TANDEM.4002");
        } else if field == "validity" && !value.is_null() {
            let named = VALIDITIES.iter().any(|(text, _)| value == json!(text));
            prop_assert_eq!(outcome.is_ok(), named);
        } else if !value.is_string() && !value.is_null() {
            prop_assert_eq!(refusal_code(&outcome.unwrap_err()), "TANDEM.4002");
        }
    }

    #[test]
    fn names_beyond_their_bounds_are_invalid_values(
        name in prop_oneof![
            "[ \t\n]{0,4}",
            "[a-z]{65,90}",
            "[a-z]{1,10}[\u{0}-\u{8}\u{b}-\u{1f}\u{7f}][a-z]{1,10}",
        ],
    ) {
        let body = serde_json::to_vec(&json!({ "name": name })).unwrap();
        prop_assert_eq!(refusal_code(&parse_share_body(&body).unwrap_err()), "TANDEM.4003");
    }
}
