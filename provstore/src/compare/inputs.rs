//! The trial diff's inputs: the files each trial read from outside, paired across the two
//! trials and compared by content, and the statements that read one that differs (the seeds
//! `statements.rs` starts from, as from a statement whose text changed). Plain data, no SQL:
//! `load.rs` fills [`FileUse`] from `file_accesses`.
//!
//! The rules, in the order they apply:
//!
//! - An *input* is a file a trial read that it had not written itself. A read after the trial
//!   wrote the same file (resolved path), earlier in the same execution or in an earlier one
//!   whose write left the content the read saw, is the trial's own data: the dataflow follows
//!   it from the writing statement, and it is not listed. A read that saw other content than the
//!   trial's last write left was changed from outside in between: an input. Files a trial only
//!   wrote are its outputs and are not in this section (`provctl files` lists them).
//! - Within a trial a file is its resolved path. Across trials, files pair by the path as the
//!   code gave it (so `data.csv` pairs across trials run in different folders), when that path
//!   names one file in each trial; what is left pairs by resolved path (one trial gave
//!   `data.csv`, the other `/abs/data.csv`; a path that named two files in one trial, a
//!   `chdir` between). A file only one trial read is `added` or `removed`.
//! - Two contents are the same when their sha256 and size are. Hashes of samples (over
//!   `PROV_FILE_HASH_LIMIT`) that are equal make `equal` marked `sampled` (very likely the
//!   same), unless the modification times differ: then the parts not sampled may differ, and
//!   the file is `changed` with that note. A content without a hash is never called the same.
//!   When a trial read several contents of one file (it changed between reads), the two trials
//!   are equal only when they read the same contents in the same order.
//! - Every read of a file that is not `equal` (changed, added or removed) seeds its statement:
//!   the statement that opened it (`file_accesses.statement`) counts as different, so what it
//!   made, and what was computed from that, is changed by dependency, while a line beside it
//!   that did not read the file is not. A read whose statement is unknown seeds every statement
//!   of its execution (the cell stands for itself, as an unanalysed cell does).

use std::collections::{BTreeMap, HashMap};

use super::model::{DiffStatus, InputDiff, InputSide};
use super::statements::Cell;

/// A file's content as the probe saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Content {
    pub(crate) sha256: Option<String>,
    pub(crate) size: Option<i64>,
    pub(crate) mtime: Option<f64>,
    pub(crate) sampled: bool,
}

/// One file an execution read or wrote (a `file_accesses` row), in the order it first did.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FileUse {
    /// As the code gave it.
    pub(crate) path: String,
    /// Absolute, links resolved.
    pub(crate) resolved: String,
    pub(crate) write: bool,
    /// The top-level statement that opened it (None: unknown).
    pub(crate) statement: Option<i64>,
    /// As read, or as left after the write.
    pub(crate) content: Content,
}

/// One execution as the inputs see it: its `In[n]` and its file accesses in order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reads<'a> {
    pub(crate) execution_count: Option<i64>,
    pub(crate) files: &'a [FileUse],
}

/// The statements of one trial that read an input that differs: (position of the execution,
/// statement index, None when the read's statement is unknown).
pub(crate) type Seeds = Vec<(usize, Option<i64>)>;

/// A read of an input: the execution (position) and the access.
#[derive(Debug, Clone, Copy)]
struct Read<'a> {
    exec: usize,
    count: Option<i64>,
    file: &'a FileUse,
}

/// The reads of one file (resolved path) in one trial, in order.
#[derive(Debug)]
struct Group<'a> {
    reads: Vec<Read<'a>>,
}

impl<'a> Group<'a> {
    fn first(&self) -> &'a FileUse {
        self.reads[0].file
    }

    /// The contents read, in order, a content read again in a row counted once (compared
    /// by hash, size and sampling; a new mtime alone is not a new content).
    fn contents(&self) -> Vec<&'a Content> {
        let mut out: Vec<&Content> = Vec::new();
        for r in &self.reads {
            let c = &r.file.content;
            let same = out.last().is_some_and(|l| {
                l.sha256 == c.sha256 && l.size == c.size && l.sampled == c.sampled
            });
            if !same {
                out.push(c);
            }
        }
        out
    }

    fn side(&self) -> InputSide {
        let first = self.first();
        let mut read_by: Vec<Option<i64>> = Vec::new();
        let mut last = None;
        for r in &self.reads {
            if last != Some(r.exec) {
                read_by.push(r.count);
                last = Some(r.exec);
            }
        }
        InputSide {
            path: first.path.clone(),
            resolved: first.resolved.clone(),
            sha256: first.content.sha256.clone(),
            size: first.content.size,
            sampled: first.content.sampled,
            mtime: first.content.mtime,
            read_by,
            contents: self.contents().len(),
        }
    }
}

