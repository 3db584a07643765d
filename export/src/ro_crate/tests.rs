//! Crates of a hand-recorded trial that read files: what each holds as a folder and as a
//! zip, the graph's entities, `--include-data` copying only inputs that still hold what was
//! read, a gone input listed by its hash and named in the notes, and a folder that is not
//! empty refused.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde_json::{json, Value};

use crate::notebook::tests::{output, ran, store_with};
use crate::types::{ExportError, Options};

/// The probe's note of a cell that opened `files` (`(path, access, sha256, size)`), the paths
/// resolved in `dir`.
fn opened(dir: &Path, files: &[(&str, &str, &str, i64)]) -> Value {
    let entries: Vec<Value> = files
        .iter()
        .map(|(path, access, sha, size)| {
            json!({"path": path, "resolved": dir.join(path).to_string_lossy(), "access": access,
                   "line": 1, "size": size, "mtime": 1.0, "sha256": sha, "sampled": false})
        })
        .collect();
    json!({"bound": [], "deleted": [], "files": entries})
}

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A trial in a folder holding `kept.csv` and `changed.csv` (`gone.csv` was read, then
/// deleted); it reads the three, writes `out.csv` and reads it back.
fn trial_with_files() -> (tempfile::TempDir, tempfile::TempDir, provstore::Store, i64) {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    std::fs::write(d.join("kept.csv"), "a,b\n1,2\n").unwrap();
    std::fs::write(d.join("changed.csv"), "new content").unwrap();
    std::fs::write(d.join("out.csv"), "aa").unwrap();
    let records = [
        ran(1, 1, "import pandas as pd\nimport sklearn", vec![], None),
        ran(
            2,
            2,
            "df = read(['kept.csv', 'gone.csv', 'changed.csv'])",
            vec![output("stream", &[("text/plain", "read 3\n")])],
            Some(opened(
                d,
                &[
                    ("kept.csv", "read", &sha(b"a,b\n1,2\n"), 8),
                    ("gone.csv", "read", &sha(b"old"), 3),
                    ("changed.csv", "read", &sha(b"old content"), 11),
                ],
            )),
        ),
        ran(
            3,
            3,
            "df.to_csv('out.csv'); back = read('out.csv')",
            vec![],
            Some(opened(
                d,
                &[("out.csv", "write", "aa", 2), ("out.csv", "read", "aa", 2)],
            )),
        ),
    ];
    let (store_dir, mut store, trial) = store_with(&records);
    store
        .set_trial_environment(trial, Some("3.12.3"), Some("7.0.1"))
        .unwrap();
    (store_dir, data, store, trial)
}

fn graph(doc: &Value) -> HashMap<String, Value> {
    doc["@graph"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["@id"].as_str().unwrap().to_string(), e.clone()))
        .collect()
}

/// The `@id`s a property refers to: one, or a list.
fn ids(v: &Value) -> Vec<&str> {
    match v.as_array() {
        Some(list) => list.iter().map(|r| r["@id"].as_str().unwrap()).collect(),
        None => vec![v["@id"].as_str().unwrap()],
    }
}

