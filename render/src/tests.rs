//! The renderer on hand-made data: the JSON contracts, aligned text, escaped
//! HTML.

use provstore::{ErrorInfo, ExecStatus, OutputSummary, TrialStatus};

use super::*;

pub(crate) fn trial(id: i64, name: Option<&str>) -> TrialSummary {
    TrialSummary {
        id,
        uuid: format!("00000000-0000-4000-8000-00000000000{id}"),
        name: name.map(String::from),
        started_at: "2026-11-21T16:30:02.630Z".into(),
        ended_at: None,
        status: TrialStatus::Running,
        notebook: Some("analysis.ipynb".into()),
        executions: 2,
        cwd: "/home/me/project".into(),
        python_version: Some("3.12.1".into()),
        ipykernel_version: None,
        platform: "linux-x86_64".into(),
        hostname: "box".into(),
        pid: 4242,
        user: Some("ada".into()),
    }
}

fn execution(order: i64, code: &str, text: Option<&str>) -> ExecutionDetail {
    ExecutionDetail {
        id: order + 100,
        order,
        msg_id: format!("m{order}"),
        execution_count: Some(order),
        cell_id: Some("c1".into()),
        code: code.into(),
        code_sha256: "ab".repeat(32),
        status: ExecStatus::Ok,
        started_at: "2026-11-21T16:30:03.630Z".into(),
        ended_at: "2026-11-21T16:30:03.642Z".into(),
        duration_ms: 12,
        error: None,
        outputs: text
            .map(|t| OutputSummary {
                output_type: "stream".into(),
                name: Some("stdout".into()),
                mime_types: vec!["text/plain".into()],
                text: Some(t.into()),
                payloads: vec![],
            })
            .into_iter()
            .collect(),
    }
}

#[test]
fn trials_json_is_the_provctl_contract() {
    let r = render_trials(&[trial(1, Some("baseline")), trial(2, None)], None);
    let arr = r.json.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    let t = &arr[0];
    for key in [
        "id",
        "uuid",
        "name",
        "started_at",
        "ended_at",
        "status",
        "notebook",
        "executions",
    ] {
        assert!(t.get(key).is_some(), "missing {key}");
    }
    assert_eq!(t["id"], 1);
    assert_eq!(t["name"], "baseline");
    assert_eq!(t["status"], "running");
    assert_eq!(t["executions"], 2);
    assert!(arr[1]["name"].is_null() && arr[1]["ended_at"].is_null());
}

#[test]
fn trials_text_is_aligned_and_marks_this_kernel() {
    let r = render_trials(&[trial(1, Some("baseline")), trial(12, None)], Some(12));
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(lines[0], "2 trials");
    let header = lines[1];
    let status_col = header.find("status").unwrap();
    assert_eq!(lines[2].find("running"), Some(status_col));
    assert_eq!(lines[3].find("running"), Some(status_col));
    assert!(lines[3].starts_with('*'), "{}", lines[3]);
    assert!(r.text.contains("this kernel"));
    assert!(
        lines.iter().all(|l| l.trim_end() == *l),
        "no trailing blanks"
    );
    assert!(r.html.contains("this kernel"));
}

#[test]
fn trials_show_a_notebook_inside_its_folder_by_its_relative_path() {
    let mut inside = trial(1, Some("inside"));
    inside.notebook = Some("/home/me/project/runs/fit.ipynb".into());
    let mut outside = trial(2, Some("outside"));
    outside.notebook = Some("/srv/shared/fit.ipynb".into());
    let r = render_trials(&[inside, outside], None);
    assert!(r.text.contains(" runs/fit.ipynb "), "{}", r.text);
    assert!(!r.text.contains("/home/me/project/runs"), "{}", r.text);
    assert!(r.text.contains("/srv/shared/fit.ipynb"), "{}", r.text);
    assert!(r.html.contains("runs/fit.ipynb") && !r.html.contains("/home/me/project/runs"));
    // The JSON keeps the whole path: scripts get what was recorded.
    assert_eq!(r.json[0]["notebook"], "/home/me/project/runs/fit.ipynb");
}