/// The reads of inputs of one trial, grouped by file (resolved path) in order of first read.
fn groups<'a>(execs: &[Reads<'a>]) -> Vec<Group<'a>> {
    // The last write of each file: (execution, statement, the hash it left).
    let mut written: HashMap<&str, (usize, Option<i64>, Option<&str>)> = HashMap::new();
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<Group> = Vec::new();
    for (e, x) in execs.iter().enumerate() {
        for f in x.files {
            let resolved = f.resolved.as_str();
            if f.write {
                written.insert(resolved, (e, f.statement, f.content.sha256.as_deref()));
                continue;
            }
            if let Some(&(we, ws, left)) = written.get(resolved) {
                if own_data(e, f, (we, ws, left)) {
                    continue;
                }
            }
            let read = Read {
                exec: e,
                count: x.execution_count,
                file: f,
            };
            match at.get(resolved) {
                Some(&g) => groups[g].reads.push(read),
                None => {
                    at.insert(resolved, groups.len());
                    groups.push(Group { reads: vec![read] });
                }
            }
        }
    }
    groups
}

/// Whether the read `f` of execution `e` reads what the trial itself wrote there last
/// (`write`: its execution, statement and the hash it left).
fn own_data(e: usize, f: &FileUse, write: (usize, Option<i64>, Option<&str>)) -> bool {
    let (we, ws, left) = write;
    if we == e {
        // Written by an earlier statement of the same cell. One statement that both wrote and
        // read the file (`open(p, 'r+')`) read what was there before it: an input.
        return matches!((ws, f.statement), (Some(w), Some(r)) if w < r);
    }
    // An earlier cell's write: the trial's own when the read saw what it left (unknown
    // hashes cannot tell otherwise).
    let read = f.content.sha256.as_deref();
    left.is_none() || read.is_none() || left == read
}

/// How two contents compare.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    Same,
    /// Equal hashes of samples: very likely the same.
    SameSampled,
    Differs,
    /// Not different by hash, yet not provably the same: why.
    Unsure(&'static str),
}

/// The note of a sampled hash that cannot vouch for the content.
pub(crate) const SAMPLED_MTIME: &str =
    "sampled hashes are equal but the modification time differs: the parts not sampled may differ";
/// The note of a content the probe could not hash.
pub(crate) const NO_HASH: &str = "a content without a hash cannot be proved the same";

fn verdict(a: &Content, b: &Content) -> Verdict {
    let (Some(x), Some(y)) = (&a.sha256, &b.sha256) else {
        return Verdict::Unsure(NO_HASH);
    };
    let sizes_differ = matches!((a.size, b.size), (Some(p), Some(q)) if p != q);
    if x != y || sizes_differ || a.sampled != b.sampled {
        return Verdict::Differs;
    }
    if !a.sampled {
        return Verdict::Same;
    }
    match (a.mtime, b.mtime) {
        (Some(p), Some(q)) if p != q => Verdict::Unsure(SAMPLED_MTIME),
        _ => Verdict::SameSampled,
    }
}

/// The status of a file both trials read, whether it is equal only by samples, and the note
/// of a `changed` that rests on no differing hash.
fn status(l: &Group, r: &Group) -> (DiffStatus, bool, Option<&'static str>) {
    let (lc, rc) = (l.contents(), r.contents());
    if lc.len() != rc.len() {
        return (DiffStatus::Changed, false, None);
    }
    let (mut sampled, mut note) = (false, None);
    for (a, b) in lc.iter().zip(&rc) {
        match verdict(a, b) {
            Verdict::Same => {}
            Verdict::SameSampled => sampled = true,
            Verdict::Differs => return (DiffStatus::Changed, false, None),
            Verdict::Unsure(why) => note = note.or(Some(why)),
        }
    }
    match note {
        Some(_) => (DiffStatus::Changed, false, note),
        None => (DiffStatus::Equal, sampled, None),
    }
}

