//! `provctl files` end to end: the built binary against stores whose executions carry the
//! probe's `files` notes, as the kernel records them: the JSON contract, the text per file
//! with its marks, the latest trial by default, no such trial, an empty trial, and a store
//! from before files were recorded that this process cannot migrate.

mod common;

use std::path::{Path, PathBuf};

use common::{json, new_trial, noted, ok_stdout, provctl, refused, stderr, store_in};
use serde_json::{json, Value};

const H1: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const H2: &str = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

/// One access of a note: path, access, line, sha256, size, sampled.
type Entry<'a> = (&'a str, &'a str, i64, &'a str, i64, bool);

/// A probe note whose `files` are `entries`.
fn note(entries: &[Entry<'_>]) -> String {
    let files: Vec<Value> = entries
        .iter()
        .map(|(path, access, line, sha, size, sampled)| {
            json!({"path": path, "resolved": format!("/proj/{}", path.trim_start_matches("./")),
                   "access": access, "line": line, "size": size, "mtime": 1765000000.25,
                   "sha256": sha, "sampled": sampled})
        })
        .collect();
    json!({"bound": [], "deleted": [], "files": files}).to_string()
}

/// Trial 1 "writes": In[1] writes houses.csv, In[2] reads it back as written, In[3] reads it
/// again after something outside changed it and reads a big sampled file. Trial 2: nothing.
fn files_store(dir: &Path) -> PathBuf {
    let (db, mut store) = store_in(dir);
    let a = store.begin_trial(&new_trial(dir)).unwrap();
    store.set_trial_name(a.id, "writes").unwrap();
    let cells = [
        (
            "df.to_csv('houses.csv')",
            note(&[("houses.csv", "write", 1, H1, 120, false)]),
        ),
        (
            "back = pd.read_csv('./houses.csv')",
            note(&[("./houses.csv", "read", 1, H1, 120, false)]),
        ),
        (
            "again = pd.read_csv('houses.csv')\nbig = np.load('big.npy')",
            note(&[
                ("houses.csv", "read", 1, H2, 121, false),
                ("big.npy", "read", 2, H2, 400 << 20, true),
            ]),
        ),
    ];
    for (n, (code, note)) in cells.iter().enumerate() {
        store
            .record_execution(a.id, &noted(n as i64 + 1, code, note))
            .unwrap();
    }
    let b = store.begin_trial(&new_trial(dir)).unwrap();
    store
        .record_execution(b.id, &noted(1, "x = 1", r#"{"bound": [], "deleted": []}"#))
        .unwrap();
    db
}

#[test]
fn files_json_is_the_contract() {
    let tmp = tempfile::tempdir().unwrap();
    files_store(tmp.path());
    let rows = json(&provctl(
        tmp.path(),
        &["files", "--trial", "writes", "--json"],
    ));
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 4);
    for row in rows {
        assert!(row["path"].is_string(), "{row}");
        assert!(
            row["resolved"].as_str().unwrap().starts_with("/proj/"),
            "{row}"
        );
        assert!(
            matches!(row["access"].as_str(), Some("read" | "write")),
            "{row}"
        );
        assert!(row["execution_count"].is_i64(), "{row}");
        assert!(row["sha256"].is_string(), "{row}");
        assert!(row["size"].is_i64(), "{row}");
        assert!(row["sampled"].is_boolean(), "{row}");
    }
    let got: Vec<(i64, &str, &str, &str, bool)> = rows
        .iter()
        .map(|r| {
            (
                r["execution_count"].as_i64().unwrap(),
                r["path"].as_str().unwrap(),
                r["access"].as_str().unwrap(),
                r["sha256"].as_str().unwrap(),
                r["sampled"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (1, "houses.csv", "write", H1, false),
            (2, "./houses.csv", "read", H1, false),
            (3, "houses.csv", "read", H2, false),
            (3, "big.npy", "read", H2, true),
        ]
    );
    assert_eq!(rows[3]["size"], 400 << 20);
    assert_eq!(rows[1]["resolved"], "/proj/houses.csv");
    // The same trial by id, and `--json` before the subcommand.
    let by_id = json(&provctl(tmp.path(), &["--json", "files", "--trial", "1"]));
    assert_eq!(&by_id, &Value::Array(rows.clone()));
}

#[test]
fn files_text_groups_by_file_and_marks_content_changed_outside() {
    let tmp = tempfile::tempdir().unwrap();
    files_store(tmp.path());
    let text = ok_stdout(&provctl(tmp.path(), &["files", "--trial", "writes"]));
    assert!(
        text.starts_with(
            "Files of trial 1 \"writes\": 2 files, 4 accesses (3 read, 1 written); 1 file \
             changed where the trial did not change it\n"
        ),
        "{text}"
    );
    let houses = text.find("./houses.csv → /proj/houses.csv").expect(&text);
    let big = text.find("\nbig.npy → /proj/big.npy").expect(&text);
    assert!(houses < big, "{text}");
    for part in [
        "as In[1] wrote it",
        "! changed outside since In[1] wrote it",
        "! In[3] read content that changed outside since In[1] wrote it",
        "9f86d081884c ",
        "400.0 MiB",
        "sampled",
        "input: not written by this trial before",
    ] {
        assert!(text.contains(part), "{part:?} in {text}");
    }
    assert!(!text.contains(H1), "hashes are short in text: {text}");
}

#[test]
fn the_latest_trial_is_the_default_and_an_empty_one_says_what_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    files_store(tmp.path());
    let text = ok_stdout(&provctl(tmp.path(), &["files"]));
    assert!(
        text.starts_with("Files of trial 2: none recorded (1 execution)\n"),
        "{text}"
    );
    assert!(text.contains("Data files"), "{text}");
    assert_eq!(json(&provctl(tmp.path(), &["files", "--json"])), json!([]));
}

#[test]
fn an_unknown_trial_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    files_store(tmp.path());
    let out = provctl(tmp.path(), &["files", "--trial", "nope", "--json"]);
    let err = refused(&out, "files --trial nope");
    assert!(err.contains("nope"), "{err}");
    assert!(out.stdout.is_empty());
}

/// Undoes `chattr +i` even when the test fails, so the temporary folder can go.
struct Immutable(PathBuf);

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
    }
}

/// Makes `db` (and its folder) unwritable to this process: modes for a user, the immutable
/// attribute for root (who writes through modes). None when neither can be done here.
fn read_only(db: &Path) -> Option<Vec<Immutable>> {
    use std::os::unix::fs::PermissionsExt;
    let dir = db.parent().unwrap();
    for p in [db, dir] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    if std::fs::OpenOptions::new().append(true).open(db).is_err() {
        return Some(Vec::new());
    }
    let mut guards = Vec::new();
    for p in [db, dir] {
        let ok = std::process::Command::new("chattr")
            .arg("+i")
            .arg(p)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return None;
        }
        guards.push(Immutable(p.to_path_buf()));
    }
    Some(guards)
}

#[test]
fn a_store_from_before_files_were_recorded_is_an_error_not_an_empty_list() {
    let tmp = tempfile::tempdir().unwrap();
    let db = files_store(tmp.path());
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "PRAGMA journal_mode = DELETE; DROP TABLE file_accesses; PRAGMA user_version = 6;",
    )
    .unwrap();
    drop(conn);
    let Some(_guards) = read_only(&db) else {
        eprintln!("skipped: cannot make a file read-only here (root without chattr +i)");
        return;
    };
    let out = provctl(tmp.path(), &["files", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert!(err.contains("schema 6") && err.contains("fix:"), "{err}");
}
