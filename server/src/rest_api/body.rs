//! The body of a POST: absent, blank, or a JSON object with only the
//! documented fields. Anything that is not such an object is `TANDEM.4002`;
//! a documented field whose value is of the wrong type or out of range is
//! `TANDEM.4003`.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use domain::{ResourceName, SharePassword, ShareValidity};
use serde::Deserialize;
use serde_json::Value;
use services::ShareSpaceOptions;
use utoipa::ToSchema;

use super::ApiError;

/// The largest body read: the documented fields fit many times over.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// The optional body of a POST: every field may be left out (or null).
/// Only the document's schema: `share_options` reads the body, because
/// serde would take a JSON array for this struct too. The serde attributes
/// give the schema its closed object and enum names.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub struct StartShareSpace {
    /// 1 to 64 characters; default: the session's `login@host`.
    name: Option<String>,
    /// Asked of invited users on Enter; default: none.
    password: Option<String>,
    /// How long the invitation admits users; default: `1h`.
    validity: Option<Validity>,
}

/// How long the invitation admits users: one name per `ShareValidity`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub enum Validity {
    #[serde(rename = "10m")]
    TenMinutes,
    #[serde(rename = "1h")]
    OneHour,
    #[serde(rename = "8h")]
    EightHours,
    #[serde(rename = "24h")]
    TwentyFourHours,
}

/// What the body asks for, with the defaults for what it leaves out.
pub fn share_options(body: Result<Bytes, BytesRejection>) -> Result<ShareSpaceOptions, ApiError> {
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::BodyTooLarge
        } else {
            ApiError::MalformedBody(rejection.body_text())
        }
    })?;
    parse_share_body(&body)
}

/// The options in a body's bytes; public for the property tests.
pub fn parse_share_body(body: &[u8]) -> Result<ShareSpaceOptions, ApiError> {
    let mut options = ShareSpaceOptions {
        name: None,
        password: None,
        validity: ShareValidity::OneHour,
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(options);
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|error| ApiError::MalformedBody(error.to_string()))?;
    let Value::Object(fields) = value else {
        return Err(ApiError::MalformedBody(
            "it must be a JSON object".to_owned(),
        ));
    };
    for (field, value) in fields {
        let text = match value {
            Value::Null => None,
            Value::String(text) => Some(text),
            _ if is_documented(&field) => {
                return Err(ApiError::InvalidValue(format!("{field}: must be a string")));
            }
            _ => None,
        };
        match (field.as_str(), text) {
            ("name" | "password" | "validity", None) => {}
            ("name", Some(name)) => {
                options.name = Some(ResourceName::parse(&name).map_err(invalid)?);
            }
            ("password", Some(password)) => {
                options.password = SharePassword::parse(&password).map_err(invalid)?;
            }
            ("validity", Some(validity)) => {
                options.validity = ShareValidity::parse(&validity).map_err(invalid)?;
            }
            (unknown, _) => {
                return Err(ApiError::MalformedBody(format!(
                    "unknown field `{unknown}`"
                )));
            }
        }
    }
    Ok(options)
}

fn is_documented(field: &str) -> bool {
    matches!(field, "name" | "password" | "validity")
}

fn invalid(error: domain::ValidationError) -> ApiError {
    ApiError::InvalidValue(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &[u8]) -> Result<ShareSpaceOptions, ApiError> {
        share_options(Ok(Bytes::copy_from_slice(body)))
    }

    #[test]
    fn an_empty_body_or_null_fields_take_the_defaults() {
        for body in [&b""[..], b" \n", b"{}", br#"{"name":null,"validity":null}"#] {
            let options = parse(body).unwrap();
            assert_eq!(options.validity, ShareValidity::OneHour);
            assert!(options.name.is_none() && options.password.is_none());
        }
        let options = parse(br#"{"name":"help","password":"pw","validity":"10m"}"#).unwrap();
        assert_eq!(options.validity, ShareValidity::TenMinutes);
        assert_eq!(options.name.unwrap().as_str(), "help");
        assert_eq!(options.password.unwrap().expose(), "pw");
        let options = parse(br#"{"password":""}"#).unwrap();
        assert!(
            options.password.is_none(),
            "an empty password asks for none"
        );
    }

    #[test]
    fn what_is_not_the_object_is_4002_and_a_bad_field_value_4003() {
        for (body, error) in [
            (&b"{"[..], None),
            (br#"{"colour":"red"}"#, None),
            (br#"{"colour":1}"#, None),
            (br#"[1]"#, None),
            (br#"["n","pw","10m"]"#, None),
            (br#""1h""#, None),
            (b"null", None),
            (b"7", None),
            (b"\xff", None),
            (
                br#"{"validity":"3y"}"#,
                Some("validity: choose 10 minutes, 1 hour, 8 hours or 24 hours"),
            ),
            (br#"{"validity":60}"#, Some("validity: must be a string")),
            (br#"{"name":""}"#, Some("name: must not be empty")),
            (br#"{"name":["x"]}"#, Some("name: must be a string")),
            (br#"{"password":false}"#, Some("password: must be a string")),
        ] {
            check(body, error);
        }
        let long = format!(r#"{{"password":"{}"}}"#, "p".repeat(257));
        check(
            long.as_bytes(),
            Some("password: must be at most 256 characters"),
        );

        fn check(body: &[u8], error: Option<&str>) {
            let got = parse(body).unwrap_err();
            let shown = String::from_utf8_lossy(body);
            match error {
                None => assert!(
                    matches!(got, ApiError::MalformedBody(_)),
                    "{shown}: {got:?}"
                ),
                Some(why) => assert_eq!(got, ApiError::InvalidValue(why.to_owned()), "{shown}"),
            }
        }
    }
}
