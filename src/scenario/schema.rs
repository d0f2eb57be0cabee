//! The JSON Schema of the scenario format, generated from the raw serde
//! types that parse it (`RawScenario` in the crate-internal `raw` module and what
//! it holds), so the schema and the parser cannot disagree on keys or
//! types. Shipped as `docs/scenario.schema.json` and printed by
//! `stickysim schema`; editors (Taplo, VS Code's Even Better TOML) use it to
//! complete and check keys.
//!
//! The schema checks keys and types; what only validation can check
//! (ranges, which parameters a distribution or strategy kind takes,
//! references between tables) stays with `stickysim validate`.

use schemars::generate::SchemaSettings;
use serde_json::Value;

/// The scenario schema as pretty-printed JSON (draft 7, which every editor
/// integration reads), ending in a
/// newline.
pub fn json_schema() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = generator
        .into_root_schema_for::<super::raw::RawScenario>()
        .to_value();
    strip_null(&mut schema);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serialises");
    text.push('\n');
    text
}

/// Whether `text` passes the parser's first stage — the serde types the
/// schema is generated from — before any value is checked; the parser's
/// message when not. Lets a test hold the schema and the parser to the
/// same keys and types.
pub fn reads_as_raw(text: &str) -> Result<(), String> {
    toml::from_str::<super::raw::RawScenario>(text)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The distribution names (`dist = …`) the parser accepts, in its order.
pub fn dist_names() -> Vec<&'static str> {
    super::raw::DIST_PARAMS.iter().map(|(k, _)| *k).collect()
}

/// TOML has no null, so an optional key is its type or absent: drops the
/// `null` that schemars allows for every `Option`, everywhere in `schema`.
fn strip_null(schema: &mut Value) {
    match schema {
        Value::Object(obj) => {
            if let Some(Value::Array(types)) = obj.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    obj.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(any)) = obj.get_mut("anyOf") {
                any.retain(|s| s.get("type").is_none_or(|t| t != "null"));
                if let [Value::Object(only)] = &any[..] {
                    let only = only.clone();
                    obj.remove("anyOf");
                    for (k, v) in only {
                        obj.entry(k).or_insert(v);
                    }
                }
            }
            // `#[serde(default)]` on an `Option` means "absent", not null.
            if obj.get("default").is_some_and(Value::is_null) {
                obj.remove("default");
            }
            obj.values_mut().for_each(strip_null);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_null),
        _ => {}
    }
}
