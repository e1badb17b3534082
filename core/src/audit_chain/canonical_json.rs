//! One text form for each JSON value, so that an audit event's detail
//! hashes the same after a round trip through either database.
//!
//! SQLite keeps the text that serde_json wrote, but PostgreSQL receives the
//! value as `jsonb` (sqlx binds JSON parameters as `jsonb`, also for a
//! `json` column) and hands back jsonb's rendering. That rendering reorders
//! object keys and writes numbers in plain decimal, so the float `1e19`
//! comes back as the integer `10000000000000000000`. The canonical form
//! therefore:
//!
//! - sorts object keys by their UTF-8 bytes, whatever order the map keeps
//!   (serde_json's `preserve_order` feature would keep insertion order);
//! - writes no whitespace;
//! - escapes in strings only `"`, `\` and the control characters;
//! - writes a number whose value is a whole number of magnitude below 2^64
//!   as a plain integer, whether it was parsed as an integer or a float;
//! - writes any other number in serde_json's shortest form that parses back
//!   to the same `f64`.

use std::fmt::Write;

use serde_json::{Number, Value};

/// 2^64 as an `f64`, exactly.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// Returns the canonical text of a JSON value.
pub fn to_canonical_json(value: &Value) -> String {
    let mut text = String::new();
    write_value(&mut text, value);
    text
}

fn write_value(text: &mut String, value: &Value) {
    match value {
        Value::Null => text.push_str("null"),
        Value::Bool(true) => text.push_str("true"),
        Value::Bool(false) => text.push_str("false"),
        Value::Number(number) => write_number(text, number),
        Value::String(string) => write_string(text, string),
        Value::Array(items) => {
            text.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    text.push(',');
                }
                write_value(text, item);
            }
            text.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|(a, _), (b, _)| a.as_bytes().cmp(b.as_bytes()));
            text.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    text.push(',');
                }
                write_string(text, key);
                text.push(':');
                write_value(text, item);
            }
            text.push('}');
        }
    }
}

fn write_number(text: &mut String, number: &Number) {
    if let Some(integer) = number.as_i64() {
        let _infallible = write!(text, "{integer}");
    } else if let Some(integer) = number.as_u64() {
        let _infallible = write!(text, "{integer}");
    } else if let Some(float) = number.as_f64()
        && float.fract() == 0.0
        && float.abs() < TWO_POW_64
    {
        // Exact: a whole f64 below 2^64 in magnitude fits an i128.
        let _infallible = write!(text, "{}", float as i128);
    } else {
        let _infallible = write!(text, "{number}");
    }
}

fn write_string(text: &mut String, string: &str) {
    text.push('"');
    for character in string.chars() {
        match character {
            '"' => text.push_str("\\\""),
            '\\' => text.push_str("\\\\"),
            '\n' => text.push_str("\\n"),
            '\r' => text.push_str("\\r"),
            '\t' => text.push_str("\\t"),
            '\u{8}' => text.push_str("\\b"),
            '\u{c}' => text.push_str("\\f"),
            control if u32::from(control) < 0x20 => {
                let _infallible = write!(text, "\\u{:04x}", u32::from(control));
            }
            other => text.push(other),
        }
    }
    text.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn canonical(text: &str) -> String {
        to_canonical_json(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn keys_sorted_without_whitespace() {
        assert_eq!(
            canonical(r#"{ "b": [1, {"z": null, "a": true}], "a": "x" }"#),
            r#"{"a":"x","b":[1,{"a":true,"z":null}]}"#
        );
    }

    #[test]
    fn keys_sorted_by_bytes() {
        // jsonb orders keys by length first; the canonical form does not.
        assert_eq!(
            canonical(r#"{"bb":1,"a":2,"é":3,"Z":4}"#),
            r#"{"Z":4,"a":2,"bb":1,"é":3}"#
        );
    }

    #[test]
    fn whole_floats_written_as_integers() {
        let cases = [
            (json!(5.0), "5"),
            (json!(-0.0), "0"),
            (json!(1e19), "10000000000000000000"),
            (json!(-1e19), "-10000000000000000000"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(i64::MIN), "-9223372036854775808"),
        ];
        for (value, expected) in cases {
            assert_eq!(to_canonical_json(&value), expected, "for {value}");
        }
    }

    #[test]
    fn jsonb_number_rendering_keeps_text() {
        // Each pair: what serde_json writes, and what jsonb hands back.
        let pairs = [
            ("1e19", "10000000000000000000"),
            ("5.0", "5"),
            ("-0.0", "0.0"),
            ("1.5e-7", "0.00000015"),
            ("1e20", "100000000000000000000"),
            ("1.8446744073709552e19", "18446744073709552000"),
            ("-1e300", &format!("-1{}", "0".repeat(300))),
        ];
        for (written, returned) in pairs {
            assert_eq!(
                canonical(written),
                canonical(returned),
                "{written} vs {returned}"
            );
        }
    }

    #[test]
    fn fractions_keep_shortest_form() {
        assert_eq!(canonical("0.1"), "0.1");
        assert_eq!(canonical("0.30000000000000004"), "0.30000000000000004");
        assert_eq!(canonical("1e300"), "1e+300");
    }

    #[test]
    fn strings_escaped_minimally() {
        let value = json!("quote \" backslash \\ tab \t nul \u{0} bell \u{7} é 😀 /");
        assert_eq!(
            to_canonical_json(&value),
            r#""quote \" backslash \\ tab \t nul \u0000 bell \u0007 é 😀 /""#
        );
        let parsed: Value = serde_json::from_str(&to_canonical_json(&value)).unwrap();
        assert_eq!(parsed, value);
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            "\\PC{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,6}", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn survives_text_round_trip(value in json_value()) {
            let stored = serde_json::to_string(&value).unwrap();
            let read_back: Value = serde_json::from_str(&stored).unwrap();
            prop_assert_eq!(to_canonical_json(&read_back), to_canonical_json(&value));
        }

        #[test]
        fn canonical_text_parses_to_same_canonical(value in json_value()) {
            let text = to_canonical_json(&value);
            let parsed: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(to_canonical_json(&parsed), text);
        }
    }
}
