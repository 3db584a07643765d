//! The SQLite provenance store of prov, and the queries that read it.
//!
//! The record is the product: every cell run under the `Python (prov)` kernel
//! ends up here, in order, with what it printed, even if the kernel is killed
//! and even with several notebooks writing to one store at once. This crate
//! owns the file format, so the kernel (which writes) and `provctl` and the
//! magics (which read) agree on it.
//!
//! - [`Store`] opens a store (creating it, its folder 0700 and the file 0600),
//!   migrates it, writes trials and executions, and answers the read queries
//!   ([`Store::trials`], [`Store::resolve_trial`], [`Store::executions`],
//!   [`Store::log`]) with plain serialisable data.
//! - [`Writer`] runs a [`Store`] on its own thread so the kernel's relay never
//!   waits for the disk, and turns disk trouble into one warning instead of a
//!   broken kernel.
//! - [`default_db_path`] and [`discover_db`] say where a store lives.
//! - [`Store::trial_diff`] and [`Store::intersection_diff`] compare two trials
//!   (code in execution order, final values, environment, outputs; see the
//!   `compare` module for how values known only by type are judged).
//! - [`Store::extract_trial`] writes one trial as a bundle (a store file of its own holding
//!   that trial and what it refers to) and [`Store::absorb_trial`] takes one in, by UUID: what
//!   travels to and from a team store (the `bundle` module).
//! - [`Store::check`] runs the checks ([`RULES`]: data leakage, stale results, numeric
//!   trouble, unseeded randomness; one file per rule in the `checks` module) over a trial and returns their
//!   [`Finding`]s.
//!
//! # Where the store is
//!
//! The kernel writes to `$PROV_DB` if set, else `.prov/prov.db` under its
//! working directory ([`default_db_path`]). Readers look for the first
//! `.prov/prov.db` walking up from the current directory ([`discover_db`]).
//!
//! # SCHEMA
//!
//! One SQLite file in WAL mode with foreign keys on. The schema version is
//! `PRAGMA user_version`; opening a store runs the forward migrations it lacks
//! in one transaction. All timestamps are RFC 3339 UTC text with milliseconds
//! (`2026-11-21T16:30:02.630Z`), so they sort as text. Hashes are lowercase
//! hex SHA-256.
//!
//! Version 1:
//!
//! | table | one row per | columns |
//! | --- | --- | --- |
//! | `store_info` | fact about the store | `key`, `value` (`store_uuid`, `created_at`, `created_by`) |
//! | `trials` | kernel process (a restart starts a new trial) | `id` (1, 2, 3… for people), `uuid` (for merging stores), `name` (optional, unique), `status` (`running`, `finished`, `crashed`), `started_at`, `ended_at`, `notebook` (from `JPY_SESSION_NAME`), `cwd`, `python_version`, `ipykernel_version`, `platform`, `hostname`, `pid`, `pid_start` (identity of the process start, so a reused pid is not taken for the kernel) |
//! | `trial_replays` | a trial that re-executed another (`provctl replay`) | `trial_id`, `replay_of` (the UUID of the trial it replayed, from the kernel's `PROV_REPLAY_OF`) |
//! | `code` | distinct cell source | `id`, `sha256` (unique), `text`: re-running a cell stores no new text |
//! | `executions` | `execute_request` that went idle | `id`, `trial_id`, `seq` (order within the trial, 1, 2, 3…; unique per trial), `msg_id`, `execution_count`, `cell_id` (JupyterLab's `metadata.cellId`), `code_id`, `started_at`, `ended_at`, `duration_ms`, `status` (`ok`, `error`, `aborted`), `error_name`, `error_value`, `error_traceback` (JSON array of lines), `code_replaced` (1 when the request was not valid UTF-8: its invalid bytes are recorded as U+FFFD, as the child decoded them) |
//! | `outputs` | iopub output of an execution | `id`, `execution_id`, `seq` (order within the execution), `output_type` (`stream`, `display_data`, `update_display_data`, `execute_result`, `error`, `clear_output`), `stream_name` (`stdout`/`stderr` for streams) |
//! | `output_data` | MIME bundle entry of an output (a prov magic's answer has one more, last: [`MAGIC_ANSWER_MIME`], the magic line) | `output_id`, `position`, `mime_type`, `blob_id` |
//! | `blobs` | distinct payload | `id`, `sha256` (unique), `size` (bytes), `data` (the bytes, or NULL when larger than the payload cap) |
//! | `execution_names` | name an execution touched | `execution_id`, `name`, `role` (`defined`, `used`, `mutated`, `deleted`), `statement_index` (NULL: the whole cell) |
//! | `dependencies` | edge "execution needs what an earlier one made" | `execution_id`, `depends_on_id`, `name` (the variable carrying it: with `depends_on_id` it names a variable version), `kind` (`variable` by default) |
//! | `variable_tags` | tag on a variable in a trial | `trial_id`, `name`, `label` (optional), `execution_id` (the version tagged, when known), `tagged_at` |
//! | `cell_stages` | stage tag on a cell in a trial | `trial_id`, `cell_id` (`seq:N` when marked by `%tag_cell` while the cell ran: the `seq` of its execution), `stage`, `tagged_at` |
//! | `captured_values` | value captured after an execution | `execution_id`, `name`, `type_name`, `value_json` (scalars), `summary_json` (a tagged variable's summary: see [Captured values](#captured-values)), `fingerprint_json` (version 5: an array's, frame's, tensor's or estimator's content fingerprint) |
//! | `trial_packages` | top-level package the user's code imported during a trial | `trial_id`, `name`, `version` (see [Captured values](#captured-values)) |
//!
//! Version 2 adds `execution_dataflow` (one row per analysed execution:
//! `execution_id`, `analysis` — JSON of `pyflow::CellAnalysis`, `runtime` — the
//! probe's notes as JSON, `failed_line`) and an index on `executions (msg_id)`.
//!
//! Version 3 keeps the dependency graph itself, written by the kernel's live
//! engine in the transaction that records each execution, so dependency
//! queries are index walks bounded by the answer, not replays of the trial:
//!
//! | table | one row per | columns |
//! | --- | --- | --- |
//! | `dataflow_versions` | version of a symbol (a definition or mutation) | `trial_id`, `version` (pyflow's dense number, per trial), `name` (base name), `symbol` (`d['a']`, `o.x`), `execution_id`, `statement` (that produced it), `kind` (`defined`, `mutated`, `assumed`: a change pyflow assumed, a value passed to a callee on no list; `external`: a file's content from outside the trial, see version 7), `current` (1 while part of the symbol's current value) |
//! | `dataflow_reads` | version a producing statement read | `execution_id`, `statement`, `dep_execution_id`, `dep_statement` (the statement that produced the version; may be in the same execution; negative: a file's content from outside, see version 7), `symbol` |
//! | `dataflow_statements` | producing statement | `execution_id`, `statement`, `line_start`, `line_end`, `byte_start`, `byte_end` (NULL: the cell could not be analysed and stands for itself) |
//! | `dataflow_indexed` | trial whose graph is kept | `trial_id`, `through_id` (the last execution indexed) |
//!
//! and fills version 1's `execution_names` (roles `defined`, `mutated`,
//! `used`, `deleted`; `statement_index` NULL), `dependencies` (execution
//! → execution, per symbol) and `captured_values` (see below). Indexes: versions by
//! `(trial_id, name)` and, partial, the current ones; reads are keyed (clustered) by
//! `(execution_id, statement, …)`; `execution_names (execution_id, role, name)`
//! replaces v1's index by execution (covering).
//!
//! Version 6 stores what is a function of the code once per code, and per-execution lists once
//! per distinct content, so re-running a cell adds a few rows, not a copy of its facts:
//!
//! | table | one row per | columns |
//! | --- | --- | --- |
//! | `code_analysis` | analysed code | `code_id`, `analysis_version` (`pyflow::ANALYSIS_VERSION`), `analysis` (JSON of `pyflow::CellAnalysis`): an execution whose `execution_dataflow.analysis` is empty has this one |
//! | `code_statements` | statement of an analysed code | `code_id`, `statement`, `line_start`, `line_end`, `byte_start`, `byte_end`: the positions of an execution that has no `dataflow_statements` rows of its own |
//! | `name_sets` | distinct list of names touched | `id`, `sha256` (of the list) |
//! | `name_set_members` | name of such a list | `set_id`, `position`, `name`, `role` (as `execution_names`) |
//! | `execution_name_sets` | execution indexed from v6 on that touched names | `execution_id`, `set_id`: its names (executions indexed before keep `execution_names` rows) |
//! | `read_sets` | distinct list of reads among one execution's statements | `id`, `sha256` |
//! | `read_set_members` | read of such a list | `set_id`, `statement`, `dep_statement`, `symbol` |
//! | `execution_read_sets` | execution indexed from v6 whose statements read each other | `execution_id`, `set_id`: these reads, with `dep_execution_id` the execution itself; `dataflow_reads` keeps its reads of earlier executions (and, before v6, all of them) |
//!
//! Version 7 records the files the user's code opened (the probe's `files` note; see
//! `tests/golden/probe/README.md`), never their content:
//!
//! | table | one row per | columns |
//! | --- | --- | --- |
//! | `file_accesses` | file an execution read or wrote, per access and statement | `execution_id`, `seq` (order of first access), `path` (as the code gave it), `resolved` (absolute, links resolved: the file's name in the dataflow), `access` (`read`, `write`), `line` (in the cell, of the top-level statement that opened it), `statement` (that statement's index), `size`, `mtime` (seconds since the epoch), `sha256` (as read, or as left after the write; NULL when gone or unreadable), `sampled` (1: over `PROV_FILE_HASH_LIMIT`, hashed from evenly spaced chunks and the size) |
//!
//! In the dependency index a file is a name, its `resolved` path (`pyflow::is_file_name`:
//! always starting with `/`, never a Python name). A write is a `dataflow_versions` row of
//! that name made by the statement that opened the file (`kind` `defined`); a read is a
//! `dataflow_reads` row (or, within one execution, a `read_set_members` row) of the statement
//! that opened it, towards the version whose content it saw. When the content read (its
//! `sha256`) is not what the trial last wrote there, or the trial never wrote it, it came from
//! outside: a version of `kind` `external`, made by no statement, whose `statement` is
//! `-1 - seq` with `seq` the `file_accesses` row of the read that saw it (so `-1` is access
//! 0); reads of it point to that negative statement, which reads nothing, so a walk stops
//! there and an answer names it as an input. An access with no line counts where pyflow puts
//! what only the probe saw (the cell's first dynamic statement, else its last that ran).
//! Files are left out of `dependencies`' and `execution_names`' readers that list variables;
//! a read of an earlier execution's write is a `dependencies` row like a variable's.
//!
//! A later version adds an index on `executions (trial_id, cell_id, seq)`: the runs of a cell,
//! which the live checks ([`Store::live_findings`]) ask for after every execution.
//!
//! The lean store (the migration after version 7; its number depends on the order migrations
//! were merged) stops adding a row per name when unchanged code runs again. The versions an
//! execution made and the values captured after it become lists stored once per distinct
//! content, like the names and reads of version 6, and `dataflow_versions` and
//! `captured_values` become views with the same columns as before over both forms (a set's
//! value rows have as `id` their position in the list plus one):
//!
//! | table | one row per | columns |
//! | --- | --- | --- |
//! | `version_rows`, `captured_value_rows` | version, captured value, indexed before the lean store (the former tables, renamed) | as `dataflow_versions`, `captured_values` |
//! | `version_sets` | distinct list of versions one execution made | `id`, `sha256` |
//! | `version_set_members` | version of such a list | `set_id`, `position` (its number minus the execution's `base`), `name`, `symbol`, `statement`, `kind` |
//! | `execution_version_sets` | execution that made versions | `execution_id`, `trial_id`, `set_id`, `base` (the number of its first version) |
//! | `current_versions` | version that is part of its symbol's current value | `trial_id`, `version`, `name`, `symbol`, `execution_id`, `statement`, `kind` (the view's `current` is 1 exactly for these) |
//! | `value_sets` | distinct list of values captured after one execution | `id`, `sha256` |
//! | `value_set_members` | value of such a list | `set_id`, `position`, `name`, `type_name`, `value_json`, `summary_json`, `fingerprint_json` |
//! | `execution_value_sets` | execution with captured values | `execution_id`, `set_id` |
//!
//! From then on `execution_dataflow.runtime` holds a note longer than 4 KiB deflated (a zlib
//! stream, as a BLOB); a shorter one stays JSON text.
//!
//! A later migration adds `trials.user_name`: who ran the trial (`$USER`, else `$LOGNAME`,
//! else the account name of the kernel's uid; NULL for trials recorded before), so a team
//! store can tell everyone's trials apart. A store read as it is at an older version reads it
//! as NULL through a temporary view of `trials`.
//!
//! The next drops the index on `executions (msg_id)`: the two look-ups by request id want a
//! trial's latest execution of it, which `executions (trial_id, seq)` finds from the newest
//! back, and each execution no longer writes a page of it.
//!
//! A store of version 3 to 6 that cannot be written is read as it is: empty temporary tables
//! stand in for the newer tables, since none of its executions refers to them, and a view of
//! its flagged versions for `current_versions`.
//!
//! # Captured values
//!
//! The runtime probe in the kernel writes `captured_values`, at most one row
//! per `(execution_id, name)`:
//!
//! - every name the execution defined or mutated (as the analysis says) that
//!   the probe saw bound to a new object: `type_name` (`int`,
//!   `numpy.ndarray`, …), and `value_json` for a scalar (int, float, bool,
//!   None, a str of at most 200 characters, a tuple of at most 8 of these;
//!   NaN, infinities and huge ints as their repr string);
//! - every tagged variable (`%tag_var`) when it is tagged (a row in the
//!   execution whose cell tagged it, even if that cell did not define it) and
//!   after every execution that rebound it or mentioned it and changed it
//!   (in-place mutation: `arr[0] = 1`, `model.fit(X, y)`). A tagged scalar
//!   gets `value_json`; anything else `summary_json`.
//!
//! An array, DataFrame, Series, tensor or estimator among the names bound
//! (tagged or not) also gets `fingerprint_json` (version 5),
//! `{"sha256", "sampled"}`: a hash of its content (an estimator's class,
//! parameters and fitted attributes), from a sample over
//! `PROV_FINGERPRINT_LIMIT` (default 16 MiB); a cell's fingerprints stop after
//! `PROV_FINGERPRINT_BUDGET` ms (default 100), and later names get none. The
//! trial diff compares two values known only by type through it
//! (`compared_by: "content"`); rows written before version 5 have none.
//!
//! `summary_json` is one JSON object whose `kind` says what else it holds.
//! Floats that JSON cannot carry are the strings `"nan"`, `"inf"`, `"-inf"`.
//! `sampled: true` means the object was larger than the probe's bound
//! (`PROV_VALUE_LIMIT`, default 256 MiB, suffixes k/M/G): its hash covers
//! shape, dtype and evenly spaced chunks of its bytes (or evenly spaced
//! elements/rows), and its statistics an evenly spaced sample.
//!
//! | `kind` | for | other keys |
//! | --- | --- | --- |
//! | `ndarray` | numpy arrays | `shape` (list), `dtype`, `nbytes`, `min`, `max`, `mean`, `nan_count` (these four for bool and numeric dtypes, not complex), `sha256` (over shape, dtype and the elements in C order), `sampled` |
//! | `dataframe` | pandas DataFrame | `shape` (`[rows, cols]`), `columns` (at most 200: `{name, dtype, min?, max?, mean?, nan_count?}`, statistics for numeric columns; a non-string name as its repr), `sha256` (over column names and dtypes and `pandas.util.hash_pandas_object(df, index=True)`), `sampled` |
//! | `series` | pandas Series | `shape` (`[n]`), `name`, `dtype`, `min`, `max`, `mean`, `nan_count` (numeric), `sha256`, `sampled` |
//! | `tensor` | torch / TensorFlow tensors (only when the user imported the library) | `library` (`torch`, `tensorflow`), `shape`, `dtype`, `device`, `min`, `max`, `mean`, `sha256`, `sampled` |
//! | `collection` | list, tuple, dict, set, frozenset | `type`, `length`, `sha256` (of a canonical form: dict items sorted by key, sets sorted, nested containers likewise, other items by repr), `sampled` (more than 100,000 items visited) |
//! | `estimator` | objects with a callable `get_params` (scikit-learn style) | `class` (`module.Class`), `params` (`get_params(deep=False)`: JSON scalars, else a repr of at most 200 characters), `fitted_sha256` (over the fitted attributes: names ending in `_`, not starting with `_`, that are arrays, scalars, lists or tuples; null when there are none: unfitted) |
//! | `object` | anything else | `repr` (at most 200 characters), `truncated` |
//! | `failed` | a summary that raised (never shown to the user) | `error` (`ExceptionType: message`, bounded) |
//!
//! The probe never imports a module the user has not imported (numpy, pandas,
//! torch, tensorflow are recognised only when already in `sys.modules`).
//!
//! `trial_packages` holds, per trial, each top-level package first imported
//! by the user's code (not the standard library, not `_private` modules, not
//! what the kernel itself had imported before the first cell), with its
//! `__version__` or else its distribution's version; modules without a
//! known version (the notebook's own files) are left out. The trial's Python
//! version and platform are in `trials`. [`Store::trial_packages`] reads them.
//!
//! # Values across trials
//!
//! [`Store::var_values`] lists every captured value of a variable across all
//! trials (trial by trial, then in execution order: the versions within a
//! trial), with the tag label it had in each trial. [`Store::var_evolution`]
//! keeps each trial's last value as one number ([`CapturedValue::number`]:
//! a statistic of an array or dataframe summary) for a plot, listing the
//! trials that have none. [`Store::trial_overviews`] is [`Store::trials`]
//! with each trial's tagged variables and the values they ended with;
//! [`Store::trial_overviews_page`] the same for one page of trials (the
//! latest N below an id), reading only that page's trials. Values read
//! `captured_values` through the index by name.
//!
//! # Dependency queries
//!
//! [`Store::backwards_deps`], [`Store::global_backwards_deps`],
//! [`Store::slice`] and [`Store::dataflow_graph`] answer from those tables
//! (see the `dataflow_index` module for how they are kept: a failed cell is
//! held back until its late runtime notes arrive; trials recorded before
//! version 3 are indexed by replaying their stored facts on the first query,
//! which needs write access). [`Store::replay_dataflow`] rebuilds a trial in
//! memory through pyflow, the reference the stored graph is tested against.
//!
//! Indexes: `executions (trial_id, seq)` (a trial in order, and the next
//! `seq`), `executions (started_at)` (the log), `outputs (execution_id, seq)`,
//! the unique hashes, running trials (crash detection), and the lookups the
//! later tables need (by execution, by name). Deleting a trial cascades to
//! everything recorded under it; `code` and `blobs` are shared and stay.
//!
//! # Expectations
//!
//! [`Store::expectations`] lists every `assert` a trial's code held (from the cell's stored
//! analysis, `pyflow::CellAnalysis::asserts`, analysis version 3; an older stored analysis is
//! re-made from the code) with its outcome (`passed`, `failed` with the message, `not
//! reached`) in each execution of its cell across all trials. Nothing is stored for it: the
//! outcome follows from the execution's `status`, `error_name`, `error_value`, the lines of
//! the cell's own frames in `error_traceback` and `execution_dataflow.failed_line`, so the
//! kernel changes nothing in what the user sees. The `expectations` module says how each
//! outcome is decided and what cannot be known (an assert in a branch, loop or function may
//! not have run: `passed` there means it did not fail).
//!
//! # Durability
//!
//! `synchronous=NORMAL` in WAL mode: a committed execution survives the
//! kernel being killed (`kill -9`); only an OS crash or power loss can take
//! back the last few commits (the store stays consistent). The kernel holds a
//! cell's idle until [`WriterHandle::record_then`] says its execution is
//! committed. `FULL` would add an `fsync` per commit (milliseconds on a
//! typical disk, more than a whole `pass` execution). A trial left `running` by a process that no longer exists
//! on this host is marked `crashed` the next time the store is opened for
//! writing, with `ended_at` = the end of its last execution.

