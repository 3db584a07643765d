//! The files a trial read and wrote (`%files`, `provctl files`): one section per file, in the
//! order the trial first opened it, listing its accesses in order (who, what, size, hash) and
//! what each saw of its content compared with the access before: the same content, new content
//! written, or content that changed where the trial's recorded code did not change it (a read
//! that differs from what the trial last wrote, or from an earlier read): marked `!`.
//! JSON: the array of accesses (the `provctl files --json` contract).

use std::collections::HashMap;

use bytesize::ByteSize;
use provstore::{FileAccessRow, TrialFiles, FILES_SCHEMA};

use crate::doc::{Block, Doc};
use crate::table::{Cell, Table};
use crate::{plural, to_json, trial_named, Rendered};

/// How many hex digits of a hash the text shows (the HTML's tooltip has all of them).
const SHORT_HASH: usize = 12;

/// At most this many files, and accesses of one file, are shown as text and HTML (a loop over
/// a folder of thousands of files, a cell re-run hundreds of times); the JSON has them all.
const SHOWN_FILES: usize = 100;
const SHOWN_ACCESSES: usize = 50;

/// The files of a trial. A store that records no files at all says so in the text (callers
/// that can fail use [`files_not_recorded`] first).
pub fn render_files(answer: &TrialFiles) -> Rendered {
    files_doc(answer).rendered(to_json(&answer.accesses))
}

/// Why the store cannot answer, for a store read at a schema from before files were recorded:
/// an empty list would say the trial opened no file, which nobody knows.
pub fn files_not_recorded(answer: &TrialFiles) -> Option<String> {
    (!answer.recorded).then(|| {
        format!(
            "this store is at schema {} (written by a prov from before file accesses were \
             recorded, schema {FILES_SCHEMA}) and cannot be migrated from here (it is read-only \
             to this process), so it holds no file accesses for any trial\n  fix: open it once \
             with write access (a newer provctl migrates it); only trials recorded after that \
             have their files",
            answer.schema_version
        )
    })
}

/// What an access found, compared with the access to the same file just before it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    /// The trial's first access is a read: the file came from outside the trial.
    Input,
    /// A write whose content differs from what the access before saw (or the first access).
    Written,
    /// A write that left no file (deleted, or moved away) when its cell ended.
    Gone,
    /// A read of the same content as the access before (`In[n]` read or wrote it).
    Same { by: Option<i64>, wrote: bool },
    /// A write that left the content as the access before found it.
    Unchanged { by: Option<i64>, wrote: bool },
    /// A read that differs from what `In[n]` last wrote: changed by something the trial did
    /// not record (another program, a library writing in C, a shell command).
    ChangedSinceWrite { by: Option<i64> },
    /// A read that differs from an earlier read, with no recorded write between.
    ChangedSinceRead { by: Option<i64> },
    /// Differs from another access of the same cell, whose order within the cell is not known.
    WithinCell { by: Option<i64> },
    /// A hash is missing on one side: cannot tell.
    Unknown,
}

impl Content {
    /// Whether the change is one the trial's recorded code does not explain: worth a mark.
    fn marked(&self) -> bool {
        matches!(
            self,
            Content::ChangedSinceWrite { .. } | Content::ChangedSinceRead { .. }
        )
    }

    fn text(&self) -> String {
        match self {
            Content::Input => "input: not written by this trial before".into(),
            Content::Written => "written".into(),
            Content::Gone => "gone when the cell ended".into(),
            Content::Same { by, wrote: true } => format!("as {} wrote it", cell(*by)),
            Content::Same { by, wrote: false } => format!("same as {} read", cell(*by)),
            Content::Unchanged { by, wrote } => format!(
                "unchanged: as {} {} it",
                cell(*by),
                if *wrote { "wrote" } else { "read" }
            ),
            Content::ChangedSinceWrite { by } => {
                format!("! changed outside since {} wrote it", cell(*by))
            }
            Content::ChangedSinceRead { by } => {
                format!("! changed since {} read it", cell(*by))
            }
            Content::WithinCell { by } => format!("differs within {}", cell(*by)),
            Content::Unknown => "no hash: cannot compare".into(),
        }
    }
}

