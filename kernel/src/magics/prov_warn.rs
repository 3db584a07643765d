//! `%prov_warn [on|off]`: turns the live warnings on or off for this kernel (`PROV_WARN=1` in
//! its environment starts it with them on); alone, says whether they are on. When on, a cell
//! whose run makes another cell's result stale, or fits a model on the test part of a split,
//! gets one line per finding on stderr under it, before it ends (the recorder shows them, see
//! `recorder/warnings.rs`). Off by default, so the kernel stays identical to Python 3.
//!
//! The magic runs at its cell's reply, before that cell is recorded: the change already holds
//! for the cell it is in (`%prov_warn on` above code judges that code).

use super::args;
use super::spec::{MagicContext, MagicResult, MagicSpec};
use clap::{Args, ValueEnum};
use std::sync::atomic::Ordering;

/// The `%prov_warn` magic.
pub const SPEC: MagicSpec = MagicSpec {
    name: "prov_warn",
    usage: "[on|off]",
    help: "live stale-result and data-leakage warnings under the cell that causes them: on, off",
    run: |context, words| args::parse_then(&SPEC, words, |asked| run(context, asked)),
};

/// `%prov_warn [on|off]`.
#[derive(Args, Debug)]
struct WarnArgs {
    /// `on` or `off` (none: say whether they are on).
    #[arg(value_name = "on|off")]
    state: Option<State>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum State {
    On,
    Off,
}

fn run(context: &MagicContext, asked: WarnArgs) -> MagicResult {
    let flag = &context.live_warnings;
    let Some(state) = asked.state else {
        return Ok(provrender::render_live_warnings(
            flag.load(Ordering::Relaxed),
            false,
        ));
    };
    let on = matches!(state, State::On);
    flag.store(on, Ordering::Relaxed);
    Ok(provrender::render_live_warnings(on, true))
}

#[cfg(test)]
mod tests {
    use crate::magics::tests::{context, run_line};
    use std::sync::atomic::Ordering;

    #[test]
    fn prov_warn_turns_the_shared_flag_on_and_off_and_says_which() {
        let (_dir, context) = context();
        let asked = run_line(&context, "%prov_warn").unwrap();
        assert_eq!(asked.json["live_warnings"], false);
        assert!(asked.text.contains("are off"), "{}", asked.text);
        let on = run_line(&context, "%prov_warn on").unwrap();
        assert!(context.live_warnings.load(Ordering::Relaxed));
        assert!(on.text.contains("now on"), "{}", on.text);
        assert_eq!(
            run_line(&context, "%prov_warn").unwrap().json["live_warnings"],
            true
        );
        run_line(&context, "%prov_warn off").unwrap();
        assert!(!context.live_warnings.load(Ordering::Relaxed));
        let wrong = run_line(&context, "%prov_warn maybe").unwrap_err();
        assert!(wrong.contains("maybe"), "{wrong}");
        assert!(wrong.contains("usage: %prov_warn [on|off]"), "{wrong}");
        assert!(!context.live_warnings.load(Ordering::Relaxed), "unchanged");
        let two = run_line(&context, "%prov_warn on off").unwrap_err();
        assert!(two.contains("usage: %prov_warn [on|off]"), "{two}");
    }
}