fn read_folder(root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_string_lossy();
                found.push(rel.replace('\\', "/"));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn a_folder_crate_describes_the_run_and_lists_every_file() {
    let (_s, data, store, trial) = trial_with_files();
    std::fs::remove_file(data.path().join("gone.csv")).ok();
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("crate");
    let written = super::write(&store, trial, &path, &Options::default()).unwrap();
    let files = read_folder(&path);
    assert_eq!(
        files,
        [
            "README.md",
            "code/exec-0001.py",
            "code/exec-0002.py",
            "code/exec-0003.py",
            "notebook.ipynb",
            "prov.json",
            "requirements.txt",
            "ro-crate-metadata.json",
        ]
    );
    assert_eq!(written.files, files.len());
    assert_eq!(written.notes.len(), 1, "{:?}", written.notes);
    assert!(
        written.notes[0].contains("gone.csv is gone"),
        "{:?}",
        written.notes
    );

    let doc: Value =
        serde_json::from_slice(&std::fs::read(path.join("ro-crate-metadata.json")).unwrap())
            .unwrap();
    let g = graph(&doc);
    let root = &g["./"];
    assert_eq!(root["mainEntity"]["@id"], "notebook.ipynb");
    assert!(ids(&root["conformsTo"]).contains(&"https://w3id.org/ro/wfrun/provenance/0.5"));
    assert!(root["description"]
        .as_str()
        .unwrap()
        .contains("1 file the trial used is gone"));
    let workflow = &g["notebook.ipynb"];
    assert_eq!(
        workflow["@type"],
        json!([
            "File",
            "SoftwareSourceCode",
            "ComputationalWorkflow",
            "HowTo"
        ])
    );
    assert_eq!(ids(&workflow["step"]), ["#step-1", "#step-2", "#step-3"]);
    assert_eq!(g["#step-2"]["workExample"]["@id"], "code/exec-0002.py");

    // Each execution ran its code and used the files it opened.
    let second = &g["#execution-2"];
    assert_eq!(second["@type"], "CreateAction");
    assert_eq!(second["instrument"]["@id"], "code/exec-0002.py");
    assert_eq!(ids(&second["object"]), ["#file-1", "#file-2", "#file-3"]);
    assert_eq!(ids(&g["#execution-3"]["result"]), ["#file-4"]);
    assert_eq!(g["#control-2"]["object"]["@id"], "#execution-2");
    // The run's inputs are what came from outside: not out.csv, which it wrote and read back.
    assert_eq!(
        ids(&g["#trial-run"]["object"]),
        ["#file-1", "#file-2", "#file-3"]
    );
    assert_eq!(g["#prov-kernel-run"]["result"]["@id"], "#trial-run");

    let gone = &g["#file-2"];
    assert_eq!(gone["@type"], "CreativeWork");
    assert_eq!(gone["sha256"], sha(b"old"));
    assert!(gone["description"]
        .as_str()
        .unwrap()
        .contains("Gone: nothing was at"));

    let readme = std::fs::read_to_string(path.join("README.md")).unwrap();
    assert!(
        readme.contains(&format!(
            "| `gone.csv` | 2 /  | `{}` | **gone** |",
            sha(b"old")
        )),
        "{readme}"
    );
    let requirements = std::fs::read_to_string(path.join("requirements.txt")).unwrap();
    assert!(
        requirements.contains("# Python 3.12.3, ipykernel 7.0.1\n"),
        "{requirements}"
    );
    let code = std::fs::read_to_string(path.join("code/exec-0003.py")).unwrap();
    assert_eq!(code, "df.to_csv('out.csv'); back = read('out.csv')");
    let nb: Value =
        serde_json::from_slice(&std::fs::read(path.join("notebook.ipynb")).unwrap()).unwrap();
    assert_eq!(nb["cells"].as_array().unwrap().len(), 3);
}

#[test]
fn include_data_copies_the_inputs_that_still_hold_what_was_read() {
    let (_s, data, store, trial) = trial_with_files();
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("with data");
    let options = Options { include_data: true };
    let written = super::write(&store, trial, &path, &options).unwrap();
    assert!(read_folder(&path).contains(&"data/kept.csv".to_string()));
    assert_eq!(
        std::fs::read(path.join("data/kept.csv")).unwrap(),
        std::fs::read(data.path().join("kept.csv")).unwrap()
    );
    assert!(!path.join("data/changed.csv").exists());
    let notes = written.notes.join("\n");
    assert!(
        notes.contains("changed.csv changed since the trial read it"),
        "{notes}"
    );
    assert!(notes.contains("gone.csv is gone"), "{notes}");

    let doc: Value =
        serde_json::from_slice(&std::fs::read(path.join("ro-crate-metadata.json")).unwrap())
            .unwrap();
    let g = graph(&doc);
    assert_eq!(g["data/kept.csv"]["@type"], "File");
    assert!(ids(&g["./"]["hasPart"]).contains(&"data/kept.csv"));
    assert_eq!(g["#file-3"]["@type"], "CreativeWork");
    assert!(g["#file-3"]["description"]
        .as_str()
        .unwrap()
        .contains("Changed:"));
}

#[test]
fn a_zip_holds_the_same_files() {
    let (_s, _data, store, trial) = trial_with_files();
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("trial.zip");
    let written = super::write(&store, trial, &path, &Options { include_data: true }).unwrap();
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(names.len(), written.files);
    assert!(names.contains(&"ro-crate-metadata.json".to_string()));
    assert!(names.contains(&"data/kept.csv".to_string()));
    let mut text = String::new();
    zip.by_name("data/kept.csv")
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    assert_eq!(text, "a,b\n1,2\n");
    // Nothing is left beside it.
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
}

#[test]
fn a_folder_that_is_not_empty_is_refused_and_kept() {
    let (_s, _data, store, trial) = trial_with_files();
    let out = tempfile::tempdir().unwrap();
    std::fs::write(out.path().join("mine.txt"), "keep me").unwrap();
    let err = super::write(&store, trial, out.path(), &Options::default()).unwrap_err();
    assert!(
        matches!(&err, ExportError::Invalid(m) if m.contains("is not empty")),
        "{err}"
    );
    assert_eq!(read_folder(out.path()), ["mine.txt"]);
    // An empty one is filled.
    let empty = out.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    super::write(&store, trial, &empty, &Options::default()).unwrap();
    assert!(empty.join("ro-crate-metadata.json").is_file());
}

#[test]
fn requirements_name_what_pip_installs() {
    let (_s, _data, store, trial) = trial_with_files();
    let summary = store.trial(trial).unwrap();
    let packages = vec![
        ("sklearn".to_string(), "1.5.2".to_string()),
        ("numpy".to_string(), "2.1.0".to_string()),
        ("PIL".to_string(), "11.0".to_string()),
        ("matplotlib".to_string(), "3.9.2".to_string()),
        ("mpl_toolkits".to_string(), "3.9.2".to_string()),
    ];
    let text = super::requirements::requirements_txt(&summary, &packages);
    let pins: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(
        super::requirements::DISTRIBUTIONS
            .windows(2)
            .all(|w| w[0].0 < w[1].0),
        "sorted, for the binary search"
    );
    // mpl_toolkits ships inside matplotlib: one line for both.
    assert_eq!(
        pins,
        [
            "matplotlib==3.9.2",
            "numpy==2.1.0",
            "pillow==11.0",
            "scikit-learn==1.5.2"
        ]
    );
}

#[test]
fn included_paths_stay_inside_the_crate() {
    let mut taken = HashMap::new();
    let mut file = |path: &str| {
        let f = super::files::TrialFile {
            path: path.into(),
            resolved: format!("/somewhere/{}", path.rsplit('/').next().unwrap()),
            sha256: None,
            sampled: false,
            size: None,
            mtime: None,
            input: true,
            read_by: vec![1],
            written_by: vec![],
            now: super::files::Now::Same,
        };
        super::files::crate_path(&f, &mut taken)
    };
    assert_eq!(file("../up/x.csv"), "data/up/x.csv");
    assert_eq!(file("/abs/x.csv"), "data/abs/x.csv");
    assert_eq!(file("up/x.csv"), "data/v2/up/x.csv");
    assert_eq!(file(".."), "data/file");
}