#[test]
fn show_json_is_the_provctl_contract() {
    let mut failed = execution(2, "1/0", None);
    failed.status = ExecStatus::Error;
    failed.error = Some(ErrorInfo {
        ename: "ZeroDivisionError".into(),
        evalue: "division by zero".into(),
        traceback: vec![],
    });
    let r = render_trial(
        &trial(1, None),
        &[execution(1, "print('hi')", Some("hi\n")), failed],
    );
    assert_eq!(r.json["trial"]["id"], 1);
    let execs = r.json["executions"].as_array().unwrap();
    for key in [
        "execution_count",
        "cell_id",
        "code",
        "code_sha256",
        "status",
        "started_at",
        "duration_ms",
        "outputs",
    ] {
        assert!(execs[0].get(key).is_some(), "missing {key}");
    }
    assert_eq!(execs[0]["outputs"][0]["output_type"], "stream");
    assert_eq!(execs[0]["outputs"][0]["mime_types"][0], "text/plain");
    assert_eq!(execs[1]["status"], "error");
    assert_shows(
        &r.text,
        &["ZeroDivisionError: division by zero", "print('hi')", " hi"],
    );
    assert!(
        r.text.starts_with("Trial 1: running, 2 executions\n"),
        "{}",
        r.text
    );
}

#[test]
fn log_json_is_an_array_of_executions_with_their_trial() {
    let entries = vec![LogEntry {
        trial_id: 3,
        trial_name: Some("base".into()),
        execution: execution(7, "x", None),
    }];
    let r = render_log(&entries);
    let e = &r.json.as_array().unwrap()[0];
    assert_eq!(e["trial_id"], 3);
    assert_eq!(e["trial_name"], "base");
    assert_eq!(e["code"], "x");
    assert_eq!(e["order"], 7);
    assert!(r.text.contains("3 base"));
}

#[test]
fn html_is_escaped_and_script_free() {
    let evil = "<script>alert('x')</script> & \"quotes\"";
    let r = render_trial(&trial(1, Some(evil)), &[execution(1, evil, Some(evil))]);
    assert!(!r.html.contains("<script"), "{}", r.html);
    assert!(r.html.contains("&lt;script&gt;"));
    assert!(r.html.contains("&amp; &quot;quotes&quot;"));
    let e = render_error(evil);
    assert!(!e.html.contains("<script"));
    assert_eq!(e.json["error"], evil);
}

#[test]
fn code_previews_are_one_short_line() {
    let long = format!("x = {}\ny = 2", "1 + ".repeat(40));
    let p = text::preview(&long, 20);
    assert_eq!(p.chars().count(), 20);
    assert!(p.ends_with('…'));
    assert_eq!(text::preview("a = 1\n\nb = 2", 20), "a = 1 …");
    assert_eq!(text::preview("\n\n  pass\n", 20), "  pass");
    assert_eq!(text::preview("\u{1b}[31mred\u{1b}[0m\tx", 20), "red    x");
}

#[test]
fn durations_and_times_read_well() {
    assert_eq!(text::duration(12), "12 ms");
    assert_eq!(text::duration(3456), "3.5 s");
    assert_eq!(text::duration(125_000), "2 min 05 s");
    assert_eq!(text::duration(3_720_000), "1 h 02 min");
    assert_eq!(
        text::when("2026-11-21T16:30:02.630Z"),
        "2026-11-21 16:30:02"
    );
    assert_eq!(text::when("garbage"), "garbage");
}

#[test]
fn help_lists_every_magic_in_all_forms() {
    let magics = [
        ("prov", "%prov [help]", "List the prov magics."),
        ("trials", "%trials", "List the trials of this store."),
        ("trial_name", "%trial_name NAME", "Name the current trial."),
    ];
    let r = render_help(&magics);
    assert_eq!(r.json["magics"].as_array().unwrap().len(), 3);
    assert_eq!(r.json["magics"][2]["usage"], "%trial_name NAME");
    assert!(
        r.text
            .contains("  %trial_name NAME  Name the current trial."),
        "{}",
        r.text
    );
    assert!(r.html.contains("%trial_name NAME"));
    let bundle = r.mime_bundle();
    assert_eq!(
        bundle.keys().collect::<Vec<_>>(),
        ["text/html", "text/plain"]
    );
    assert!(r.picture().is_none());
    // The usage column wraps inside the output instead of running off its right edge.
    assert!(r.html.contains("overflow-x:auto"), "{}", r.html);
}

/// The PNG of a picture's `image/png` (base64), decoded; written to `$PROV_PICTURES/NAME.png`
/// when that is set, to look at.
pub(crate) fn decode_png(data: &Value) -> resvg::tiny_skia::Pixmap {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.as_str().expect("base64 text"))
        .expect("valid base64");
    resvg::tiny_skia::Pixmap::decode_png(&bytes).expect("a PNG")
}

/// Text was drawn: the title row (the picture's first 30 px, where only text is) has
/// dark opaque pixels (on the light panel) in several separate runs, as letters make. Saves the picture to
/// `$PROV_PICTURES/NAME.png` when that is set, to look at.
/// A pixel of text ink: opaque and near black (outlines, edges and the accent are lighter).
fn is_ink(p: resvg::tiny_skia::PremultipliedColorU8) -> bool {
    let luma = (u32::from(p.red()) * 3 + u32::from(p.green()) * 6 + u32::from(p.blue())) / 10;
    p.alpha() > 200 && luma < 70
}

