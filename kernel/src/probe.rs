//! The runtime probe (`probe/*.py`) as the proxy uses it: the code that installs it in the
//! child, and the user expression that collects its notes with each execute request. The notes'
//! format, with golden examples both sides test against: tests/golden/probe/README.md.

use serde_json::{Map, Value};

/// The user_expressions key the proxy adds to execute requests and strips from their replies.
/// A client's own expressions never use it (the name is ours), and are left alone.
pub const EXPRESSION_KEY: &str = "__prov_probe__";

/// The expression evaluated after each successful cell when no variable is tagged: the notes
/// not yet collected.
const COLLECT: &str = "__import__('_prov_probe').collect()";

/// The package the probe is installed as, in the child's `sys.modules`.
const PACKAGE: &str = "_prov_probe";

/// The probe's Python files, by module name within the package (`""`: the package itself), in
/// an order where each comes after every module it imports (`from .limits import …`): they are
/// executed in this order.
const MODULES: [(&str, &str); 13] = [
    ("limits", include_str!("probe/limits.py")),
    ("files", include_str!("probe/files.py")),
    ("hashing", include_str!("probe/hashing.py")),
    ("arrays", include_str!("probe/arrays.py")),
    ("tensors", include_str!("probe/tensors.py")),
    ("frames", include_str!("probe/frames.py")),
    ("estimators", include_str!("probe/estimators.py")),
    ("changes", include_str!("probe/changes.py")),
    ("fingerprints", include_str!("probe/fingerprints.py")),
    ("summaries", include_str!("probe/summaries.py")),
    ("notes", include_str!("probe/notes.py")),
    ("packages", include_str!("probe/packages.py")),
    ("", include_str!("probe/__init__.py")),
];

