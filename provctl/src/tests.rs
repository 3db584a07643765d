//! provctl's command line: it parses as documented, and the store is found where it says.

use super::*;
use clap::CommandFactory;
use std::path::Path;

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
    assert_eq!(trial::count(1, "dependency"), "1 dependency");
    assert_eq!(trial::count(3, "dependency"), "3 dependencies");
    assert_eq!(trial::count(2, "execution"), "2 executions");
}

#[test]
fn the_flag_beats_the_environment_and_discovery() {
    let cwd = Path::new("/nowhere/at/all");
    let flag = source::resolve_db(Some(Path::new("a.db")), Some(Path::new("/b.db")), cwd).ok();
    assert_eq!(flag, Some(PathBuf::from("/nowhere/at/all/a.db")));
    let env = source::resolve_db(None, Some(Path::new("/b.db")), cwd).ok();
    assert_eq!(env, Some(PathBuf::from("/b.db")));
    let Some(Failure::Exit { code, message }) = source::resolve_db(None, None, cwd).err() else {
        panic!("no store is an exit");
    };
    assert_eq!(code, 2);
    assert!(message.contains("/nowhere/at/all"), "{message}");
    assert!(message.contains("--db"), "{message}");
}