/// Pairs the two trials' files: by the path as the code gave it where that names one file in
/// each trial, then by resolved path. `(left group, right group)`, either None when unpaired.
fn pair(l: &[Group], r: &[Group]) -> Vec<(Option<usize>, Option<usize>)> {
    let unique_paths = |groups: &[Group]| -> HashMap<String, Option<usize>> {
        let mut by: HashMap<String, Option<usize>> = HashMap::new();
        for (i, g) in groups.iter().enumerate() {
            by.entry(g.first().path.clone())
                .and_modify(|at| *at = None)
                .or_insert(Some(i));
        }
        by
    };
    let (lp, rp) = (unique_paths(l), unique_paths(r));
    let mut right_of: Vec<Option<usize>> = vec![None; l.len()];
    let mut taken = vec![false; r.len()];
    for (i, g) in l.iter().enumerate() {
        let path = &g.first().path;
        if let (Some(Some(_)), Some(&Some(j))) = (lp.get(path), rp.get(path)) {
            right_of[i] = Some(j);
            taken[j] = true;
        }
    }
    let by_resolved: HashMap<&str, usize> = r
        .iter()
        .enumerate()
        .filter(|(j, _)| !taken[*j])
        .map(|(j, g)| (g.first().resolved.as_str(), j))
        .collect();
    for (i, g) in l.iter().enumerate() {
        if right_of[i].is_some() {
            continue;
        }
        if let Some(&j) = by_resolved.get(g.first().resolved.as_str()) {
            if !taken[j] {
                right_of[i] = Some(j);
                taken[j] = true;
            }
        }
    }
    let mut pairs: Vec<(Option<usize>, Option<usize>)> = right_of
        .iter()
        .enumerate()
        .map(|(i, j)| (Some(i), *j))
        .collect();
    pairs.extend((0..r.len()).filter(|j| !taken[*j]).map(|j| (None, Some(j))));
    pairs
}

/// Compares the input files of two trials (executions in order): every file either read, with
/// its status (changed, added, removed, then equal; by path within), and the statements of
/// each trial that read one that is not equal.
pub(crate) fn compare_inputs(l: &[Reads], r: &[Reads]) -> (Vec<InputDiff>, [Seeds; 2]) {
    let (lg, rg) = (groups(l), groups(r));
    let mut seeds: [Seeds; 2] = [Vec::new(), Vec::new()];
    let mut seed = |side: usize, g: &Group| {
        seeds[side].extend(g.reads.iter().map(|r| (r.exec, r.file.statement)));
    };
    let mut out = Vec::new();
    for (i, j) in pair(&lg, &rg) {
        let (a, b) = (i.map(|i| &lg[i]), j.map(|j| &rg[j]));
        let (status, sampled, note) = match (a, b) {
            (Some(a), Some(b)) => status(a, b),
            (Some(_), None) => (DiffStatus::Removed, false, None),
            (None, Some(_)) => (DiffStatus::Added, false, None),
            (None, None) => continue,
        };
        if status != DiffStatus::Equal {
            a.into_iter().for_each(|g| seed(0, g));
            b.into_iter().for_each(|g| seed(1, g));
        }
        let path = a.or(b).map(|g| g.first().path.clone()).unwrap_or_default();
        out.push(InputDiff {
            path,
            status,
            left: a.map(Group::side),
            right: b.map(Group::side),
            sampled,
            note,
        });
    }
    out.sort_by(|x, y| (x.status, &x.path).cmp(&(y.status, &y.path)));
    (out, seeds)
}

/// Marks the seeded statements of one trial as unmatched, so the walk finds them different:
/// `matched[e][s]` is statement `s` (by position) of execution `e` of `cells`.
pub(crate) fn unmatch_seeds(seeds: &Seeds, cells: &[Cell], matched: &mut [Vec<bool>]) {
    let mut by_exec: BTreeMap<usize, Vec<Option<i64>>> = BTreeMap::new();
    for &(e, s) in seeds {
        by_exec.entry(e).or_default().push(s);
    }
    for (e, statements) in by_exec {
        let (Some(row), Some(cell)) = (matched.get_mut(e), cells.get(e)) else {
            continue;
        };
        for s in statements {
            match s {
                None => row.fill(false),
                Some(s) => {
                    // A statement that read the file but made nothing is not in the list: it
                    // changes no value.
                    if let Ok(at) = cell.statements.binary_search_by_key(&s, |x| x.index) {
                        row[at] = false;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
