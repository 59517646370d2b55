//! An automation's configuration, checked against the config schema its plugin declares, so a
//! typo (`{"treshold": 1}`) or a wrong type (`{"threshold": "two"}`) is a `VALIDATION` error
//! naming the key when the automation is saved, not a setting silently ignored or a failure on
//! every run.
//!
//! The subset of JSON Schema plugins use: `properties`, `required`, `additionalProperties`
//! (`true`, `false` or a schema for the other values), `type` (a name or a list), `enum`,
//! `minimum`, `maximum` and `items`. Unlike JSON Schema's default, a key the schema does not
//! name is refused unless `additionalProperties` allows it: a misspelt setting is the mistake
//! worth catching.

use serde_json::Value;

use crate::error::{DomainError, DomainResult};

/// Checks `config` against `schema`; the error names the path at fault (`config.tag`).
pub fn check(schema: &Value, config: &Value) -> DomainResult<()> {
    check_at("config", schema, config)
        .map_err(|(path, message)| DomainError::validation(path, message))
}

fn check_at(path: &str, schema: &Value, value: &Value) -> Result<(), (String, String)> {
    let Some(schema) = schema.as_object() else {
        return Ok(());
    };
    let fail = |message: String| Err((path.to_owned(), message));
    if let Some(expected) = schema.get("type")
        && !type_matches(expected, value)
    {
        return fail(format!("must be {}", describe_type(expected)));
    }
    if let Some(Value::Array(options)) = schema.get("enum")
        && !options.contains(value)
    {
        let options: Vec<String> = options.iter().map(Value::to_string).collect();
        return fail(format!("must be one of {}", options.join(", ")));
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = schema.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            return fail(format!("must be at least {min}"));
        }
        if let Some(max) = schema.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            return fail(format!("must be at most {max}"));
        }
    }
    if let (Some(items), Value::Array(values)) = (schema.get("items"), value) {
        for (i, item) in values.iter().enumerate() {
            check_at(&format!("{path}[{i}]"), items, item)?;
        }
    }
    if let Value::Object(fields) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        let others = schema.get("additionalProperties");
        for (key, field) in fields {
            let field_path = format!("{path}.{key}");
            match properties.and_then(|p| p.get(key)) {
                Some(property) => check_at(&field_path, property, field)?,
                None => match others {
                    Some(Value::Bool(true)) => {}
                    Some(other @ Value::Object(_)) => check_at(&field_path, other, field)?,
                    // Only a schema that names its settings can say which key is unknown.
                    _ if properties.is_none() => {}
                    _ => {
                        let mut known: Vec<&str> = properties
                            .into_iter()
                            .flat_map(|p| p.keys().map(String::as_str))
                            .collect();
                        known.sort_unstable();
                        return Err((
                            field_path,
                            format!(
                                "is not a setting of this plugin; its settings are: {}",
                                known.join(", ")
                            ),
                        ));
                    }
                },
            }
        }
        if let Some(Value::Array(required)) = schema.get("required") {
            for key in required.iter().filter_map(Value::as_str) {
                let has_default = properties
                    .and_then(|p| p.get(key))
                    .is_some_and(|p| p.get("default").is_some());
                if !fields.contains_key(key) && !has_default {
                    return Err((format!("{path}.{key}"), "is required".to_owned()));
                }
            }
        }
    }
    Ok(())
}

fn type_matches(expected: &Value, value: &Value) -> bool {
    match expected {
        Value::String(name) => is_type(name, value),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .any(|name| is_type(name, value)),
        _ => true,
    }
}

fn is_type(name: &str, value: &Value) -> bool {
    match name {
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn describe_type(expected: &Value) -> String {
    let article = |t: &str| match t {
        "integer" | "array" | "object" => format!("an {t}"),
        "null" => "null".to_owned(),
        _ => format!("a {t}"),
    };
    match expected {
        Value::String(name) => article(name),
        Value::Array(names) => names
            .iter()
            .filter_map(Value::as_str)
            .map(article)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "valid".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "threshold": {"type": "integer", "minimum": 1, "default": 2},
                "channel": {"enum": ["email", "sms"]},
                "tags": {"type": "array", "items": {"type": "string"}},
                "messages": {"type": "object", "additionalProperties": {"type": "string"}}
            },
            "required": ["threshold", "channel"]
        })
    }

    fn field_of(result: DomainResult<()>) -> Option<String> {
        match result {
            Err(DomainError::Validation(invalid)) => Some(invalid.first().field.clone()),
            _ => None,
        }
    }

    #[test]
    fn a_good_config_passes_and_defaults_count_for_required_keys() {
        let good = json!({"channel": "sms", "tags": ["a"], "messages": {"en": "Hi"}});
        assert!(check(&schema(), &good).is_ok());
    }

    #[test]
    fn typos_wrong_types_and_bad_values_name_their_key() {
        let cases = [
            (json!({"channel": "sms", "treshold": 1}), "config.treshold"),
            (
                json!({"channel": "sms", "threshold": "two"}),
                "config.threshold",
            ),
            (
                json!({"channel": "sms", "threshold": 0}),
                "config.threshold",
            ),
            (json!({"channel": "fax"}), "config.channel"),
            (
                json!({"channel": "sms", "tags": ["a", 2]}),
                "config.tags[1]",
            ),
            (
                json!({"channel": "sms", "messages": {"en": 1}}),
                "config.messages.en",
            ),
            (json!({}), "config.channel"),
        ];
        for (config, field) in cases {
            assert_eq!(
                field_of(check(&schema(), &config)).as_deref(),
                Some(field),
                "{config}"
            );
        }
    }

    #[test]
    fn a_schema_without_properties_accepts_any_object() {
        assert!(check(&json!({}), &json!({"anything": 1})).is_ok());
        assert!(check(&json!({"type": "object"}), &json!({"anything": 1})).is_ok());
    }
}
