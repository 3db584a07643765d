//! The files renderer on hand-made accesses: grouping and order, the marks for content that
//! changed where the trial did not change it, the JSON contract, an empty trial and a store
//! from before files were recorded.

use super::*;
use crate::tests::{assert_shows, trial};

const H1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const H2: &str = "2222222222222222222222222222222222222222222222222222222222222222";

/// `In[n]` (execution id `100 + n`) accessing `path` (resolved under `/data/`).
fn access(n: i64, path: &str, access: &str, sha: Option<&str>) -> FileAccessRow {
    FileAccessRow {
        path: path.into(),
        resolved: format!("/data/{}", path.trim_start_matches("./")),
        access: access.into(),
        execution_count: Some(n),
        execution_id: 100 + n,
        line: Some(1),
        statement: Some(0),
        sha256: sha.map(String::from),
        size: sha.map(|_| 1234),
        mtime: Some(1765000000.5),
        sampled: false,
    }
}

fn answer(accesses: Vec<FileAccessRow>) -> TrialFiles {
    TrialFiles {
        trial: trial(3, Some("baseline")),
        recorded: true,
        schema_version: FILES_SCHEMA,
        accesses,
    }
}

/// The content column of each access, file by file.
fn contents(accesses: &[FileAccessRow]) -> Vec<(String, Vec<String>)> {
    groups(accesses)
        .iter()
        .map(|g| {
            let seen = g.accesses.iter().map(|(_, c)| c.text()).collect();
            (g.resolved.to_string(), seen)
        })
        .collect()
}

#[test]
fn files_are_grouped_in_the_order_first_opened_with_their_accesses_in_order() {
    let accesses = vec![
        access(1, "out.csv", "write", Some(H1)),
        access(2, "in.csv", "read", Some(H2)),
        access(3, "./out.csv", "read", Some(H1)),
        access(4, "out.csv", "write", Some(H2)),
        access(4, "in.csv", "read", Some(H2)),
    ];
    assert_eq!(
        contents(&accesses),
        [
            (
                "/data/out.csv".to_string(),
                vec![
                    "written".to_string(),
                    "as In[1] wrote it".into(),
                    "written".into()
                ]
            ),
            (
                "/data/in.csv".to_string(),
                vec![
                    "input: not written by this trial before".to_string(),
                    "same as In[2] read".into()
                ]
            ),
        ]
    );
    let r = render_files(&answer(accesses));
    assert!(
        r.text.starts_with(
            "Files of trial 3 \"baseline\": 2 files, 5 accesses (3 read, 2 written)\n"
        ),
        "{}",
        r.text
    );
    // Both spellings of out.csv lead its section; in.csv was given as itself.
    let out = r.text.find("out.csv, ./out.csv → /data/out.csv").unwrap();
    let input = r.text.find("in.csv → /data/in.csv").unwrap();
    assert!(out < input, "{}", r.text);
    assert_shows(&r.text, &["In[3]", "111111111111 ", "1.2 KiB", "line"]);
    assert!(
        !r.text.contains(H1),
        "the text shows short hashes: {}",
        r.text
    );
    assert!(
        !r.text.contains('!'),
        "nothing changed unexpectedly: {}",
        r.text
    );
    // The HTML holds the full hash as the short one's tooltip.
    assert_shows(&r.html, &[&format!("title=\"{H1}\""), "<table"]);
}

#[test]
fn content_that_changed_where_the_trial_did_not_change_it_is_marked() {
    let accesses = vec![
        access(1, "out.csv", "write", Some(H1)),
        access(2, "in.csv", "read", Some(H1)),
        access(3, "out.csv", "read", Some(H2)),
        access(5, "in.csv", "read", Some(H2)),
        access(1, "model.pkl", "write", Some(H1)),
        access(2, "model.pkl", "read", Some(H1)),
        access(6, "model.pkl", "read", Some(H2)),
    ];
    assert_eq!(
        contents(&accesses),
        [
            (
                "/data/out.csv".to_string(),
                vec![
                    "written".to_string(),
                    "! changed outside since In[1] wrote it".into()
                ]
            ),
            (
                "/data/in.csv".to_string(),
                vec![
                    "input: not written by this trial before".to_string(),
                    "! changed since In[2] read it".into()
                ]
            ),
            // Read as written, then changed: what the trial wrote is what it expects.
            (
                "/data/model.pkl".to_string(),
                vec![
                    "written".to_string(),
                    "as In[1] wrote it".into(),
                    "! changed outside since In[1] wrote it".into()
                ]
            ),
        ]
    );
    let r = render_files(&answer(accesses));
    assert_shows(
        &r.text,
        &[
            "; 3 files changed where the trial did not change them\n",
            "  ! In[5] read content that changed since In[2] read it\n",
            "  ! In[6] read content that changed outside since In[1] wrote it\n",
        ],
    );
    // In HTML the mark is a tinted heading and a badge in the row.
    assert_eq!(
        r.html.matches("rgba(210,153,34,0.28)").count(),
        3,
        "{}",
        r.html
    );
    assert_shows(&r.html, &["! changed outside since In[1] wrote it</span>"]);
}

