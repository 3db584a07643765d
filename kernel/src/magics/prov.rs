//! `%prov` / `%prov help`: what prov's magics are and how to call them.

use super::{usage_error, MagicContext, MagicResult, MagicSpec, MAGICS};

/// The `%prov` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "prov",
    aliases: &[],
    usage: "[help]",
    help: "list prov's magics with a line of help each",
    run,
};

fn run(_context: &MagicContext, args: &[String]) -> MagicResult {
    match args {
        [] => {}
        [word] if word == "help" => {}
        _ => return Err(usage_error(&SPEC, "%prov takes only `help`")),
    }
    let entries: Vec<[String; 3]> = MAGICS
        .iter()
        .map(|spec| {
            let mut help = spec.help.to_string();
            if !spec.aliases.is_empty() {
                let aliases: Vec<String> = spec.aliases.iter().map(|a| format!("%{a}")).collect();
                help.push_str(&format!(" (also {})", aliases.join(", ")));
            }
            let name = format!("%{}", spec.name);
            let usage = format!("{name} {}", spec.usage).trim_end().to_string();
            [name, usage, help]
        })
        .collect();
    let rows: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|[name, usage, help]| (name.as_str(), usage.as_str(), help.as_str()))
        .collect();
    Ok(provrender::render_help(&rows))
}
