//! JSON Merge Patch (RFC 7396) and the changed fields it leaves, for PATCH endpoints and their history entries.

use crate::error::validation::escape_pointer;

/// Applies a JSON Merge Patch (RFC 7396) to `target`.
pub fn merge_patch(target: &mut serde_json::Value, patch: &serde_json::Value) {
    use serde_json::Value;
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// JSON pointers of the leaves where two documents differ (for history entries).
pub fn changed_pointers(before: &serde_json::Value, after: &serde_json::Value) -> Vec<String> {
    fn walk(a: &serde_json::Value, b: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
        use serde_json::Value;
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
                keys.sort();
                keys.dedup();
                for k in keys {
                    let null = Value::Null;
                    walk(
                        x.get(k).unwrap_or(&null),
                        y.get(k).unwrap_or(&null),
                        &format!("{prefix}/{}", escape_pointer(k)),
                        out,
                    );
                }
            }
            (x, y) if x != y => out.push(prefix.to_owned()),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(before, after, "", &mut out);
    out
}