#![warn(missing_docs)]

mod bundle;
mod captured;
mod checkpoint;
mod checks;
mod compare;
mod dataflow_index;
mod deps;
mod error;
mod expectations;
mod files;
mod note;
mod note_values;
mod paths;
mod process;
mod query;
mod replay;
mod role;
mod schema;
mod shared_lists;
mod store;
mod tags;
mod types;
mod values;
mod writer;

pub use bundle::{AbsorbOutcome, Absorbed};
pub use captured::{CapturedValue, Judgement, Statistic};
pub use checks::{CheckReport, Finding, Rule, Severity, RULES};
pub use compare::{
    without_volatile, CodeOp, CodeOpKind, DiffStatus, EnvDiff, ExpectationDiff, Figure, InputDiff,
    InputSide, IntersectionDiff, OutputDiff, OutputEntry, OutputSide, TrialDiff, ValueDiff,
    MAGIC_ANSWER_MIME, WIDGET_VIEW_MIME,
};
pub use deps::{
    DepEdge, DepExecution, DepStatement, DepValue, DepsAnswer, FileInput, FileVersion, GraphAnswer,
    SliceAnswer, SliceStatement,
};
pub use error::StoreError;
pub use expectations::{Expectation, ExpectationRun, Outcome};
pub use files::{FileAccessRow, TrialFiles, FILES_SCHEMA};
pub use paths::{default_db_path, discover_db, DB_DIR, DB_FILE, ENV_DB};
pub use process::{hostname, platform, user_name};
/// Whether a dataflow name is a file's (its resolved path) rather than a variable.
pub use pyflow::is_file_name;
pub use replay::{
    Cause, Difference, FirstDivergence, ReplayExecution, ReplayOutput, ReplayReport, ReplayStatus,
    ReplaySummary, ReplayedExecution,
};
pub use schema::SCHEMA_VERSION;
pub use store::{StagedExecutions, Store, DEFAULT_PAYLOAD_CAP};
pub use tags::{StageTag, TagsAnswer, VariableTag};
pub use types::{
    timestamp, DataflowRecord, DataflowRow, ErrorInfo, ExecStatus, ExecutionDetail,
    ExecutionRecord, LogEntry, NewTrial, OutputRecord, OutputSummary, PayloadInfo, TrialHandle,
    TrialStatus, TrialSummary,
};
pub use values::{
    evolution, Evolution, EvolutionPoint, KeyValue, SkippedTrial, TrialOverview, TrialTag,
    TrialValue, ValueEntry,
};
pub use writer::{
    parse_size, OnProblem, Writer, WriterConfig, WriterHandle, Written, ENV_MAX_PAYLOAD,
};

/// The result type of this crate: every fallible call says what went wrong
/// and what to do through [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