/// The picture sits on an opaque light panel: the pixels just inside its corners and at
/// its centre-left edge are near-white and opaque, so it reads the same on any page.
pub(crate) fn assert_light_panel(png: &resvg::tiny_skia::Pixmap) {
    let (w, h) = (png.width() as usize, png.height() as usize);
    for (x, y) in [(8, 8), (w - 9, 8), (8, h - 9), (w - 9, h - 9), (4, h / 2)] {
        let p = png.pixels()[y * w + x];
        assert!(
            p.alpha() == 255 && p.red() > 240 && p.green() > 240 && p.blue() > 240,
            "pixel ({x}, {y}) of {w}x{h} is {p:?}, not the light panel"
        );
    }
}

pub(crate) fn assert_text_drawn(png: &resvg::tiny_skia::Pixmap, name: &str) {
    if let Ok(dir) = std::env::var("PROV_PICTURES") {
        png.save_png(std::path::Path::new(&dir).join(format!("{name}.png")))
            .unwrap();
    }
    let width = png.width() as usize;
    let rows = 60.min(png.height() as usize);
    let mut runs = 0;
    for column_has_ink in (0..width)
        .map(|x| (0..rows).any(|y| is_ink(png.pixels()[y * width + x])))
        .collect::<Vec<_>>()
        .windows(2)
    {
        if !column_has_ink[0] && column_has_ink[1] {
            runs += 1;
        }
    }
    assert!(
        runs >= 5,
        "{name}: {runs} runs of ink in the title row: no text drawn?"
    );
}

#[test]
fn confirmations_carry_their_data() {
    let mut t = trial(4, Some("final"));
    t.status = TrialStatus::Finished;
    let r = render_trial_named(&t);
    assert_eq!(r.text, "Trial 4 is now named \"final\".\n");
    assert_eq!(r.json["trial"]["name"], "final");
    assert_eq!(r.json["message"], "Trial 4 is now named \"final\".");
    assert_eq!(
        render_confirmation("done", Value::Null).json,
        json!({"message": "done"})
    );
}

#[test]
fn empty_lists_say_so() {
    assert!(render_trials(&[], None).text.contains("No trials"));
    assert_eq!(render_trials(&[], None).json, json!([]));
    assert!(render_log(&[]).text.contains("No executions"));
    let r = render_trial(&trial(1, None), &[]);
    assert!(r.text.contains("No executions"));
    assert_eq!(r.json["executions"], json!([]));
}

/// Asserts that `shown` (a rendered text, HTML or SVG) holds every one of `parts`, naming the
/// missing one and printing all of `shown`.
#[track_caller]
pub(crate) fn assert_shows(shown: &str, parts: &[&str]) {
    for part in parts {
        assert!(shown.contains(part), "{part:?} is not in:\n{shown}");
    }
}

#[test]
#[should_panic(expected = "\"absent\" is not in:\npresent")]
fn assert_shows_names_the_missing_part() {
    assert_shows("present", &["present", "absent"]);
}

/// A minimal XML well-formedness check: balanced tags, quoted attributes,
/// known entities. Returns the element names in document order.
pub(crate) fn xml_elements(xml: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut open: Vec<String> = Vec::new();
    let mut rest = xml;
    while let Some(lt) = rest.find('<') {
        check_text(&rest[..lt]);
        let gt = rest[lt..].find('>').expect("unclosed tag") + lt;
        let tag = &rest[lt + 1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                open.pop().as_deref(),
                Some(name.trim()),
                "mismatched </{name}>"
            );
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
        let name = &tag[..name_end];
        assert!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == ':'),
            "bad name {name:?}"
        );
        // Attributes: name="value" pairs, values without < or raw &.
        let mut attrs = tag[name_end..].trim();
        while !attrs.is_empty() {
            let eq = attrs.find("=\"").expect("attribute without =\"");
            let after = &attrs[eq + 2..];
            let close = after.find('"').expect("unquoted attribute");
            assert!(!after[..close].contains('<'), "< in an attribute");
            check_text(&after[..close]);
            attrs = after[close + 1..].trim_start();
        }
        names.push(name.to_string());
        if !self_closing {
            open.push(name.to_string());
        }
    }
    check_text(rest);
    assert!(open.is_empty(), "unclosed elements {open:?}");
    names
}

fn check_text(text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        let semi = rest[amp..].find(';').expect("& without ;") + amp;
        let entity = &rest[amp + 1..semi];
        assert!(
            ["amp", "lt", "gt", "quot", "#39"].contains(&entity),
            "unknown entity &{entity};"
        );
        rest = &rest[semi + 1..];
    }
}
