//! `provctl`: reads the provenance store that prov-kernel writes, from a
//! terminal or a script: the trials, one trial's executions, the log
//! across trials, the dataflow of a trial (which executions a variable
//! came from, the code that rebuilds it, the whole graph) and its tags, what
//! differs between two trials (`diff`, in `diff.rs`), the files a trial read and wrote
//! (`files`, in `files.rs`), the asserts a trial ran and their outcomes across trials
//! (`expectations`, in `expectations.rs`), the checks' findings (`check`, in `check.rs`),
//! and a variable across
//! trials (`values`, `plot`: in `values.rs` and `plot.rs`). Every subcommand
//! takes `--json` for exactly one JSON document on stdout.
//!
//! Exit codes: 0 success; 2 a bad argument, no store, no such trial or
//! variable; 1 a store that cannot be read (damaged, too new, or too old for
//! `files`: from before files were recorded, read-only) or an output
//! file that cannot be written.

mod check;
mod diff;
mod expectations;
mod export;
mod files;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use provstore::{Store, StoreError, ENV_DB};

mod output;
mod plot;
mod push;
mod remote;
mod replay;
mod values;

use output::{bad_extension, extension, png, save, text, Failure, Json};

/// Command line of provctl.
#[derive(Parser, Debug)]
#[command(
    name = "provctl",
    version,
    about = "Read the provenance recorded by the \"Python (prov)\" kernel: trials, executions, outputs",
    after_help = "The store is --db PATH, else $PROV_DB, else the first .prov/prov.db found in the \
                  current folder or one of its parents."
)]
struct Cli {
    /// The store to read (default: $PROV_DB, else .prov/prov.db here or in a parent folder).
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Print one JSON document on stdout instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the trials (one per kernel process) with their status, number of executions, tags
    /// and the last values of their tagged variables: the latest 50, oldest first.
    #[command(
        after_help = "A page holds the latest --limit trials (default 50) with ids below \
                      --before (default: all), oldest first; below the text, how to list the \
                      page before it. --all lists every trial. --json prints the page as an \
                      array."
    )]
    Trials {
        /// How many trials a page holds.
        #[arg(short = 'n', long = "limit", value_name = "N", default_value_t = TRIALS_PAGE,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        limit: usize,
        /// List the trials with ids below ID (the page before the one that starts at ID).
        #[arg(long, value_name = "ID")]
        before: Option<i64>,
        /// List every trial, however many.
        #[arg(long, conflicts_with_all = ["limit", "before"])]
        all: bool,
    },
    /// Show one trial and its executions in order: code, status, timing, outputs.
    Show {
        /// The trial: its id (as listed by `provctl trials`), name or UUID (default: the
        /// latest).
        trial: Option<String>,
    },
    /// The latest executions across all trials, newest first.
    Log {
        /// How many executions to show.
        #[arg(short = 'n', long = "limit", value_name = "N", default_value_t = 20,
              value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
        limit: usize,
    },
    /// Which executions made the current value of a variable, in the order they ran: code,
    /// what each defined and used, the files each wrote and read from outside, and the values
    /// recorded. VAR may be a file the code read or wrote (as the code gave it, absolute or
    /// resolved); a variable of that name wins.
    Deps {
        #[command(flatten)]
        deps: provargs::DepsArgs,
        /// The trial: id, name or UUID (default: the latest).
        #[arg(long, value_name = "TRIAL")]
        trial: Option<String>,
    },
    /// The smallest code that rebuilds the current value of a variable, statement by statement
    /// in the order it ran (each execution's first statement under a `# In[n]` comment), with
    /// the cells that wrote the files it read; the files it needs from outside the trial are
    /// listed first, as comments.
    #[command(
        after_help = "Without -o the code is printed. With -o FILE.ipynb it becomes a \
                            notebook (one cell per execution, \"Python (prov)\" kernel); with \
                            -o FILE.py a script."
    )]
    Slice {
        #[command(flatten)]
        target: provargs::VariableArg,
        /// The trial: id, name or UUID (default: the latest).
        #[arg(long, value_name = "TRIAL")]
        trial: Option<String>,
        /// Write the slice to FILE.ipynb (a notebook) or FILE.py (a script) instead.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// The tags of a trial: tagged variables (%tag_var) and stage marks (%tag_cell).
    Tags {
        /// The trial: id, name or UUID (default: the latest).
        #[arg(long, value_name = "TRIAL")]
        trial: Option<String>,
    },
    /// What differs between two trials: the code in execution order (unified diffs), final
    /// values, environment and outputs.
    #[command(
        after_help = "Only what differs is shown unless --all. With --json: {\"left\", \"right\", \
                      \"code\", \"values\", \"environment\", \"outputs\"}, each entry with its \
                      status (equal, changed, added, removed; code ops equal, delete, insert, \
                      replace)."
    )]
    #[command(mut_arg(provargs::RIGHT, |right| right
        .required(true)
        .help("The right trial: id, name or UUID")))]
    Diff {
        #[command(flatten)]
        diff: provargs::DiffArgs,
    },
    /// The dataflow graph of a trial: every execution and which earlier ones it used.
    #[command(
        after_help = "Without -o a summary is printed: one line per dependency \
                            (`In [3] <- In [1]: df`, the user first). --dot prints Graphviz DOT \
                            instead (`provctl graph --dot | dot -Tpng -o graph.png`). -o \
                            FILE.svg (or FILE.png) draws the graph left to right (no Graphviz \
                            needed), -o FILE.dot writes DOT."
    )]
    Graph {
        /// The trial: id, name or UUID (default: the latest).
        #[arg(long, value_name = "TRIAL")]
        trial: Option<String>,
        /// Print Graphviz DOT on stdout instead of the summary.
        #[arg(long, conflicts_with = "output")]
        dot: bool,
        /// Write the graph to FILE.svg or FILE.png (a picture) or FILE.dot (Graphviz DOT).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Every captured value of a variable across all trials, in order (versions within a
    /// trial too): trial, In[n], type and value (a summary for arrays, dataframes…).
    Values {
        #[command(flatten)]
        target: provargs::VariableArg,
    },
    /// Every file the trial's code read or wrote, file by file: which execution, read or
    /// write, size, content hash, and whether the content changed between accesses.
    #[command(
        after_help = "A read whose content differs from what the trial last wrote, or from an \
                      earlier read, is marked `!`: something the trial did not record changed \
                      it. --json prints the array of accesses in execution order: {\"path\", \
                      \"resolved\", \"access\", \"execution_count\", \"sha256\", \"size\", \
                      \"sampled\", …}."
    )]
    Files {
        /// The trial: id, name or UUID (default: the latest).
        #[arg(long, value_name = "TRIAL")]
        trial: Option<String>,
    },
    /// Every assert the trial's code ran (an expectation), with its latest outcome there and
    /// a ✓✗ row of its outcome in each trial that ran its cell.
    #[command(
        after_help = "An assert is identified across trials by its cell and its source with \
                      comments and extra spaces dropped. One nested in a branch, loop or \
                      function may not have run: `passed` then means it did not fail. --json \
                      prints the array of {\"source\", \"cell_id\", \"history\": \
                      [{\"trial\", \"execution_count\", \"outcome\", \"message\"}]}, \
                      outcome `passed`, `failed` or `not reached`, history oldest first."
    )]
    Expectations {
        /// The trial: id, name or UUID (default: the latest).
        #[arg(value_name = "TRIAL", conflicts_with = "trial")]
        at: Option<String>,
        /// The trial, as a flag (the same as the positional TRIAL).
        #[arg(long, value_name = "TRIAL")]
        trial: Option<String>,
    },
    /// Run the checks over a trial (data leakage, stale results, numeric trouble, unseeded
    /// randomness, failed or unreached asserts): each finding with its severity, the
    /// executions involved and what to do.
    #[command(
        after_help = "Exit status 0 whether or not there are findings; with --strict, 1 when \
                      there are. --json prints the array of findings: {\"rule\", \"severity\", \
                      \"message\", \"executions\": [execution_count…]}. --rules lists the rules."
    )]
    Check {
        /// The trial: id, name or UUID (default: the latest).
        #[arg(value_name = "T")]
        trial: Option<String>,
        /// Exit with status 1 when there are findings.
        #[arg(long)]
        strict: bool,
        /// List the rules, each with a line of Python that triggers it, instead.
        #[arg(long, conflicts_with_all = ["trial", "strict"])]
        rules: bool,
    },
    /// Draw a variable across trials (each trial's last value) as an SVG line chart, the
    /// picture %var_evolution shows.
    #[command(
        after_help = "Arrays, series and tensors are drawn by a statistic of their summary \
                      (--stat, default mean); a dataframe by its first numeric column, or \
                      --column C. Trials whose value has no number are skipped and listed."
    )]
    Plot {
        #[command(flatten)]
        evolution: provargs::EvolutionArgs,
        /// Write the picture to FILE.svg or FILE.png (default: VAR.svg in the current folder).
        #[arg(short = 'o', long = "output", value_name = "FILE.svg")]
        output: Option<PathBuf>,
    },
    /// Hand a trial over: W3C PROV (prov-json, prov-n, prov-o), a Workflow Run RO-Crate, or
    /// its whole history as a notebook or script.
    #[command(
        after_help = "ro-crate writes a directory, or a zip when PATH ends in .zip; the other                       formats are one document, printed without -o."
    )]
    Export(export::ExportArgs),
    /// Re-execute a trial in a fresh kernel and report, execution by execution, what
    /// reproduced: outputs, captured values, status; the first divergence and its likely cause.
    #[command(
        after_help = "The kernel starts in T's working folder and records into the same store, \
                      as a new trial (a replay of T) named replay-of-<T>, so `provctl diff T \
                      replay-of-<T>` and %trial_diff compare them. A file T read from outside \
                      that is gone stops the replay before it starts. With --json: \
                      {\"source_trial\", \"replay_trial\", \"summary\": {\"reproduced\", \
                      \"differs\", \"error\"}, \"executions\": [{\"execution_count\", \
                      \"status\", \"differences\"}], \"first_divergence\"}. Exit status 0 \
                      when the replay ran, whatever the verdict; with --strict 1 when anything \
                      did not reproduce."
    )]
    Replay(replay::ReplayArgs),
    /// The team stores (PostgreSQL) this store pushes to and pulls from: `remote add NAME
    /// URL`, `remote list`.
    Remote(remote::RemoteArgs),
    /// Send trials to a team store: `push [NAME] [T…]` (default: the push remote, else the
    /// only one; every trial it lacks or has in another state). One transaction per trial.
    Push(push::SyncArgs),
    /// Take trials of a team store into this store: `pull [NAME] [T…]` (T: team numbers or
    /// UUIDs; default: every trial this store lacks). The store is created if there is none.
    Pull(push::SyncArgs),
}

