//! A magic's arguments: the text after its name split as shell words (`shlex`: quotes group
//! words, a backslash escapes, an unclosed quote is an error) and parsed by the magic's clap
//! definition (a `clap::Args` struct in its file, or in the `provargs` crate where a provctl
//! command takes the same arguments). clap's errors are worded for a notebook cell: what was
//! wrong, the magic's usage line, and `%name --help` (clap's own hint names a program that does
//! not exist here); `%name --help` or `-h` answers with the magic's help.
//!
//! Finding magic lines in a cell is `parse.rs`'s business; this file starts from their text.

use super::spec::{MagicResult, MagicSpec};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, ColorChoice, Command, FromArgMatches};

/// The arguments of a magic that takes none (`%tags`).
#[derive(Args, Debug)]
pub(super) struct NoArgs {}

/// `[T]`: the trial a magic answers about (`%files`, `%expectations`, `%prov_check`).
#[derive(Args, Debug)]
pub(super) struct TrialArg {
    /// The trial: id, name or UUID (default: this kernel's trial).
    #[arg(value_name = "T")]
    pub(super) trial: Option<String>,
}

/// Parses `words` as `spec`'s arguments `A`, then runs the magic with them. A request for help
/// is the help, as the magic's answer; wrong arguments are the message for the cell.
pub(super) fn parse_then<A: Args + FromArgMatches>(
    spec: &MagicSpec,
    words: &[String],
    run: impl FnOnce(A) -> MagicResult,
) -> MagicResult {
    match parse(spec, words) {
        Ok(args) => run(args),
        Err(Stop::Help(help)) => Ok(provrender::render_magic_help(spec.name, &help)),
        Err(Stop::Wrong(message)) => Err(message),
    }
}

/// `text` (as typed after the magic's name) parsed as `spec`'s arguments `A`, or None when they
/// are wrong or ask for help.
pub(super) fn parse_text<A: Args + FromArgMatches>(spec: &MagicSpec, text: &str) -> Option<A> {
    parse(spec, &words(spec, text).ok()?).ok()
}

/// The text after a magic's name as shell words; an unclosed quote is an error naming the
/// magic's usage (not, as a hand-written splitter would have it, an argument running to the end
/// of the line).
pub(super) fn words(spec: &MagicSpec, text: &str) -> Result<Vec<String>, String> {
    shlex::split(&hash_kept(text)).ok_or_else(|| {
        usage_error(
            spec,
            "a quote is not closed (or the line ends in a backslash): close it, or escape it \
             with a backslash",
        )
    })
}

/// `text` with every `#` outside quotes escaped. A shell reads a word starting with `#` as a
/// comment, but IPython hands a magic its whole line (`%trial_name #3` names the trial `#3`),
/// and so do we.
fn hash_kept(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('#') {
        return text.into();
    }
    let (mut kept, mut quote, mut escaped) = (String::with_capacity(text.len() + 4), None, false);
    for c in text.chars() {
        match (c, quote) {
            _ if escaped => escaped = false,
            ('\\', Some('\'')) => {}
            ('\\', _) => escaped = true,
            ('\'' | '"', None) => quote = Some(c),
            (_, Some(q)) if c == q => quote = None,
            ('#', None) => kept.push('\\'),
            _ => {}
        }
        kept.push(c);
    }
    kept.into()
}

/// Why a magic stops before it runs.
#[derive(Debug)]
enum Stop {
    /// `--help` or `-h`: the magic's help, as clap laid it out.
    Help(String),
    /// The arguments are wrong: the message for the cell.
    Wrong(String),
}

fn parse<A: Args + FromArgMatches>(spec: &MagicSpec, words: &[String]) -> Result<A, Stop> {
    let matches = command::<A>(spec)
        .try_get_matches_from(words)
        .map_err(|e| stop(spec, &e))?;
    A::from_arg_matches(&matches).map_err(|e| stop(spec, &e))
}

