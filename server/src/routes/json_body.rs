//! The JSON body of a request. A body that does not fit its endpoint gets
//! `request.invalid_json`. When the fault lies with one field (a value of
//! the wrong type, a missing or an unknown field), the error's `field`
//! names the top-level field it belongs to.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

use super::without_values;
use crate::error::ApiError;

/// A request body read as JSON into `T`.
pub struct JsonBody<T>(pub T);

impl<T> JsonBody<T> {
    /// Returns the parsed body.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for JsonBody<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type = request.content_type().to_owned();
        // The body's size limit is the payload configuration's (256 KiB by
        // default).
        let bytes = web::Bytes::from_request(request, payload);
        Box::pin(async move {
            if content_type != "application/json" && !content_type.ends_with("+json") {
                return Err(invalid(
                    format!("Content-Type is {content_type:?}; send application/json"),
                    None,
                ));
            }
            let bytes = bytes
                .await
                .map_err(|error| invalid(error.to_string(), None))?;
            parse(&bytes).map(JsonBody)
        })
    }
}

fn invalid(message: String, field: Option<String>) -> ApiError {
    ApiError::InvalidJson { message, field }
}

/// Parses `bytes` as one JSON value of type `T`, naming the field at fault.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    match parsed {
        Ok(value) => {
            deserializer
                .end()
                .map_err(|error| invalid(error.to_string(), None))?;
            Ok(value)
        }
        Err(error) => {
            let field = match error.inner().classify() {
                serde_json::error::Category::Data => field_of(&error),
                _ => None,
            };
            Err(invalid(without_values(&error.to_string()), field))
        }
    }
}

/// Returns the top-level field an error belongs to: the first key of its
/// path, or for an error about the object itself ("missing field `name`",
/// "unknown field `colour`"), the field its message quotes.
fn field_of(error: &serde_path_to_error::Error<serde_json::Error>) -> Option<String> {
    if let Some(Segment::Map { key }) = error.path().iter().next() {
        return Some(key.clone());
    }
    let message = error.inner().to_string();
    ["missing field `", "unknown field `"]
        .iter()
        .find_map(|marker| {
            let start = message.find(marker)? + marker.len();
            let end = message[start..].find('`')? + start;
            Some(message[start..end].to_owned())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        #[serde(default)]
        tags: Vec<uuid::Uuid>,
    }

    fn fault(json: &str) -> (Option<String>, String) {
        match parse::<Body>(json.as_bytes()) {
            Err(ApiError::InvalidJson { message, field }) => (field, message),
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn each_fault_names_its_field() {
        let cases = [
            (r#"{"name": null}"#, Some("name")),
            (r#"{"name": 5}"#, Some("name")),
            (r#"{"name": "a", "tags": ["zz"]}"#, Some("tags")),
            (r#"{}"#, Some("name")),
            (r#"{"name": "a", "colour": "red"}"#, Some("colour")),
            (r#"{"name": "a""#, None),
            (r#"{"name": "a"} trailing"#, None),
            (r#"[1, 2]"#, None),
        ];
        for (json, expected) in cases {
            assert_eq!(fault(json).0.as_deref(), expected, "{json}");
        }
    }

    #[test]
    fn value_is_not_repeated() {
        let (_, message) = fault(r#"{"name": 987654321987}"#);
        assert!(!message.contains("987654321987"), "{message}");
        assert!(message.contains("name"), "{message}");
    }

    #[test]
    fn good_body_parses() -> Result<(), ApiError> {
        let body: Body = parse(br#"{"name": "Sam", "tags": []}"#)?;
        assert_eq!(body.name, "Sam");
        Ok(())
    }
}