/// How many trials `provctl trials` lists unless told.
const TRIALS_PAGE: usize = 50;

/// The line under a page of trials that leaves `older` trials out, the first listed being
/// `first`.
fn older_trials(older: usize, first: i64) -> String {
    let trials = if older == 1 { "trial" } else { "trials" };
    format!(
        "({older} older {trials} not listed: `provctl trials --before {first}` lists the page \
         before, `provctl trials --all` every trial)\n"
    )
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let result = run(&cli, &mut out).and_then(|()| out.flush().map_err(Failure::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`provctl log | head`) is not an error.
        Err(Failure::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(e)) => {
            eprintln!("provctl: error: cannot write the output: {e}");
            ExitCode::from(1)
        }
        Err(Failure::Exit { code, message }) => {
            eprintln!("provctl: error: {message}");
            ExitCode::from(code)
        }
    }
}

/// Runs the command, writing the answer to `out`. Everything is read from
/// the store before anything is written, so a failure prints nothing.
fn run(cli: &Cli, out: &mut impl Write) -> Result<(), Failure> {
    let cwd = std::env::current_dir().map_err(|e| Failure::Exit {
        code: 1,
        message: format!("cannot read the current directory: {e}"),
    })?;
    let env_db = std::env::var_os(ENV_DB).filter(|v| !v.is_empty());
    let json = cli.json.then(|| Json {
        pretty: std::io::stdout().is_terminal(),
    });
    let db = resolve_db(cli.db.as_deref(), env_db.as_deref().map(Path::new), &cwd);
    // The team commands before opening the store: they may run before there is one.
    let here = || cwd.join(provstore::DB_DIR).join(provstore::DB_FILE);
    match &cli.command {
        Command::Remote(args) => {
            return remote::run(args, &db.unwrap_or_else(|_| here()), json, out)
        }
        Command::Push(args) => return push::push(&db?, args, json, out),
        Command::Pull(args) => return push::pull(&db.unwrap_or_else(|_| here()), args, json, out),
        _ => {}
    }
    let db = db?;
    let store = Store::open_existing(&db).map_err(|e| match e {
        StoreError::Missing { path } => Failure::Exit {
            code: 2,
            message: format!(
                "no provenance store at {} ({})\n  fix: check the path, or run a notebook with the \
                 \"Python (prov)\" kernel first",
                path.display(),
                if cli.db.is_some() { "from --db" } else { "from $PROV_DB" }
            ),
        },
        other => other.into(),
    })?;
    match &cli.command {
        Command::Trials { limit, before, all } => {
            let (trials, older) = if *all {
                (store.trial_overviews()?, 0)
            } else {
                store.trial_overviews_page(*limit, *before)?
            };
            match json {
                Some(j) => j.write(out, &trials),
                None => {
                    text(out, &provrender::trial_overviews_text(&trials, None))?;
                    match trials.first() {
                        Some(first) if older > 0 => text(out, &older_trials(older, first.trial.id)),
                        _ => Ok(()),
                    }
                }
            }
        }
        Command::Show { trial } => {
            let trial = store.trial(pick_trial(&store, trial.as_deref())?)?;
            let executions = store.executions(trial.id)?;
            match json {
                Some(j) => {
                    let show = provrender::TrialJson {
                        trial: &trial,
                        executions: &executions,
                    };
                    j.write(out, &show)
                }
                None => text(out, &provrender::trial_text(&trial, &executions)),
            }
        }
        Command::Log { limit } => {
            let entries = store.log(*limit)?;
            match json {
                Some(j) => j.write(out, &entries),
                None => text(out, &provrender::log_text(&entries)),
            }
        }
        Command::Deps { deps, trial } => {
            let trial = pick_trial(&store, trial.as_deref())?;
            let answer = store.backwards_deps(trial, &deps.variable)?;
            match json {
                Some(j) => j.write(out, &answer),
                None => text(out, &provrender::deps_text(&answer, deps.statements)),
            }
        }
        Command::Slice {
            target,
            trial,
            output,
        } => {
            let trial = pick_trial(&store, trial.as_deref())?;
            let answer = store.slice(trial, &target.variable)?;
            if let Some(path) = output {
                let contents = match extension(path).as_deref() {
                    Some("ipynb") => {
                        let nb = provrender::slice_notebook(&answer);
                        let mut s = serde_json::to_string_pretty(&nb)
                            .map_err(|e| Failure::Output(e.into()))?;
                        s.push('\n');
                        s
                    }
                    Some("py") => provrender::slice_script(&answer),
                    _ => return Err(bad_extension(path, "FILE.ipynb or FILE.py")),
                };
                let what = format!(
                    "the slice of {} ({})",
                    answer.variable,
                    count(answer.statements.len(), "statement")
                );
                if save(out, json, path, contents.as_bytes(), &what)? {
                    return Ok(());
                }
            }
            match json {
                Some(j) => j.write(out, &answer),
                None => text(out, &provrender::slice_code(&answer)),
            }
        }
        Command::Tags { trial } => {
            let trial = pick_trial(&store, trial.as_deref())?;
            let answer = store.tags(trial)?;
            match json {
                Some(j) => j.write(out, &answer),
                None => text(out, &provrender::tags_text(&answer)),
            }
        }
        Command::Values { target } => values::run(&store, &target.variable, json, out),
        Command::Plot { evolution, output } => {
            plot::run(&store, evolution, output.as_deref(), json, out)
        }
        Command::Diff { diff } => diff::run(&store, diff, json, out),
        Command::Files { trial } => {
            files::run(&store, pick_trial(&store, trial.as_deref())?, json, out)
        }
        Command::Expectations { at, trial } => {
            let trial = pick_trial(&store, trial.as_deref().or(at.as_deref()))?;
            expectations::run(&store, trial, json, out)
        }
        Command::Check { rules: true, .. } => check::rules(json, out),
        Command::Check { trial, strict, .. } => check::run(
            &store,
            pick_trial(&store, trial.as_deref())?,
            *strict,
            json,
            out,
        ),
        Command::Export(args) => {
            let trial = pick_trial(&store, args.trial.as_deref())?;
            export::run(&store, trial, args, json, out)
        }
        Command::Replay(args) => {
            let trial = pick_trial(&store, args.trial.as_deref())?;
            replay::run(&store, trial, args, json, out)
        }
        Command::Remote(_) | Command::Push(_) | Command::Pull(_) => unreachable!("answered above"),
        Command::Graph { trial, dot, output } => {
            let trial = pick_trial(&store, trial.as_deref())?;
            let answer = store.dataflow_graph(trial)?;
            if let Some(path) = output {
                let svg = || {
                    provrender::render_graph(&answer)
                        .svg
                        .unwrap_or_else(|| EMPTY_SVG.into())
                };
                let contents = match extension(path).as_deref() {
                    Some("svg") => svg().into_bytes(),
                    Some("png") => png(&svg(), path)?,
                    Some("dot" | "gv") => provrender::graph_dot(&answer).into_bytes(),
                    _ => return Err(bad_extension(path, "FILE.svg, FILE.png or FILE.dot")),
                };
                let what = format!(
                    "the graph of trial {} ({}, {})",
                    answer.trial.id,
                    count(answer.executions.len(), "execution"),
                    count(answer.edges.len(), "dependency")
                );
                if save(out, json, path, &contents, &what)? {
                    return Ok(());
                }
            }
            match json {
                Some(j) => j.write(out, &answer),
                None if *dot => text(out, &provrender::graph_dot(&answer)),
                None => text(out, &provrender::graph_text(&answer)),
            }
        }
    }
}

