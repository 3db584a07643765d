//! `%trials`: every trial in the store, newest last, with its status, size, tags and the last
//! values of its tagged variables. `provctl trials` lists the same. `%trials --remote NAME`
//! lists a page of the team store's trials (everyone's), filtered as `provctl trials`' are.

use clap::Args;
use provteamread::TrialFilters;

use super::args;
use super::remote::{self, within_deadline};
use super::spec::{store_error, MagicContext, MagicResult, MagicSpec};

/// The `%trials` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "trials",
    usage: "[--remote NAME] [--limit N] [--user U] [--host H] [--notebook N] [--tag T] \
            [--since TIME] [--until TIME]",
    help: "list the trials (kernel sessions) recorded in this store, or in a team store",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

/// `%trials`' arguments.
#[derive(Args, Debug)]
pub(super) struct TrialsArgs {
    /// List the trials of this remote's team store (a page: the latest N).
    #[arg(long, value_name = "NAME")]
    remote: Option<String>,
    /// How many trials a page holds (default: every local trial, the latest 50 remote ones).
    #[arg(short = 'n', long = "limit", value_name = "N",
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    limit: Option<usize>,
    #[command(flatten)]
    filters: TrialFilters,
}

/// How many remote trials a page holds unless told.
const REMOTE_PAGE: usize = 50;

/// Every trial of the store (this kernel's marked), or a page of the team store's.
fn run(context: &MagicContext, asked: TrialsArgs) -> MagicResult {
    if let Some(name) = &asked.remote {
        return remote_page(context, name, asked.limit, asked.filters);
    }
    let current = context.writer.trial().map(|t| t.id);
    let (filters, limit) = (asked.filters, asked.limit);
    context
        .writer
        .query(move |store| {
            let trials = store.trial_overviews()?;
            let kept = trials.into_iter().filter(|o| filters.keeps(o)).collect();
            Ok(provteamread::page(kept, |o| o.trial.id, limit.unwrap_or(usize::MAX), None).0)
        })
        .map(|trials| provrender::render_trial_overviews(&trials, current))
        .map_err(store_error)
}

/// The latest page of the team store's trials, read off the writer thread within the deadline.
fn remote_page(
    context: &MagicContext,
    name: &str,
    limit: Option<usize>,
    filters: TrialFilters,
) -> MagicResult {
    let remote = remote::remote(context, name)?;
    let what = format!("the team store {}", remote.name);
    let (trials, older) = within_deadline(&what, move || {
        let mut team = provteam::Team::connect(&remote.url).map_err(|e| e.to_string())?;
        remote::bounded(&mut team)?;
        provteamread::team_page(
            team.client(),
            &filters,
            Some(limit.unwrap_or(REMOTE_PAGE)),
            None,
        )
        .map_err(|e| e.to_string())
    })?;
    let mut rendered = provrender::render_trial_overviews(&trials, None);
    if older > 0 {
        let more = format!(
            "({older} older trials not listed: `provctl trials --remote {name} --before {}`)\n",
            trials.first().map_or(0, |t| t.trial.id)
        );
        rendered.text.push_str(&more);
        let escaped = more
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        rendered
            .html
            .push_str(&format!("<p>{}</p>", escaped.trim_end()));
    }
    Ok(rendered)
}
