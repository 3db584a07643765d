//! The tags of a trial (`%tags`, `provctl tags`) and the confirmations of the tag magics.

use provstore::TagsAnswer;
use serde_json::json;

use crate::doc::{Block, Doc};
use crate::table::{Cell, Table};
use crate::text::when;
use crate::{render_confirmation, to_json, trial_named, Rendered};

/// The tags of a trial: tagged variables, then stage marks. JSON: the [`TagsAnswer`] itself
/// (the `provctl tags --json` contract).
pub fn render_tags(answer: &TagsAnswer) -> Rendered {
    tags_doc(answer).rendered(to_json(answer))
}

/// The text alone of [`render_tags`], for provctl.
pub fn tags_text(answer: &TagsAnswer) -> String {
    tags_doc(answer).text()
}

const NO_VARIABLES: &str = "No tagged variables: tag one with %tag_var VAR [LABEL].";
const NO_STAGES: &str = "No stages: mark a cell with %tag_cell LABEL.";

/// The title, then each list under its name, or the sentence saying it is empty.
fn tags_doc(answer: &TagsAnswer) -> Doc {
    let variables = (!answer.variables.is_empty()).then(|| {
        let mut table = Table::new(&["variable", "label", "tagged (UTC)", "after"]);
        for v in &answer.variables {
            table.push(vec![
                Cell::plain(v.name.clone()),
                Cell::opt(v.label.as_deref()),
                Cell::plain(when(&v.tagged_at)),
                Cell::opt(
                    v.execution_count_at_tagging
                        .map(|n| format!("In[{n}]"))
                        .as_deref(),
                ),
            ]);
        }
        table
    });
    let stages = (!answer.stages.is_empty()).then(|| {
        let mut table = Table::new(&["stage", "execution", "cell", "marked (UTC)"]);
        for s in &answer.stages {
            table.push(vec![
                Cell::plain(s.label.clone()),
                Cell::opt(s.execution_count.map(|n| format!("In[{n}]")).as_deref()),
                Cell::opt(s.cell_id.as_deref()),
                Cell::plain(when(&s.at)),
            ]);
        }
        table
    });
    let mut doc = Doc::new();
    doc.title(format!("Tags of trial {}", trial_named(&answer.trial)));
    doc.push(Block::Gap);
    list(&mut doc, "Tagged variables", variables, NO_VARIABLES);
    doc.push(Block::Gap);
    list(&mut doc, "Stages", stages, NO_STAGES);
    doc
}

/// A list under its name, or the sentence saying it is empty.
fn list(doc: &mut Doc, name: &str, table: Option<Table>, empty: &str) {
    match table {
        Some(table) => {
            doc.note(0, name);
            doc.table(0, table);
        }
        None => doc.note(0, empty),
    }
}

/// The answer to `%tag_var VAR [LABEL]`. JSON: `{"variable", "label", "retagged", "message"}`.
pub fn render_tagged(variable: &str, label: Option<&str>, retagged: bool) -> Rendered {
    let with = label.map(|l| format!(" as {l:?}")).unwrap_or_default();
    let message = if retagged {
        format!("`{variable}` is now tagged{with}.")
    } else {
        format!("Tagged `{variable}`{with}.")
    };
    render_confirmation(
        &message,
        json!({ "variable": variable, "label": label, "retagged": retagged }),
    )
}

/// The answer to `%untag_var VAR`. JSON: `{"variable", "message"}`.
pub fn render_untagged(variable: &str) -> Rendered {
    render_confirmation(
        &format!("Removed the tag of `{variable}`."),
        json!({ "variable": variable }),
    )
}

/// The answer to `%tag_cell LABEL`. JSON: `{"stage", "message"}`.
pub fn render_stage_marked(label: &str) -> Rendered {
    render_confirmation(
        &format!("This cell's execution is marked as stage {label:?}."),
        json!({ "stage": label }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::assert_shows;
    use provstore::{StageTag, VariableTag};

    fn answer(tagged: bool) -> TagsAnswer {
        let trial = crate::tests::trial(3, Some("baseline"));
        TagsAnswer {
            trial,
            variables: if tagged {
                vec![VariableTag {
                    name: "model".into(),
                    label: Some("final".into()),
                    tagged_at: "2026-11-21T16:31:00.000Z".into(),
                    execution_count_at_tagging: Some(2),
                }]
            } else {
                vec![]
            },
            stages: if tagged {
                vec![StageTag {
                    label: "train".into(),
                    cell_id: Some("c-1".into()),
                    execution_count: Some(3),
                    at: "2026-11-21T16:32:00.000Z".into(),
                }]
            } else {
                vec![]
            },
        }
    }

    #[test]
    fn tags_show_variables_and_stages() {
        let r = render_tags(&answer(true));
        assert_shows(
            &r.text,
            &["Tags of trial 3 \"baseline\"", "model", "final", "In[3]"],
        );
        assert_shows(&r.html, &["train"]);
        assert_eq!(r.json["variables"][0]["label"], "final");
        assert_eq!(r.json["stages"][0]["execution_count"], 3);
        assert_eq!(tags_text(&answer(true)), r.text);
        let empty = render_tags(&answer(false));
        assert_shows(&empty.text, &["No tagged variables", "No stages"]);
    }

    #[test]
    fn confirmations_say_what_happened() {
        assert_eq!(
            render_tagged("x", Some("input"), false).text,
            "Tagged `x` as \"input\".\n"
        );
        assert!(render_tagged("x", None, true)
            .text
            .contains("is now tagged"));
        assert_eq!(render_untagged("x").json["variable"], "x");
        assert_eq!(render_stage_marked("eval").json["stage"], "eval");
    }
}
