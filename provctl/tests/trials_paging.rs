//! `provctl trials` in pages: the latest `--limit` trials (50 unless told), `--before ID` for
//! the page before, `--all` for every trial; each trial's tags and key values whatever page it
//! is on.

mod common;

use std::path::Path;

use common::{binding_note, json, new_trial, noted, ok_stdout, provctl, stderr, store_in};
use serde_json::{json, Value};

/// A store of `n` trials, each with one execution; trial `t` binds `acc = t` and every third
/// trial tags `acc`, so key values show on every page.
fn store_of(dir: &Path, n: i64) {
    let (_db, mut store) = store_in(dir);
    for t in 1..=n {
        let trial = store.begin_trial(&new_trial(dir)).unwrap().id;
        let note = binding_note(&[("acc", json!({"type": "int", "value": t}))], 1000 * t);
        store
            .record_execution(trial, &noted(1, &format!("acc = {t}"), &note))
            .unwrap();
        if t % 3 == 0 {
            store.tag_variable(trial, "acc", None).unwrap();
        }
    }
}

fn ids(page: &Value) -> Vec<i64> {
    page.as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

#[test]
fn trials_come_in_pages_of_the_latest_first_page() {
    let tmp = tempfile::tempdir().unwrap();
    store_of(tmp.path(), 57);
    let dir = tmp.path();
    // The default page: the latest 50, oldest first.
    let page = json(&provctl(dir, &["trials", "--json"]));
    assert_eq!(ids(&page), (8..=57).collect::<Vec<_>>());
    // Key values on the page, read for its trials only.
    let tagged = page
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == 9)
        .unwrap();
    assert_eq!(tagged["key_values"][0]["value"], json!(9));
    assert_eq!(page[0]["key_values"], json!([]));
    // The page before, and the one before it (shorter: only 4 trials are older).
    let before = json(&provctl(
        dir,
        &["trials", "--json", "-n", "3", "--before", "8"],
    ));
    assert_eq!(ids(&before), vec![5, 6, 7]);
    assert_eq!(before[1]["key_values"][0]["value"], json!(6));
    let first = json(&provctl(
        dir,
        &["trials", "--json", "--limit", "10", "--before", "5"],
    ));
    assert_eq!(ids(&first), vec![1, 2, 3, 4]);
    let none = json(&provctl(dir, &["trials", "--json", "--before", "1"]));
    assert_eq!(none, json!([]));
    // Everything.
    let all = json(&provctl(dir, &["trials", "--json", "--all"]));
    assert_eq!(ids(&all), (1..=57).collect::<Vec<_>>());
    assert_eq!(all[2]["key_values"][0]["value"], json!(3));
}

#[test]
fn the_text_page_says_how_to_list_the_older_trials() {
    let tmp = tempfile::tempdir().unwrap();
    store_of(tmp.path(), 12);
    let dir = tmp.path();
    let text = ok_stdout(&provctl(dir, &["trials", "-n", "5"]));
    assert!(text.contains("acc=12"), "{text}");
    assert!(
        text.contains(
            "(7 older trials not listed: `provctl trials --before 8` lists the page before"
        ),
        "{text}"
    );
    let last = ok_stdout(&provctl(dir, &["trials", "-n", "5", "--before", "2"]));
    assert!(!last.contains("older"), "{last}");
    let whole = ok_stdout(&provctl(dir, &["trials"]));
    assert!(!whole.contains("older"), "{whole}");
    assert!(whole.contains("acc=3"), "{whole}");
}

#[test]
fn bad_paging_flags_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    store_of(tmp.path(), 2);
    for args in [
        &["trials", "--limit", "0"][..],
        &["trials", "--limit", "x"],
        &["trials", "--before", "x"],
        &["trials", "--all", "--before", "2"],
    ] {
        let out = provctl(tmp.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    }
}

#[test]
fn every_trial_says_its_uuid_user_and_host() {
    let tmp = tempfile::tempdir().unwrap();
    store_of(tmp.path(), 2);
    let page = json(&provctl(tmp.path(), &["trials", "--json", "--all"]));
    for trial in page.as_array().unwrap() {
        assert_eq!(trial["uuid"].as_str().map(str::len), Some(36), "{trial}");
        assert_eq!(trial["user"], json!("ada"), "{trial}");
        assert_eq!(trial["host"], json!(provstore::hostname()), "{trial}");
    }
    let text = ok_stdout(&provctl(tmp.path(), &["trials", "--all"]));
    assert!(
        text.contains(&format!("ada@{}", provstore::hostname())),
        "{text}"
    );
}