#[test]
fn accesses_of_one_cell_deletions_rewrites_and_missing_hashes_are_told_apart() {
    let mut gone = access(2, "tmp.bin", "write", None);
    gone.size = None;
    let mut unreadable = access(3, "tmp.bin", "read", None);
    unreadable.size = Some(5);
    let accesses = vec![
        // r+ in one cell: the write's hash is the content at the cell's end.
        access(1, "log.txt", "read", Some(H1)),
        access(1, "log.txt", "write", Some(H2)),
        access(2, "log.txt", "read", Some(H1)),
        access(1, "tmp.bin", "write", Some(H1)),
        gone,
        unreadable,
        access(4, "tmp.bin", "write", Some(H1)),
        access(5, "tmp.bin", "write", Some(H1)),
        // Changed outside, then back to what the trial wrote: a change since the last read.
        access(1, "back.txt", "write", Some(H1)),
        access(2, "back.txt", "read", Some(H2)),
        access(3, "back.txt", "read", Some(H1)),
    ];
    assert_eq!(
        contents(&accesses),
        [
            (
                "/data/log.txt".to_string(),
                vec![
                    "input: not written by this trial before".to_string(),
                    "written".into(),
                    "! changed outside since In[1] wrote it".into()
                ]
            ),
            (
                "/data/tmp.bin".to_string(),
                vec![
                    "written".to_string(),
                    "gone when the cell ended".into(),
                    "no hash: cannot compare".into(),
                    "written".into(),
                    "unchanged: as In[4] wrote it".into()
                ]
            ),
            (
                "/data/back.txt".to_string(),
                vec![
                    "written".to_string(),
                    "! changed outside since In[1] wrote it".into(),
                    "! changed since In[2] read it".into()
                ]
            ),
        ]
    );
    // A read after a write of the same cell (its order unknown) is not taken for a change.
    let same_cell = vec![
        access(1, "a.csv", "write", Some(H1)),
        access(1, "a.csv", "read", Some(H2)),
    ];
    assert_eq!(contents(&same_cell)[0].1[1], "differs within In[1]");
    let r = render_files(&answer(same_cell));
    assert!(!r.text.contains('!'), "{}", r.text);
}

#[test]
fn the_json_is_the_array_of_accesses() {
    let mut big = access(2, "big.parquet", "read", Some(H2));
    big.sampled = true;
    big.size = Some(300 << 20);
    let r = render_files(&answer(vec![access(1, "out.csv", "write", Some(H1)), big]));
    let rows = r.json.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["path"], "out.csv");
    assert_eq!(rows[0]["resolved"], "/data/out.csv");
    assert_eq!(rows[0]["access"], "write");
    assert_eq!(rows[0]["execution_count"], 1);
    assert_eq!(rows[0]["sha256"], H1);
    assert_eq!(rows[0]["size"], 1234);
    assert_eq!(rows[0]["sampled"], false);
    assert_eq!(rows[1]["sampled"], true);
    assert_shows(&r.text, &["300.0 MiB", "sampled"]);
}

#[test]
fn an_empty_trial_says_what_is_recorded_and_where_to_read_more() {
    let r = render_files(&answer(vec![]));
    assert!(
        r.text
            .starts_with("Files of trial 3 \"baseline\": none recorded (2 executions)\n"),
        "{}",
        r.text
    );
    assert_shows(&r.text, &["open()", "pyarrow", "README.md", "Data files"]);
    assert_eq!(r.json, serde_json::json!([]));
    assert_eq!(files_not_recorded(&answer(vec![])), None);
}

#[test]
fn a_store_from_before_files_were_recorded_says_so() {
    let mut old = answer(vec![]);
    old.recorded = false;
    old.schema_version = 6;
    let why = files_not_recorded(&old).unwrap();
    assert_shows(&why, &["schema 6", "schema 7", "read-only", "fix:"]);
    let r = render_files(&old);
    assert_shows(&r.text, &["not recorded", "schema 6"]);
    assert!(!r.text.contains("none recorded"), "{}", r.text);
}

#[test]
fn paths_are_escaped_in_html() {
    let mut odd = access(1, "<b>&.csv", "write", Some(H1));
    odd.resolved = "/data/<b>&.csv".into();
    let r = render_files(&answer(vec![odd]));
    assert_shows(&r.html, &["&lt;b&gt;&amp;.csv"]);
    assert!(!r.html.contains("<b>"), "{}", r.html);
}

#[test]
fn control_characters_in_paths_are_escaped() {
    let mut odd = access(1, "a\nb\u{1b}[31m.csv", "write", Some(H1));
    odd.resolved = "/data/a\nb\u{1b}[31m.csv".into();
    let r = render_files(&answer(vec![odd]));
    assert_shows(
        &r.text,
        &["a\\nb\\u{1b}[31m.csv → /data/a\\nb\\u{1b}[31m.csv\n"],
    );
    assert!(!r.text.contains('\u{1b}'), "{}", r.text);
}

#[test]
fn thousands_of_files_and_accesses_are_cut_in_text_not_in_json() {
    let mut accesses: Vec<FileAccessRow> = (0..150)
        .map(|i| access(1, &format!("part-{i:03}.csv"), "read", Some(H1)))
        .collect();
    accesses.extend((2..72).map(|n| access(n, "part-000.csv", "read", Some(H1))));
    // A file beyond the shown ones whose content changed: counted in the note.
    accesses.push(access(80, "part-149.csv", "read", Some(H2)));
    let r = render_files(&answer(accesses));
    assert_eq!(r.json.as_array().unwrap().len(), 221);
    assert!(
        r.text.contains("part-099.csv") && !r.text.contains("part-100.csv"),
        "cut at 100"
    );
    assert_shows(
        &r.text,
        &[
            ": 150 files, 221 accesses (221 read, 0 written)",
            "(21 more not shown: `provctl files --json` lists every access)",
            "50 more files not shown (1 of them marked !)",
            "1 file changed where the trial did not change it",
        ],
    );
    assert_eq!(r.text.matches("same as In[").count(), 49, "{}", r.text);
}