/// `In[3]`, or `In[?]` for an execution without a count.
fn cell(n: Option<i64>) -> String {
    match n {
        Some(n) => format!("In[{n}]"),
        None => "In[?]".into(),
    }
}

/// One file: its resolved path, the paths the code gave for it, its accesses in order with
/// what each found.
struct FileGroup<'a> {
    resolved: &'a str,
    given: Vec<&'a str>,
    accesses: Vec<(&'a FileAccessRow, Content)>,
    /// The trial's last write of it so far.
    last_write: Option<&'a FileAccessRow>,
}

/// The accesses grouped by file (resolved path) in the order each file was first opened, each
/// compared with the file's access before it (and, for a read, with the trial's last write).
/// Linear in the accesses: a trial may have opened thousands of files.
fn groups(accesses: &[FileAccessRow]) -> Vec<FileGroup<'_>> {
    let mut groups: Vec<FileGroup<'_>> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for row in accesses {
        let at = *index.entry(&row.resolved).or_insert_with(|| {
            groups.push(FileGroup {
                resolved: &row.resolved,
                given: Vec::new(),
                accesses: Vec::new(),
                last_write: None,
            });
            groups.len() - 1
        });
        let group = &mut groups[at];
        if !group.given.contains(&row.path.as_str()) {
            group.given.push(&row.path);
        }
        let before = group.accesses.last().map(|(r, _)| *r);
        let found = content(before, group.last_write, row);
        group.accesses.push((row, found));
        if row.access == "write" {
            group.last_write = Some(row);
        }
    }
    groups
}

/// What `row` found, compared with `before`, the access to the same file just before it, and
/// `written`, the trial's last write of it before `row`.
fn content(
    before: Option<&FileAccessRow>,
    written: Option<&FileAccessRow>,
    row: &FileAccessRow,
) -> Content {
    let write = row.access == "write";
    if write && row.sha256.is_none() && row.size.is_none() {
        return Content::Gone;
    }
    let Some(before) = before else {
        return if write {
            Content::Written
        } else {
            Content::Input
        };
    };
    let by = before.execution_count;
    let wrote = before.access == "write";
    match (&before.sha256, &row.sha256) {
        (Some(a), Some(b)) if a == b && write => Content::Unchanged { by, wrote },
        (Some(a), Some(b)) if a == b => Content::Same { by, wrote },
        (Some(_), Some(_)) if write => Content::Written,
        // Accesses are listed in the order of first access, one per access kind and line, and
        // a write's hash is the content at the cell's end: within one cell the order of what
        // was read and written is not known.
        (Some(_), Some(_)) if before.execution_id == row.execution_id => Content::WithinCell { by },
        // What the trial wrote last is what its code expects to read: anything else came
        // from outside.
        (Some(_), Some(b)) => match written {
            Some(w)
                if w.execution_id != row.execution_id
                    && w.sha256.as_ref().is_some_and(|h| h != b) =>
            {
                Content::ChangedSinceWrite {
                    by: w.execution_count,
                }
            }
            _ => Content::ChangedSinceRead { by },
        },
        _ if write => Content::Written,
        _ => Content::Unknown,
    }
}

