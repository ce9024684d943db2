//! A lorebook entry's fields as a card writes them, read leniently as SillyTavern reads them:
//! `null` is absent, numbers and flags written as strings are read for what they say, a
//! string of comma-separated keys is a list. Only an entry that is not an object fails.

use serde_json::{Map, Value};

/// An entry's fields as written, read leniently as SillyTavern does: `null` is absent, a
/// number or `"true"` where a string or a flag is expected is read for what it says, a
/// string of comma-separated keys is a list; only an entry that is not an object fails.
pub(super) struct RawEntry {
    pub(super) keys: Vec<String>,
    pub(super) secondary_keys: Vec<String>,
    pub(super) content: String,
    pub(super) enabled: Option<bool>,
    pub(super) insertion_order: Option<f64>,
    pub(super) case_sensitive: Option<bool>,
    pub(super) constant: Option<bool>,
    pub(super) selective: Option<bool>,
    pub(super) priority: Option<f64>,
    pub(super) position: Option<String>,
    pub(super) name: Option<String>,
    pub(super) comment: Option<String>,
    pub(super) extensions: Map<String, Value>,
}

impl RawEntry {
    pub(super) fn read(v: &Value) -> Result<RawEntry, String> {
        let o = v.as_object().ok_or("is not an object")?;
        let get = |k: &str| o.get(k).filter(|v| !v.is_null());
        let text = |k: &str| get(k).and_then(scalar);
        let list = |k: &str| match get(k) {
            Some(Value::Array(items)) => items.iter().filter_map(scalar).collect(),
            Some(Value::String(s)) => s.split(',').map(|k| k.trim().to_owned()).collect(),
            _ => Vec::new(),
        };
        Ok(RawEntry {
            keys: list("keys"),
            secondary_keys: list("secondary_keys"),
            content: text("content").unwrap_or_default(),
            enabled: get("enabled").and_then(flag),
            insertion_order: get("insertion_order").and_then(number),
            case_sensitive: get("case_sensitive").and_then(flag),
            constant: get("constant").and_then(flag),
            selective: get("selective").and_then(flag),
            priority: get("priority").and_then(number),
            position: match get("position") {
                Some(Value::Number(n)) if n.as_f64() == Some(0.0) => Some("before_char".into()),
                other => other.and_then(scalar),
            },
            name: text("name"),
            comment: text("comment"),
            extensions: get("extensions")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }
}

/// A string, or a number or flag written where a string is expected.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A flag written as `true`, `"true"` or `1`.
pub(super) fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_f64().map(|n| n != 0.0),
        _ => None,
    }
}

/// A number written as `10`, `10.0` or `"10"`.
pub(super) fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}