/// The picture of a trial with no executions.
const EMPTY_SVG: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>";

/// The trial asked for, else the latest one of the store.
fn pick_trial(store: &Store, query: Option<&str>) -> Result<i64, Failure> {
    if let Some(q) = query {
        return Ok(store.resolve_trial(q)?.id);
    }
    // The latest trial alone: listing them all costs a lookup per trial (1,000 in a big store).
    store
        .latest_trial()?
        .map(|t| t.id)
        .ok_or_else(|| Failure::Exit {
            code: 2,
            message: "no trials recorded in this store yet\n  fix: run a notebook with the \
                      \"Python (prov)\" kernel first"
                .into(),
        })
}

/// `1 statement`, `3 dependencies`.
fn count(n: usize, word: &str) -> String {
    match (n, word.strip_suffix('y')) {
        (1, _) => format!("1 {word}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {word}s"),
    }
}

/// The store to read: `--db`, else `$PROV_DB` (relative to `cwd`), else
/// the first `.prov/prov.db` in `cwd` or a parent. None found is exit 2
/// with where we looked and how to fix it.
fn resolve_db(flag: Option<&Path>, env: Option<&Path>, cwd: &Path) -> Result<PathBuf, Failure> {
    if let Some(p) = flag.or(env) {
        return Ok(cwd.join(p));
    }
    provstore::discover_db(cwd).ok_or_else(|| Failure::Exit {
        code: 2,
        message: format!(
            "no provenance store found\n  looked for: --db (not given), ${ENV_DB} (not set), \
             {}/{} in {} and every parent folder\n  fix: run a notebook with the \"Python (prov)\" \
             kernel first, or pass --db PATH",
            provstore::DB_DIR,
            provstore::DB_FILE,
            cwd.display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn db_and_json_go_before_or_after_the_subcommand() {
        let a = Cli::parse_from(["provctl", "--db", "x.db", "--json", "show", "3"]);
        let b = Cli::parse_from(["provctl", "show", "3", "--db", "x.db", "--json"]);
        assert_eq!(a.db, b.db);
        assert!(a.json && b.json);
        let log = Cli::parse_from(["provctl", "log", "-n", "5"]);
        assert!(matches!(log.command, Command::Log { limit: 5 }));
    }

    #[test]
    fn dataflow_subcommands_parse() {
        let deps = Cli::parse_from(["provctl", "deps", "df", "--statements", "--trial", "2"]);
        assert!(matches!(
            deps.command,
            Command::Deps { ref deps, ref trial }
                if deps.variable == "df" && deps.statements && trial.as_deref() == Some("2")
        ));
        let slice = Cli::parse_from(["provctl", "slice", "df", "-o", "df.ipynb"]);
        assert!(matches!(
            slice.command,
            Command::Slice {
                output: Some(_),
                ..
            }
        ));
        assert!(Cli::try_parse_from(["provctl", "graph", "--dot", "-o", "g.svg"]).is_err());
        let plot = Cli::parse_from(["provctl", "plot", "acc", "-o", "a.svg", "--stat", "max"]);
        assert!(matches!(
            plot.command,
            Command::Plot { ref evolution, .. }
                if evolution.stat == provstore::Statistic::Max && evolution.column.is_none()
        ));
        let default = Cli::parse_from(["provctl", "plot", "acc"]);
        assert!(matches!(
            default.command,
            Command::Plot { output: None, .. }
        ));
        let latest = Cli::parse_from(["provctl", "show"]);
        assert!(matches!(latest.command, Command::Show { trial: None }));
        assert_eq!(count(1, "dependency"), "1 dependency");
        assert_eq!(count(3, "dependency"), "3 dependencies");
        assert_eq!(count(2, "execution"), "2 executions");
    }

    #[test]
    fn the_flag_beats_the_environment_and_discovery() {
        let cwd = Path::new("/nowhere/at/all");
        let flag = resolve_db(Some(Path::new("a.db")), Some(Path::new("/b.db")), cwd).ok();
        assert_eq!(flag, Some(PathBuf::from("/nowhere/at/all/a.db")));
        let env = resolve_db(None, Some(Path::new("/b.db")), cwd).ok();
        assert_eq!(env, Some(PathBuf::from("/b.db")));
        let Some(Failure::Exit { code, message }) = resolve_db(None, None, cwd).err() else {
            panic!("no store is an exit");
        };
        assert_eq!(code, 2);
        assert!(message.contains("/nowhere/at/all"), "{message}");
        assert!(message.contains("--db"), "{message}");
    }
}

// mimalloc instead of glibc's malloc: a diff of two 5,000-execution trials allocates a few
// hundred thousand small strings; measured on the 1,000,000-execution store, CPU per run fell
// from 74 to 56 ms (diff) and 10.1 to 7.7 ms (deps), page faults from 6,500 to 900.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