fn files_doc(answer: &TrialFiles) -> Doc {
    let t = &answer.trial;
    let name = trial_named(t);
    let mut doc = Doc::new();
    if let Some(why) = files_not_recorded(answer) {
        doc.title(format!("Files of trial {name}: not recorded"));
        doc.note(0, why);
        return doc;
    }
    if answer.accesses.is_empty() {
        doc.title(format!(
            "Files of trial {name}: none recorded ({})",
            plural(t.executions as usize, "execution")
        ));
        doc.note(0, NOTHING_RECORDED);
        return doc;
    }
    let groups = groups(&answer.accesses);
    let reads = answer
        .accesses
        .iter()
        .filter(|a| a.access == "read")
        .count();
    let changed = groups
        .iter()
        .filter(|g| g.accesses.iter().any(|(_, c)| c.marked()))
        .count();
    let mut title = format!(
        "Files of trial {name}: {}, {} ({} read, {} written)",
        plural(groups.len(), "file"),
        match answer.accesses.len() {
            1 => "1 access".to_string(),
            n => format!("{n} accesses"),
        },
        reads,
        answer.accesses.len() - reads
    );
    if changed > 0 {
        title.push_str(&format!(
            "; {} changed where the trial did not change {}",
            plural(changed, "file"),
            if changed == 1 { "it" } else { "them" }
        ));
    }
    doc.title(title);
    for group in groups.iter().take(SHOWN_FILES) {
        doc.section(&heading(group));
        if let Some((row, c)) = group.accesses.iter().find(|(_, c)| c.marked()) {
            let why = c.text();
            doc.push(Block::Heading {
                status: "changed".into(),
                text: format!(
                    "! {} read content that {}",
                    cell(row.execution_count),
                    why.trim_start_matches("! ")
                ),
            });
        }
        doc.table(1, access_table(group));
        if group.accesses.len() > SHOWN_ACCESSES {
            doc.note(
                1,
                format!(
                    "({} more not shown: `provctl files --json` lists every access)",
                    group.accesses.len() - SHOWN_ACCESSES
                ),
            );
        }
    }
    if groups.len() > SHOWN_FILES {
        let hidden = &groups[SHOWN_FILES..];
        let marked = hidden
            .iter()
            .filter(|g| g.accesses.iter().any(|(_, c)| c.marked()))
            .count();
        doc.push(Block::Gap);
        doc.note(
            0,
            format!(
                "{} not shown ({marked} of them marked !): `provctl files --json` lists every \
                 access",
                plural(hidden.len(), "more file")
            ),
        );
    }
    doc
}

/// A file's section heading: its resolved path, after the path(s) the code gave when they
/// differ from it.
fn heading(group: &FileGroup<'_>) -> String {
    let given: Vec<&str> = group
        .given
        .iter()
        .copied()
        .filter(|g| *g != group.resolved)
        .collect();
    if given.is_empty() {
        printable(group.resolved)
    } else {
        format!(
            "{} → {}",
            printable(&given.join(", ")),
            printable(group.resolved)
        )
    }
}

/// A path with its control characters escaped (`\n`, `\u{1b}`), so a file named with a newline
/// or a terminal escape neither breaks the text nor reaches the terminal.
fn printable(path: &str) -> String {
    path.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn access_table(group: &FileGroup<'_>) -> Table {
    let mut table = Table::new(&[
        "execution",
        "access",
        "line",
        "size",
        "sha256",
        "sampled",
        "content",
    ]);
    for (row, content) in group.accesses.iter().take(SHOWN_ACCESSES) {
        let sha = match &row.sha256 {
            Some(full) => Cell::code(full.chars().take(SHORT_HASH).collect(), full),
            None => Cell::opt(None),
        };
        let content = if content.marked() {
            Cell::status(&content.text())
        } else {
            Cell::plain(content.text())
        };
        table.push(vec![
            Cell::plain(cell(row.execution_count)),
            Cell::plain(row.access.clone()),
            row.line.map_or(Cell::opt(None), Cell::number),
            Cell::opt(
                row.size
                    .map(|s| ByteSize::b(s.max(0) as u64).to_string())
                    .as_deref(),
            ),
            sha,
            Cell::opt(row.sampled.then_some("sampled")),
            content,
        ]);
    }
    table
}

/// What a trial with no file rows means, and where the full list is.
const NOTHING_RECORDED: &str = "No file was read or written by this trial's code, as far as \
     prov sees: it records the files the code opens through Python (open(), pathlib, pandas, \
     numpy, pickle, json, csv, …), not the kernel's and libraries' own files, nor files a \
     library opens in C by itself (e.g. pyarrow's own I/O); trials recorded by a prov from \
     before file accesses were recorded have none. What is and is not seen: README.md, \
     section \"Data files\".";

#[cfg(test)]
mod tests;
