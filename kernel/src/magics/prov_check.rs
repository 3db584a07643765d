//! `%prov_check [T]` / `%prov_check --rules`: runs the checks (data leakage, stale results,
//! numeric trouble, …) over this kernel's trial (or trial T) and shows each finding with its
//! severity, the executions involved and what to do: the answer of `provctl check [T]`, from
//! the same renderer; `--rules` lists the rules.

use super::args::{self, TrialArg};
use super::spec::{trial_query, MagicContext, MagicResult, MagicSpec};
use clap::Args;

/// The `%prov_check` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "prov_check",
    usage: "[T] [--rules]",
    help: "check this trial (or trial T) for data leakage, stale results, numeric trouble",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

/// `%prov_check [T] [--rules]`.
#[derive(Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    trial: TrialArg,
    /// List the rules, each with a line of Python that triggers it.
    #[arg(long, conflicts_with = "trial")]
    rules: bool,
}

fn run(context: &MagicContext, asked: CheckArgs) -> MagicResult {
    if asked.rules {
        return Ok(provrender::render_rules(provstore::RULES));
    }
    let unavailable = "the store is not available, so there is nothing to check";
    let report = trial_query(context, asked.trial.trial, unavailable, |store, trial| {
        store.check(trial)
    })?;
    Ok(provrender::render_checks(&report))
}

#[cfg(test)]
mod tests {
    use crate::magics::tests::{record, run_line as run};

    #[test]
    fn prov_check_shows_findings_or_says_there_are_none() {
        let (_dir, context) = crate::magics::tests::context();
        let clean = run(&context, "%prov_check").unwrap();
        assert!(clean.text.contains("no findings"), "{}", clean.text);
        assert!(clean.text.contains("data-leakage"), "{}", clean.text);
        assert_eq!(clean.json, serde_json::json!([]));
        context.writer.record(record(
            1,
            "X_train, X_test, y_train, y_test = train_test_split(X, y)",
        ));
        context
            .writer
            .record(record(2, "model.fit(X_test, y_test)"));
        let answer = run(&context, "%prov_check").unwrap();
        assert!(
            answer.text.contains("error  data-leakage  In[1] In[2]"),
            "{}",
            answer.text
        );
        assert_eq!(answer.json[0]["rule"], "data-leakage");
        assert_eq!(answer.json[0]["executions"], serde_json::json!([1, 2]));
        let keys: Vec<String> = answer.mime_bundle().keys().cloned().collect();
        assert_eq!(keys, ["text/html", "text/plain"]);
        assert_eq!(run(&context, "%prov_check 1").unwrap().json, answer.json);
        let rules = run(&context, "%prov_check --rules").unwrap();
        assert!(rules.text.contains("stale-result"), "{}", rules.text);
        assert!(rules.html.contains("<table"), "{}", rules.html);
        let unknown = run(&context, "%prov_check nope").unwrap_err();
        assert!(unknown.contains("nope"), "{unknown}");
    }
}
