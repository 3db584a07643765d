//! The crate's `README.md`: what a person opening the folder reads first — which trial it is,
//! what each file holds, how to run it again, and every file the trial used with its recorded
//! hash and what became of it (gone, changed, included).

use provstore::TrialSummary;

use super::files::{Now, TrialFile};

/// The README of the crate of `trial` (with `executions` executions) and its `files`, each
/// with whether it was included.
pub(super) fn readme(
    trial: &TrialSummary,
    executions: usize,
    files: &[(&TrialFile, bool)],
) -> String {
    let words = crate::notebook::trial_words(trial);
    let mut out = format!(
        "# prov {words}\n\n\
         A Workflow Run RO-Crate (Provenance Run Crate 0.5) of {words} (`{}`), recorded by prov: \
         {executions} execution{} of the notebook in the order they ran, started {}.\n\n\
         | file | what it holds |\n|---|---|\n\
         | `ro-crate-metadata.json` | the crate's metadata: the notebook as the workflow, each execution as a step and a run of its code, the files it read and wrote |\n\
         | `notebook.ipynb` | every execution as a code cell, in order, with its outputs (kernel Python (prov)) |\n\
         | `code/exec-NNNN.py` | the code of execution NNNN, as it ran |\n\
         | `prov.json` | the trial's provenance in W3C PROV-JSON |\n\
         | `requirements.txt` | the packages the code imported, at the versions it ran with |\n",
        trial.uuid,
        if executions == 1 { "" } else { "s" },
        trial.started_at,
    );
    if files.iter().any(|(_, included)| *included) {
        out.push_str("| `data/…` | the files the trial read from outside, as it read them |\n");
    }
    out.push_str(
        "\nTo run it again: `pip install -r requirements.txt`, then open `notebook.ipynb` \
         (or run it with `provctl replay` where the store is).\n",
    );
    if files.is_empty() {
        out.push_str("\nThe trial opened no file.\n");
        return out;
    }
    out.push_str("\n## Files the trial used\n\n| path | read / written by execution | sha256 | now |\n|---|---|---|---|\n");
    for (f, included) in files {
        let orders = |o: &[i64]| {
            o.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let now = match (&f.now, included) {
            (_, true) => "included".to_string(),
            (Now::Gone, _) => "**gone**".to_string(),
            (Now::Changed, _) => "**changed** since".to_string(),
            (Now::Unreadable(why), _) => format!("unreadable ({why})"),
            (Now::There | Now::Same, _) => "not included".to_string(),
        };
        out.push_str(&format!(
            "| `{}` | {} / {} | `{}`{} | {now} |\n",
            f.path.replace('|', "\\|"),
            orders(&f.read_by),
            orders(&f.written_by),
            f.sha256.as_deref().unwrap_or("unknown"),
            if f.sampled { " (sampled)" } else { "" },
        ));
    }
    out
}
