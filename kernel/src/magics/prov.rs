//! `%prov` / `%prov help`: what prov's magics are and how to call them.

use super::args;
use super::spec::{MagicContext, MagicResult, MagicSpec};
use clap::Args;

/// The `%prov` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "prov",
    usage: "[help]",
    help: "list prov's magics with a line of help each",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

fn run(context: &MagicContext, _asked: ProvArgs) -> MagicResult {
    let entries: Vec<[String; 3]> = context
        .magics
        .iter()
        .map(|spec| {
            let name = format!("%{}", spec.name);
            let usage = format!("{name} {}", spec.usage).trim_end().to_string();
            [name, usage, spec.help_line()]
        })
        .collect();
    let rows: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|[name, usage, help]| (name.as_str(), usage.as_str(), help.as_str()))
        .collect();
    Ok(provrender::render_help(&rows))
}

/// `%prov [help]`.
#[derive(Args, Debug)]
struct ProvArgs {
    /// `help` (the same list).
    #[arg(value_name = "help", value_parser = ["help"])]
    topic: Option<String>,
}
