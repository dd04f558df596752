//! Integer fields of JSON bodies. JSON has one kind of number, and JSON
//! Schema's `integer` (what the OpenAPI document says these fields are) is
//! any number without a fractional part, `30.0` included. serde reads
//! `30.0` as a float and refuses it for a `u64`, so a client that writes
//! whole numbers as floats (Python's `json.dumps(30.0)`, a schema-driven
//! generator) was refused data the document promised to accept. Fields the
//! document calls integers are read through [`Whole`]; `30.5`, a string, or
//! a number out of the field's range are refused as before, with serde's
//! own words (`invalid type: floating point `30.5`, expected u64`).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Unexpected, Visitor};

/// An integer of type `T` that may be written as a whole-number float.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Whole<T>(pub T);

impl<'de, T> Deserialize<'de> for Whole<T>
where
    T: TryFrom<i128>,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(WholeVisitor(PhantomData))
            .map(Whole)
    }
}

struct WholeVisitor<T>(PhantomData<T>);

impl<T> WholeVisitor<T>
where
    T: TryFrom<i128>,
{
    fn fit<E: de::Error>(&self, value: i128, unexpected: Unexpected<'_>) -> Result<T, E> {
        T::try_from(value).map_err(|_| E::invalid_value(unexpected, self))
    }
}

impl<T> Visitor<'_> for WholeVisitor<T>
where
    T: TryFrom<i128>,
{
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `u64`, `i64`, ...: the words serde uses for a plain integer field.
        let name = std::any::type_name::<T>();
        formatter.write_str(name.rsplit("::").next().unwrap_or(name))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        self.fit(value.into(), Unexpected::Signed(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        self.fit(value.into(), Unexpected::Unsigned(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<T, E> {
        // Beyond ±2^127 no integer type here could hold it anyway.
        let whole = value.is_finite() && value.fract() == 0.0 && value.abs() < 2f64.powi(127);
        if !whole {
            return Err(E::invalid_type(Unexpected::Float(value), &self));
        }
        // A whole float is exactly the integer it names.
        self.fit(value as i128, Unexpected::Float(value))
    }
}

/// For a required integer field: `#[serde(deserialize_with =
/// "integers::whole")]`.
pub(crate) fn whole<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    Whole::<T>::deserialize(deserializer).map(|Whole(value)| value)
}

/// For an optional integer field: `#[serde(default, deserialize_with =
/// "integers::optional")]`.
pub(crate) fn optional<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    Option::<Whole<T>>::deserialize(deserializer).map(|value| value.map(|Whole(value)| value))
}

/// For an optional list of integers.
pub(crate) fn optional_list<'de, D, T>(deserializer: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    Option::<Vec<Whole<T>>>::deserialize(deserializer)
        .map(|list| list.map(|items| items.into_iter().map(|Whole(value)| value).collect()))
}

/// For a field of a change where absent, `null` and a value differ (see
/// [`super::present`]): `Some(None)` for `null`.
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    optional(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Fields {
        #[serde(default, deserialize_with = "whole")]
        required: u8,
        #[serde(default, deserialize_with = "optional")]
        seconds: Option<u64>,
        #[serde(default, deserialize_with = "optional")]
        score: Option<i64>,
        #[serde(default, deserialize_with = "optional")]
        cap: Option<u32>,
        #[serde(default, deserialize_with = "optional_list")]
        schedule: Option<Vec<u64>>,
        #[serde(default, deserialize_with = "present")]
        nullable: Option<Option<i64>>,
    }

    fn read(body: serde_json::Value) -> Result<Fields, String> {
        crate::http::extract::from_json_value(body)
    }

    #[test]
    fn whole_numbers_are_accepted_written_either_way() {
        let fields = read(json!({
            "required": 3.0, "seconds": 30.0, "score": -2.0, "cap": 64, "schedule": [5, 300.0, 1e3],
            "nullable": 7.0,
        }))
        .expect("whole numbers");
        assert_eq!(
            fields,
            Fields {
                required: 3,
                seconds: Some(30),
                score: Some(-2),
                cap: Some(64),
                schedule: Some(vec![5, 300, 1000]),
                nullable: Some(Some(7)),
            }
        );
        let empty = read(json!({"nullable": null})).expect("absent and null");
        assert_eq!(
            (empty.seconds, empty.schedule, empty.nullable),
            (None, None, Some(None))
        );
        assert_eq!(read(json!({})).expect("nothing").nullable, None);
    }

    #[test]
    fn fractions_strings_and_numbers_out_of_range_are_refused_in_serdes_words() {
        let cases = [
            (
                json!({"seconds": 30.5}),
                "seconds: invalid type: floating point `30.5`, expected u64",
            ),
            (
                json!({"score": "high"}),
                "score: invalid type: string \"high\", expected i64",
            ),
            (
                json!({"seconds": -1}),
                "seconds: invalid value: integer `-1`, expected u64",
            ),
            (
                json!({"cap": 5_000_000_000u64}),
                "cap: invalid value: integer `5000000000`, expected u32",
            ),
            (
                json!({"cap": 5e9}),
                "cap: invalid value: floating point `5000000000.0`, expected u32",
            ),
            (
                json!({"schedule": [1, 2.5]}),
                "schedule[1]: invalid type: floating point `2.5`, expected u64",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(read(body.clone()), Err(expected.to_owned()), "{body}");
        }
        assert_eq!(
            read(json!({"score": 1e300})),
            Err("score: invalid type: floating point `1e+300`, expected i64".to_owned())
        );
    }
}
