//! `provctl replay T [--kernel NAME] [--until In[n]] [--tolerance X] [--timeout S] [--name N]
//! [--strict] [-o FILE.html]`: re-executes a trial's executions in a fresh kernel (a new trial,
//! recorded as a replay of T) and reports, execution by execution, what reproduced (the
//! replay itself: the crate `provreplay`). Exit status 0 when the replay ran, whatever the
//! verdict; with `--strict` 1 when anything did not reproduce; 1 when it could not run (files
//! gone, no kernelspec, a kernel that died while starting), 2 for a bad argument.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use provreplay::{Options, ReplayError};
use provstore::Store;

use crate::output::{bad_extension, extension, save, text, Failure, Json};

/// The arguments of `provctl replay`.
#[derive(Args, Debug)]
pub(crate) struct ReplayArgs {
    /// The trial to replay: id, name or UUID (default: the latest).
    #[arg(value_name = "T")]
    pub(crate) trial: Option<String>,
    /// The kernelspec to run it in.
    #[arg(long, value_name = "NAME", default_value = "python-prov")]
    pub(crate) kernel: String,
    /// Stop after this execution (`In[n]` or `n`).
    #[arg(long, value_name = "In[n]")]
    pub(crate) until: Option<String>,
    /// Exit with status 1 when anything did not reproduce.
    #[arg(long)]
    pub(crate) strict: bool,
    /// How far apart two floats printed in text (or captured) may be and still match:
    /// |a - b| <= X * max(|a|, |b|, 1). 0 compares text exactly.
    #[arg(long, value_name = "X", default_value = "1e-9")]
    pub(crate) tolerance: f64,
    /// The longest one execution may take, in seconds; then the kernel is stopped and the
    /// rest is not run.
    #[arg(long, value_name = "S", default_value_t = 600.0,
          value_parser = positive_seconds)]
    pub(crate) timeout: f64,
    /// The longest the kernel may take to start, in seconds.
    #[arg(long, value_name = "S", default_value_t = 60.0, value_parser = positive_seconds)]
    pub(crate) startup_timeout: f64,
    /// The replay trial's name (default: replay-of-<T's name or id>, made unique).
    #[arg(long, value_name = "NAME")]
    pub(crate) name: Option<String>,
    /// Also write the report as HTML to FILE.html.
    #[arg(short = 'o', long = "output", value_name = "FILE.html")]
    pub(crate) output: Option<PathBuf>,
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s > 0.0 && s <= 1e6 => Ok(s),
        _ => Err(format!("{text:?} is not a number of seconds above 0")),
    }
}

/// Replays `trial` as `args` say.
pub(crate) fn run(
    store: &Store,
    trial: i64,
    args: &ReplayArgs,
    json: Option<Json>,
    out: &mut impl Write,
) -> Result<(), Failure> {
    if let Some(path) = &args.output {
        if extension(path).as_deref() != Some("html") {
            return Err(bad_extension(path, "FILE.html"));
        }
    }
    let options = Options {
        kernel: args.kernel.clone(),
        until: args.until.clone(),
        tolerance: args.tolerance,
        timeout: Duration::from_secs_f64(args.timeout),
        startup_timeout: Duration::from_secs_f64(args.startup_timeout),
        name: args.name.clone(),
    };
    let report = provreplay::replay(store.path(), trial, &options).map_err(|e| match e {
        ReplayError::Store(e) => Failure::from(e),
        ReplayError::Usage(message) => Failure::Exit { code: 2, message },
        ReplayError::Failed(message) => Failure::Exit { code: 1, message },
    })?;
    let rendered = provrender::render_replay(&report);
    if let Some(path) = &args.output {
        let what = format!("the replay report of trial {}", report.source_trial);
        // The text (or JSON) follows either way: the verdict belongs on the terminal too.
        let page = format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>replay of trial {}\
             </title></head>\n<body style=\"font-family:sans-serif\">\n{}\n</body></html>\n",
            report.source_trial, rendered.html
        );
        save(out, json, path, page.as_bytes(), &what)?;
    }
    match json {
        Some(j) => j.write(out, &rendered.json)?,
        None => text(out, &rendered.text)?,
    }
    let s = report.summary;
    if args.strict && s.differs + s.error > 0 {
        out.flush()?;
        return Err(Failure::Exit {
            code: 1,
            message: format!(
                "{} of {} executions did not reproduce (--strict)",
                s.differs + s.error,
                report.executions.len()
            ),
        });
    }
    Ok(())
}
