//! The arguments a prov magic and its `provctl` twin both take, defined once with clap's derive:
//! `%backwards_deps VAR [--statements]` is `provctl deps VAR [--statements]`, `%slice VAR` and
//! `%var_values VAR` are `provctl slice VAR` and `provctl values VAR`, `%var_evolution` is
//! `provctl plot`, `%trial_diff T1 [T2] [--all]` is `provctl diff T1 T2 [--all]`. provctl
//! flattens these structs into its subcommands (adding what only a shell has: `--trial`, `-o`);
//! the kernel parses a magic line's shell words with them (`kernel/src/magics/args.rs`). A
//! magic's own arguments, with no twin, are defined in its file, `kernel/src/magics/<name>.rs`.
//!
//! Only definitions live here, no parsing or error wording: those differ between a terminal
//! (clap's own) and a notebook cell (the kernel's).

use clap::Args;
use provstore::Statistic;

/// One variable: `%slice VAR`, `%global_backwards_deps VAR`, `%var_values VAR`, `provctl slice
/// VAR`, `provctl values VAR`.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct VariableArg {
    /// The variable (a name, or a symbol such as `d['a']` or `obj.attr`).
    #[arg(value_name = "VAR")]
    pub variable: String,
}

/// Where a value came from: `%backwards_deps VAR [--statements]`, `provctl deps VAR
/// [--statements]`. VAR may also be a file the code read or wrote (PATH).
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct DepsArgs {
    /// The variable (a name, or a symbol such as `d['a']` or `obj.attr`), or a file the code
    /// read or wrote: its path as the code gave it (relative to the trial's folder), absolute,
    /// or resolved. A variable of that name wins (a dotted name such as `out.csv` is the file
    /// first, when the trial has one).
    #[arg(value_name = "VAR")]
    pub variable: String,
    /// Show only the statements that contributed, not whole cells.
    #[arg(long)]
    pub statements: bool,
}

/// A variable across trials, one number each: `%var_evolution VAR [--stat S] [--column C]`,
/// `provctl plot VAR [--stat S] [--column C]`.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct EvolutionArgs {
    /// The variable.
    #[arg(value_name = "VAR")]
    pub variable: String,
    /// The number of an array or dataframe to draw: mean, min, max or len.
    #[arg(long, value_name = "STAT", default_value = "mean", value_parser = Statistic::parse)]
    pub stat: Statistic,
    /// The dataframe column to draw (default: the first numeric one).
    #[arg(long, value_name = "C")]
    pub column: Option<String>,
}

/// Two trials, the right one optional: `%trial_intersection_diff T1 [T2]` (and, with `--all`,
/// [`DiffArgs`]). A magic without T2 compares T1 with its kernel's trial; provctl, which has no
/// trial of its own, requires it (`mut_arg(RIGHT, …)`).
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct TrialPair {
    /// The left trial (the reference): id, name or UUID.
    #[arg(value_name = "T1")]
    pub left: String,
    /// The right trial: id, name or UUID (default: this kernel's trial).
    #[arg(value_name = "T2")]
    pub right: Option<String>,
}

/// The id of [`TrialPair::right`], for a command that requires it.
pub const RIGHT: &str = "right";

/// Two trials compared: `%trial_diff T1 [T2] [--all]`, `provctl diff T1 T2 [--all]`.
#[derive(Args, Debug, Clone, PartialEq, Eq)]
pub struct DiffArgs {
    #[command(flatten)]
    pub trials: TrialPair,
    /// Also list what is the same.
    #[arg(long)]
    pub all: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Command, FromArgMatches};

    fn parse<A: Args + FromArgMatches>(words: &[&str]) -> Result<A, clap::Error> {
        let matches =
            A::augment_args(Command::new("t").no_binary_name(true)).try_get_matches_from(words)?;
        A::from_arg_matches(&matches)
    }

    #[test]
    fn options_go_anywhere_and_take_an_equals_sign() {
        let evolution: EvolutionArgs = parse(&["--column=x", "df", "--stat", "max"]).unwrap();
        assert_eq!(evolution.variable, "df");
        assert_eq!(evolution.stat, Statistic::Max);
        assert_eq!(evolution.column.as_deref(), Some("x"));
        let plain: EvolutionArgs = parse(&["acc"]).unwrap();
        assert_eq!((plain.stat, plain.column), (Statistic::Mean, None));
        let deps: DepsArgs = parse(&["--statements", "d['a']"]).unwrap();
        assert!(deps.statements && deps.variable == "d['a']");
    }

    #[test]
    fn a_bad_statistic_names_the_good_ones() {
        let e = parse::<EvolutionArgs>(&["acc", "--stat", "median"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(e.to_string().contains("mean, min, max, len"), "{e}");
    }

    #[test]
    fn the_right_trial_is_optional_unless_required() {
        let one: DiffArgs = parse(&["1", "--all"]).unwrap();
        assert_eq!(one.trials.right, None);
        assert!(one.all);
        let required = DiffArgs::augment_args(Command::new("t").no_binary_name(true))
            .mut_arg(RIGHT, |a| a.required(true));
        let e = required.try_get_matches_from(["1"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(parse::<TrialPair>(&["1", "2", "3"]).is_err());
    }
}
