//! The runtime probe (`probe.py`) as the proxy uses it: the code that installs it in the child,
//! and the user expression that collects its notes with each execute request.

use serde_json::{Map, Value};

/// The user_expressions key the proxy adds to execute requests and strips from their replies.
/// A client's own expressions never use it (the name is ours), and are left alone.
pub const EXPRESSION_KEY: &str = "__prov_probe__";

/// The expression evaluated after each successful cell when no variable is tagged: the notes
/// not yet collected.
const COLLECT: &str = "__import__('_prov_probe').collect()";

/// The Python source of the probe.
const SOURCE: &str = include_str!("probe.py");

/// Code that installs the probe as the module `_prov_probe`, binding no name in the user's
/// namespace (so the probe's first snapshot is the user's namespace as it is).
pub fn install_code() -> String {
    let source = serde_json::to_string(SOURCE).expect("a string serialises");
    format!(
        "(lambda sys, types: (sys.modules.__setitem__('_prov_probe', types.ModuleType('_prov_probe')), \
         exec({source}, sys.modules['_prov_probe'].__dict__), \
         sys.modules['_prov_probe'].install(get_ipython())))\
         (__import__('sys'), __import__('types'))"
    )
}

/// The collecting expression, telling the probe which variables are tagged now (so it
/// summarises their values): `collect(("a", "b",))`. Each name is a JSON string literal, which
/// is also a valid Python one whatever the name holds (quotes, backslashes, newlines).
pub fn collect_expression<'a>(tags: impl IntoIterator<Item = &'a String>) -> String {
    let mut names = String::new();
    for name in tags {
        names.push_str(&serde_json::to_string(name).expect("a string serialises"));
        names.push_str(", ");
    }
    if names.is_empty() {
        return COLLECT.to_string();
    }
    format!("__import__('_prov_probe').collect(({}))", names.trim_end())
}

/// Adds the probe's expression to an execute request's content.
pub fn add_expression(content: &mut Map<String, Value>, expression: String) {
    let expressions = content
        .entry("user_expressions")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(expressions) = expressions {
        expressions.insert(EXPRESSION_KEY.into(), Value::String(expression));
    }
}

/// Takes the probe's answer out of an execute reply's content: the notes, by request msg_id.
/// `None` when the reply has none (the cell failed: its notes come with the next success).
pub fn take_notes(content: &mut Map<String, Value>) -> Option<Map<String, Value>> {
    let answer = content
        .get_mut("user_expressions")?
        .as_object_mut()?
        .remove(EXPRESSION_KEY)?;
    match answer {
        Value::Object(mut answer) => match answer.get_mut("data")?.get_mut("application/json") {
            Some(Value::Object(notes)) => Some(std::mem::take(notes)),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn expression_is_added_beside_the_clients_own_and_taken_out_again() {
        let mut request = json!({"code": "x", "user_expressions": {"mine": "1+1"}});
        add_expression(request.as_object_mut().unwrap(), COLLECT.to_string());
        assert_eq!(request["user_expressions"]["mine"], "1+1");
        assert_eq!(request["user_expressions"][EXPRESSION_KEY], COLLECT);

        let mut reply = json!({"status": "ok", "user_expressions": {
            "mine": {"status": "ok", "data": {"text/plain": "2"}},
            EXPRESSION_KEY: {"status": "ok", "data": {"application/json": {"m1": {"bound": []}}}},
        }});
        let notes = take_notes(reply.as_object_mut().unwrap()).unwrap();
        assert!(notes.contains_key("m1"));
        assert_eq!(
            reply["user_expressions"],
            json!({"mine": {"status": "ok", "data": {"text/plain": "2"}}})
        );
    }

    #[test]
    fn collect_expression_lists_the_tags_as_python_strings() {
        assert_eq!(collect_expression(&[]), COLLECT);
        let one = vec!["acc".to_string()];
        assert_eq!(
            collect_expression(&one),
            r#"__import__('_prov_probe').collect(("acc",))"#
        );
        let odd = vec!["a'b".to_string(), "c\"d\\\n".to_string(), "é".to_string()];
        assert_eq!(
            collect_expression(&odd),
            r#"__import__('_prov_probe').collect(("a'b", "c\"d\\\n", "é",))"#
        );
    }

    #[test]
    fn install_code_binds_no_user_name() {
        let code = install_code();
        assert!(code.starts_with("(lambda sys, types:"));
        assert!(!code.contains("\n(lambda"), "one expression");
    }
}