/// Code that installs the probe as the package `_prov_probe`, binding no name in the user's
/// namespace (so the probe's first snapshot is the user's namespace as it is): one expression
/// whose only names are a lambda's parameters and a comprehension's variables. Every module is
/// registered in `sys.modules` first, so the relative imports between them find each other
/// there; then each is executed, in [`MODULES`] order, and the package starts probing.
pub fn install_code() -> String {
    let mut modules = String::new();
    for (name, source) in MODULES {
        let full = if name.is_empty() {
            PACKAGE.to_string()
        } else {
            format!("{PACKAGE}.{name}")
        };
        // A JSON string literal is also a valid Python one, whatever the source holds.
        let full = serde_json::to_string(&full).expect("a string serialises");
        let source = serde_json::to_string(source).expect("a string serialises");
        modules.push_str(&format!("({full}, {source}), "));
    }
    format!(
        "(lambda sys, types, modules: (\
         [sys.modules.__setitem__(name, types.ModuleType(name)) for name, _ in modules], \
         sys.modules['{PACKAGE}'].__dict__.update(__path__=[]), \
         [(sys.modules[name].__dict__.update(__package__='{PACKAGE}'), \
         exec(source, sys.modules[name].__dict__)) for name, source in modules], \
         sys.modules['{PACKAGE}'].install(get_ipython())))\
         (__import__('sys'), __import__('types'), ({modules}))"
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

/// Takes the probe's answer out of the content of the execute reply to `request` (its msg_id):
/// the notes, by request msg_id. `None` when the reply has none (the cell failed: its notes come
/// with the next success; or the probe is gone). An answer with no data at all is the probe's
/// `NOTHING`: its one note was this request's, saying no name changed ([`empty_note`]).
pub fn take_notes(content: &mut Map<String, Value>, request: &str) -> Option<Map<String, Value>> {
    let answer = content
        .get_mut("user_expressions")?
        .as_object_mut()?
        .remove(EXPRESSION_KEY)?;
    let Value::Object(mut answer) = answer else {
        return None;
    };
    if answer.get("status").and_then(Value::as_str) != Some("ok") {
        return None;
    }
    match answer.get_mut("data")? {
        Value::Object(data) if data.is_empty() => {
            Some(Map::from_iter([(request.to_string(), empty_note())]))
        }
        Value::Object(data) => match data.get_mut("application/json") {
            Some(Value::Object(notes)) => Some(std::mem::take(notes)),
            _ => None,
        },
        _ => None,
    }
}

/// The note of a cell that bound and deleted no name, as the probe would have sent it.
fn empty_note() -> Value {
    let mut note = Map::new();
    note.insert("bound".into(), Value::Array(Vec::new()));
    note.insert("deleted".into(), Value::Array(Vec::new()));
    Value::Object(note)
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
        let notes = take_notes(reply.as_object_mut().unwrap(), "m1").unwrap();
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
    fn every_module_comes_after_the_modules_it_imports() {
        for (i, (name, source)) in MODULES.iter().enumerate() {
            for line in source.lines().filter(|l| l.starts_with("from .")) {
                let imported = line["from .".len()..].split(' ').next().unwrap();
                assert!(
                    MODULES[..i].iter().any(|(earlier, _)| *earlier == imported),
                    "{name:?} imports {imported:?}, which is not before it in MODULES"
                );
            }
        }
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/probe"))
            .unwrap()
            .filter_map(|e| e.unwrap().file_name().into_string().ok())
            .filter(|f| f.ends_with(".py"))
            .count();
        assert_eq!(files, MODULES.len(), "every probe/*.py is installed");
    }

    #[test]
    fn install_code_binds_no_user_name() {
        let code = install_code();
        assert!(code.starts_with("(lambda sys, types, modules:"));
        assert!(!code.contains("\n(lambda"), "one expression");
        for (name, source) in MODULES {
            let full = if name.is_empty() {
                PACKAGE.to_string()
            } else {
                format!("{PACKAGE}.{name}")
            };
            let (full, source) = (
                serde_json::to_string(&full).unwrap(),
                serde_json::to_string(source).unwrap(),
            );
            let entry = format!("({full}, {source})");
            assert!(code.contains(&entry), "{name:?} is installed");
        }
    }

    /// The golden notes the probe's Python tests produce (tests/golden/probe/notes.json): the
    /// expression the proxy sends for each cell's tags is the one the probe answered, and the
    /// proxy takes out of the reply exactly the notes in that answer.
    #[test]
    fn golden_answers_are_taken_out_of_replies() {
        let golden: Value =
            serde_json::from_str(include_str!("../../tests/golden/probe/notes.json")).unwrap();
        let cells = golden["cells"].as_array().unwrap();
        assert!(cells.len() >= 5);
        let mut empties = 0;
        for cell in cells {
            let tags: Vec<String> = cell["tags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_string())
                .collect();
            assert_eq!(collect_expression(&tags), cell["expression"]);
            let answer = &cell["answer"];
            if answer.is_null() {
                continue; // the cell failed: ipykernel evaluates no user expression
            }
            let mut reply = json!({"status": "ok", "user_expressions": {
                EXPRESSION_KEY: answer, "mine": {"status": "ok", "data": {}}}});
            let msg_id = cell["msg_id"].as_str().unwrap();
            let notes = take_notes(reply.as_object_mut().unwrap(), msg_id).map(Value::Object);
            if answer["data"] == json!({}) {
                // The probe's NOTHING: this request's note, saying no name changed.
                assert_eq!(notes, Some(json!({msg_id: {"bound": [], "deleted": []}})));
                empties += 1;
            } else {
                assert_eq!(notes.as_ref(), answer["data"].get("application/json"));
            }
            assert_eq!(
                reply["user_expressions"],
                json!({"mine": {"status": "ok", "data": {}}})
            );
        }
        assert!(
            empties > 0,
            "a cell that changed nothing is among the golden ones"
        );
    }

    #[test]
    fn an_empty_answer_is_the_requests_empty_note_and_an_error_none() {
        let answer =
            |answer: Value| json!({"status": "ok", "user_expressions": {EXPRESSION_KEY: answer}});
        let mut nothing = answer(json!({"status": "ok", "data": {}, "metadata": {}}));
        assert_eq!(
            take_notes(nothing.as_object_mut().unwrap(), "m7").map(Value::Object),
            Some(json!({"m7": {"bound": [], "deleted": []}}))
        );
        assert_eq!(nothing["user_expressions"], json!({}));
        // No note at all (the probe made none): known as such, no fact invented.
        let mut none = answer(json!({"status": "ok", "data": {"application/json": {}}}));
        assert_eq!(
            take_notes(none.as_object_mut().unwrap(), "m7"),
            Some(Map::new())
        );
        // The probe's expression raised (it is gone): nothing, whatever data says.
        let mut error = answer(json!({"status": "error", "ename": "NameError", "data": {}}));
        assert_eq!(take_notes(error.as_object_mut().unwrap(), "m7"), None);
    }
}