/// The magic as a clap command: its arguments, its usage line as `%prov help` shows it (clap
/// would write `<VAR>` and `[OPTIONS]`), its one-line help and aliases, and no colours.
fn command<A: Args>(spec: &MagicSpec) -> Command {
    A::augment_args(Command::new(spec.name))
        .no_binary_name(true)
        .about(spec.help_line())
        .override_usage(usage(spec))
        .color(ColorChoice::Never)
}

/// `%name USAGE`.
fn usage(spec: &MagicSpec) -> String {
    format!("%{} {}", spec.name, spec.usage)
        .trim_end()
        .to_string()
}

/// A message saying what was wrong with a call of `spec`, its usage, and where more help is.
pub(super) fn usage_error(spec: &MagicSpec, problem: &str) -> String {
    format!(
        "{problem}\nusage: {}\nmore: %{} --help",
        usage(spec),
        spec.name
    )
}

fn stop(spec: &MagicSpec, e: &clap::Error) -> Stop {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            Stop::Help(e.render().to_string())
        }
        _ => Stop::Wrong(usage_error(spec, &problem(e))),
    }
}

/// What clap found wrong, in its words and tips (plain text), without its usage paragraph and
/// its `--help` hint; an unknown option reads `unknown option --x`, as the magics said before
/// clap.
fn problem(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let mut lines: Vec<&str> = rendered
        .lines()
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .filter(|line| !line.trim().is_empty())
        .collect();
    let unknown = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(arg)) if arg.starts_with('-') => Some(arg),
        _ => None,
    };
    let first = match (e.kind(), unknown) {
        (ErrorKind::UnknownArgument, Some(option)) => format!("unknown option {option}"),
        _ => lines
            .first()
            .map(|line| line.trim_start_matches("error: ").to_string())
            .unwrap_or_else(|| e.kind().to_string()),
    };
    if !lines.is_empty() {
        lines.remove(0);
    }
    std::iter::once(first.as_str())
        .chain(lines)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_hash_is_an_argument_not_a_comment() {
        let spec = crate::magics::lookup("trial_name").expect("a magic of ours");
        for (typed, wanted) in [
            ("#3", vec!["#3"]),
            ("a #b 'c #d' \"#e\"", vec!["a", "#b", "c #d", "#e"]),
            (r"x\#y 'it''s' #", vec!["x#y", "its", "#"]),
        ] {
            assert_eq!(words(spec, typed).unwrap(), wanted, "{typed}");
        }
    }
    use super::*;
    use crate::magics::lookup;

    fn spec(name: &str) -> &'static MagicSpec {
        lookup(name).expect("a magic of ours")
    }

    fn parse_words<A: Args + FromArgMatches>(name: &str, text: &str) -> Result<A, Stop> {
        let spec = spec(name);
        let words = words(spec, text).map_err(Stop::Wrong)?;
        parse(spec, &words)
    }

    fn wrong<A: Args + FromArgMatches + std::fmt::Debug>(name: &str, text: &str) -> String {
        match parse_words::<A>(name, text) {
            Err(Stop::Wrong(message)) => message,
            other => panic!("%{name} {text}: {other:?}"),
        }
    }

    /// No terminal colour codes, and no pointer to a program's `--help`.
    fn readable(message: &str) {
        assert!(!message.contains('\u{1b}'), "{message:?}");
        assert!(!message.contains("For more information"), "{message}");
    }

    /// Asserts that `message` reads well in a cell and holds each of `parts`.
    fn says(message: &str, parts: &[&str]) {
        readable(message);
        for part in parts {
            assert!(message.contains(part), "{part:?} is not in:\n{message}");
        }
    }

    #[test]
    fn quotes_group_words_and_backslashes_escape() {
        let spec = spec("trial_name");
        assert_eq!(
            words(spec, r#" "lr 0.1" 'b c' d\ e"#).unwrap(),
            ["lr 0.1", "b c", "d e"]
        );
        assert_eq!(words(spec, "  ").unwrap(), Vec::<String>::new());
        let vars: provargs::DepsArgs =
            parse_words("backwards_deps", r#""d['a']" --statements"#).unwrap();
        assert_eq!(vars.variable, "d['a']");
        assert!(vars.statements);
    }

    #[test]
    fn an_unclosed_quote_is_an_error_naming_the_magic() {
        for text in [r#" "lr 0.1"#, " 'x", r" x\"] {
            let message = words(spec("trial_name"), text).unwrap_err();
            assert!(message.contains("quote is not closed"), "{message}");
            assert!(message.contains("usage: %trial_name NAME"), "{message}");
        }
        // Not read as an argument, as the hand-written splitter did.
        let text = "acc \"final";
        assert!(parse_text::<provargs::VariableArg>(spec("tag_var"), text).is_none());
    }

    #[test]
    fn an_unknown_option_is_named_with_the_usage() {
        let message = wrong::<provargs::TrialPair>("trial_intersection_diff", "1 --all");
        assert!(message.starts_with("unknown option --all\n"), "{message}");
        assert!(message.ends_with("\nmore: %trial_intersection_diff --help"));
        says(&message, &["\nusage: %trial_intersection_diff T1 [T2]\n"]);
        // clap's suggestion of a near miss is kept.
        let near = wrong::<provargs::EvolutionArgs>("var_evolution", "acc --stats max");
        assert!(near.starts_with("unknown option --stats\n"), "{near}");
        says(&near, &["'--stat'"]);
    }

    #[test]
    fn a_missing_or_extra_argument_says_which() {
        let missing = wrong::<provargs::DiffArgs>("trial_diff", "");
        says(&missing, &["<T1>", "usage: %trial_diff T1 [T2] [--all]"]);
        let extra = wrong::<provargs::DiffArgs>("trial_diff", "1 2 3");
        assert!(extra.starts_with("unexpected argument '3'"), "{extra}");
        says(
            &wrong::<NoArgs>("tags", "extra"),
            &["'extra'", "usage: %tags\n"],
        );
        let bad = wrong::<provargs::EvolutionArgs>("var_evolution", "acc --stat median");
        says(&bad, &["mean, min, max, len", "usage: %var_evolution VAR"]);
    }

    #[test]
    fn help_shows_the_magics_usage_and_arguments() {
        for flag in ["--help", "-h", "acc --help"] {
            let Err(Stop::Help(help)) = parse_words::<provargs::DepsArgs>("backwards_deps", flag)
            else {
                panic!("{flag} is a request for help");
            };
            readable(&help);
            assert!(
                help.contains("Usage: %backwards_deps VAR [--statements]"),
                "{help}"
            );
            assert!(help.contains("--statements"), "{help}");
            assert!(help.contains("(also %backward_deps)"), "{help}");
        }
    }

    #[test]
    fn every_magic_s_usage_line_names_its_options() {
        // The usage line is written by hand for `%prov help`; the options it names and clap's
        // must agree, or help and errors would disagree with what is parsed.
        let (_dir, context) = crate::magics::tests::context();
        let help = |name: &str| {
            let spec = spec(name);
            match (spec.run)(&context, &["--help".to_string()]) {
                Ok(rendered) => rendered.text,
                Err(e) => panic!("%{name} --help: {e}"),
            }
        };
        for spec in crate::magics::MAGICS {
            let text = help(spec.name);
            let options: Vec<&str> = text
                .split_whitespace()
                .filter(|w| w.starts_with("--") && *w != "--help")
                .map(|w| w.trim_end_matches(|c: char| !c.is_alphanumeric()))
                .collect();
            for option in options {
                assert!(spec.usage.contains(option), "%{}: {option}", spec.name);
            }
            for word in spec.usage.split_whitespace() {
                let option = word.trim_matches(['[', ']']);
                if let Some(option) = option.strip_prefix("--") {
                    let flag = format!("--{}", option.split(' ').next().unwrap_or(option));
                    assert!(text.contains(&flag), "%{}: {flag}", spec.name);
                }
            }
        }
    }
}
