//! Install, uninstall and find against temporary folders. Every test builds
//! its own [`Env`] instead of setting environment variables, so the tests can
//! run in parallel.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap::Parser;
use tempfile::TempDir;

use super::*;

/// An environment confined to `root`: `$JUPYTER_PATH` = `root/jp`, user data
/// dir `root/user`, no active environment, no system dirs, no `$PATH`.
fn test_env(root: &Path) -> Env {
    Env {
        jupyter_path: vec![root.join("jp")],
        user_data_dir: Some(root.join("user")),
        cwd: root.to_path_buf(),
        ..Env::default()
    }
}

/// A stand-in for the prov-kernel binary (never run).
fn fake_exe(root: &Path) -> PathBuf {
    let exe = root.join("bin").join("prov-kernel");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    std::fs::write(&exe, "").unwrap();
    exe
}

/// Writes `kernels_dir/name/kernel.json` with `argv`.
fn put_spec(kernels_dir: &Path, name: &str, argv: &[&str]) -> PathBuf {
    let dir = kernels_dir.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let json = serde_json::json!({"argv": argv, "display_name": name, "language": "python"});
    std::fs::write(dir.join("kernel.json"), json.to_string()).unwrap();
    dir
}

fn read_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("kernel.json")).unwrap()).unwrap()
}

/// Interpreters worth trying: `$PROV_TEST_PYTHON`, the workspace's `.venv`,
/// the `python3` on `$PATH`.
fn candidate_pythons() -> Vec<PathBuf> {
    let env = Env {
        path: std::env::var_os("PATH"),
        ..Env::default()
    };
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    std::env::var_os("PROV_TEST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([venv])
        .filter(|p| p.is_file())
        .chain(python::resolve(None, &env).ok())
        .collect()
}

/// An interpreter with ipykernel, or `None` (after saying so) to skip a test.
fn kernel_python() -> Option<&'static Path> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let ok = |p: &PathBuf| python::probe(p, true).is_ok_and(|i| i.ipykernel_error.is_none());
        candidate_pythons().into_iter().find(ok)
    });
    if found.is_none() {
        eprintln!("note: skipped, no Python with ipykernel (set PROV_TEST_PYTHON to one)");
    }
    found.as_deref()
}

#[derive(Parser)]
enum Cli {
    Install(InstallArgs),
    Uninstall(UninstallArgs),
}

fn parse_install(args: &[&str]) -> Result<InstallArgs, clap::Error> {
    match Cli::try_parse_from(["prov-kernel", "install"].iter().chain(args))? {
        Cli::Install(a) => Ok(a),
        Cli::Uninstall(_) => unreachable!(),
    }
}

#[test]
fn cli_defaults_and_conflicts() {
    assert_eq!(parse_install(&[]).unwrap(), InstallArgs::default());
    let a = parse_install(&["--prefix", "p", "--name", "n", "--display-name", "D"]).unwrap();
    assert_eq!(a.location.prefix, Some(PathBuf::from("p")));
    assert_eq!((a.name.as_str(), a.display_name.as_str()), ("n", "D"));
    assert!(parse_install(&["--user", "--sys-prefix"]).is_err());
    assert!(parse_install(&["--user", "--prefix", "p"]).is_err());
    assert!(parse_install(&["--python", "p", "--wrap", "python3"]).is_err());
    let Cli::Uninstall(u) = Cli::try_parse_from(["prov-kernel", "uninstall", "--user"]).unwrap()
    else {
        panic!("not uninstall")
    };
    assert_eq!((u.name.as_str(), u.location.user), (DEFAULT_NAME, true));
    assert!(Cli::try_parse_from(["prov-kernel", "uninstall", "--user", "--sys-prefix"]).is_err());
}

#[test]
fn names_are_checked() {
    for ok in ["python-prov", "Py_3.x-1"] {
        spec::validate_name(ok).unwrap();
    }
    for bad in ["", "..", "has space", "a/b", "é"] {
        let err = spec::validate_name(bad).unwrap_err().to_string();
        assert!(err.contains("ASCII letters, digits"), "{err}");
    }
}

#[test]
fn install_writes_kernel_json_and_logos_then_replaces() {
    let Some(python) = kernel_python() else {
        return;
    };
    let tmp = TempDir::new().unwrap();
    let env = test_env(tmp.path());
    let exe = fake_exe(tmp.path());
    let args = InstallArgs {
        location: LocationArgs {
            prefix: Some("pfx".into()),
            ..LocationArgs::default()
        },
        python: Some(python.to_path_buf()),
        name: "My-Prov".into(),
        ..InstallArgs::default()
    };
    let first = install_with(&args, &exe, &env).unwrap();
    let dir = tmp.path().join("pfx/share/jupyter/kernels/my-prov");
    assert_eq!(
        (first.dir.as_path(), first.replaced),
        (dir.as_path(), false)
    );
    let recorded = python::resolve(Some(python), &env).unwrap();
    let expected = serde_json::json!({
        "argv": [exe, "run", "--python", recorded, "-f", "{connection_file}"],
        "display_name": "Python (prov)",
        "language": "python",
        "interrupt_mode": "message",
        "metadata": {"debugger": true},
        "kernel_protocol_version": "5.3",
    });
    assert_eq!(read_json(&dir), expected);
    for (file, bytes) in LOGOS {
        assert_eq!(std::fs::read(dir.join(file)).unwrap(), bytes);
    }
    std::fs::write(dir.join("stale.txt"), "").unwrap();
    let second = install_with(&args, &exe, &env).unwrap();
    assert!(
        second.replaced && second.to_string().contains("replaced"),
        "{second}"
    );
    assert!(!dir.join("stale.txt").exists());
    let names: Vec<_> = std::fs::read_dir(dir.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, ["my-prov"], "no staging folder left behind");
}

#[cfg(unix)]
#[test]
fn install_explains_missing_ipykernel() {
    let Some(python) = candidate_pythons().into_iter().next() else {
        eprintln!("note: skipped, no python3");
        return;
    };
    let tmp = TempDir::new().unwrap();
    // `-S` skips site-packages, so ipykernel cannot be imported.
    let no_site = tmp.path().join("python-nosite");
    std::fs::write(
        &no_site,
        format!("#!/bin/sh\nexec '{}' -S \"$@\"\n", python.display()),
    )
    .unwrap();
    make_executable(&no_site);
    let args = InstallArgs {
        python: Some(no_site.clone()),
        ..InstallArgs::default()
    };
    let err = install_with(&args, &fake_exe(tmp.path()), &test_env(tmp.path()))
        .unwrap_err()
        .to_string();
    let hint = format!("run `{} -m pip install ipykernel`", no_site.display());
    assert!(
        err.contains("does not have ipykernel installed") && err.contains(&hint),
        "{err}"
    );
}

#[test]
fn install_without_python3_on_path_says_to_pass_python() {
    let tmp = TempDir::new().unwrap();
    let env = Env {
        path: Some(tmp.path().as_os_str().to_owned()),
        ..test_env(tmp.path())
    };
    let err = install_with(&InstallArgs::default(), &fake_exe(tmp.path()), &env).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "no python3 on PATH; pass --python /path/to/python"
    );
    let missing = InstallArgs {
        python: Some("nope/python".into()),
        ..InstallArgs::default()
    };
    let err = install_with(&missing, &fake_exe(tmp.path()), &env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no such file"), "{err}");
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn python_on_path_keeps_the_file_symlink_but_resolves_the_folder() {
    let tmp = TempDir::new().unwrap();
    let real = tmp.path().join("real");
    std::fs::create_dir_all(&real).unwrap();
    std::fs::write(real.join("python3"), "").unwrap();
    make_executable(&real.join("python3"));
    // A venv's bin/python3 is a symlink to the base interpreter: keep it.
    let venv_bin = tmp.path().join("venv/bin");
    std::fs::create_dir_all(&venv_bin).unwrap();
    std::os::unix::fs::symlink(real.join("python3"), venv_bin.join("python3")).unwrap();
    let env = Env {
        path: Some(venv_bin.clone().into()),
        ..test_env(tmp.path())
    };
    let found = python::resolve(None, &env).unwrap();
    assert_eq!(found, venv_bin.canonicalize().unwrap().join("python3"));
    // A symlinked folder on PATH is resolved.
    std::os::unix::fs::symlink(&real, tmp.path().join("linked")).unwrap();
    let env = Env {
        path: Some("linked".into()),
        ..test_env(tmp.path())
    };
    assert_eq!(
        python::resolve(None, &env).unwrap(),
        real.canonicalize().unwrap().join("python3")
    );
    let relative = python::resolve(Some(Path::new("venv/bin/python3")), &env).unwrap();
    assert_eq!(relative, found);
}

fn info(prefix: &str, base_prefix: &str) -> python::Info {
    python::Info {
        prefix: prefix.into(),
        base_prefix: base_prefix.into(),
        ipykernel_error: None,
        version: "3.12.0".into(),
        ipykernel_version: None,
    }
}

#[test]
fn default_location_follows_the_python_environment() {
    let tmp = TempDir::new().unwrap();
    let env = test_env(tmp.path());
    let venv_python = (PathBuf::from("/venv/bin/python"), info("/venv", "/usr"));
    let plain_python = (PathBuf::from("/usr/bin/python3"), info("/usr", "/usr"));
    let default = LocationArgs::default();
    let dir = |loc: &LocationArgs, i: Option<&Interpreter>, env: &Env| {
        install_location(loc, i, env).unwrap().0
    };
    let user = tmp.path().join("user/kernels");
    assert_eq!(
        dir(&default, Some(&venv_python), &env),
        Path::new("/venv/share/jupyter/kernels")
    );
    assert_eq!(dir(&default, Some(&plain_python), &env), user);
    assert_eq!(dir(&default, None, &env), user);
    let in_venv = Env {
        virtual_env: Some("/active".into()),
        ..env.clone()
    };
    assert_eq!(
        dir(&default, Some(&plain_python), &in_venv),
        Path::new("/active/share/jupyter/kernels")
    );
    let user_flag = LocationArgs {
        user: true,
        ..LocationArgs::default()
    };
    assert_eq!(dir(&user_flag, Some(&venv_python), &in_venv), user);
    let sys_prefix = LocationArgs {
        sys_prefix: true,
        ..LocationArgs::default()
    };
    assert_eq!(
        dir(&sys_prefix, Some(&plain_python), &env),
        Path::new("/usr/share/jupyter/kernels")
    );
    let err = install_location(&sys_prefix, None, &env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("--prefix DIR"), "{err}");
    let no_home = Env {
        user_data_dir: None,
        ..env
    };
    let err = install_location(&default, None, &no_home)
        .unwrap_err()
        .to_string();
    assert!(err.contains("JUPYTER_DATA_DIR"), "{err}");
}

#[test]
fn wrap_records_the_spec_name_and_refuses_prov_kernel_specs() {
    let tmp = TempDir::new().unwrap();
    let env = test_env(tmp.path());
    let exe = fake_exe(tmp.path());
    let jp_kernels = tmp.path().join("jp/kernels");
    put_spec(
        &jp_kernels,
        "plain",
        &[
            "/nowhere/python3",
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
        ],
    );
    let wrap = |name: &str| InstallArgs {
        wrap: Some(name.into()),
        ..InstallArgs::default()
    };
    // No interpreter answers in this Env, so the default is the user dir.
    let done = install_with(&wrap("plain"), &exe, &env).unwrap();
    assert_eq!(done.dir, tmp.path().join("user/kernels/python-prov"));
    let argv = read_json(&done.dir)["argv"].clone();
    assert_eq!(
        argv,
        serde_json::json!([exe, "run", "--wrap", "plain", "-f", "{connection_file}"])
    );
    // The spec just installed runs prov-kernel: wrapping it would recurse.
    let err = install_with(&wrap("python-prov"), &exe, &env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("runs prov-kernel itself"), "{err}");
    let exe_copy_name = tmp.path().join("bin/other-name");
    std::fs::rename(&exe, &exe_copy_name).unwrap();
    put_spec(
        &jp_kernels,
        "same-file",
        &[exe_copy_name.to_str().unwrap(), "run"],
    );
    let err = install_with(&wrap("same-file"), &exe_copy_name, &env)
        .unwrap_err()
        .to_string();
    assert!(err.contains("runs prov-kernel itself"), "{err}");
    let err = install_with(&wrap("absent"), &exe_copy_name, &env)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no kernelspec named `absent`") && err.contains("plain, python-prov"),
        "{err}"
    );
}

#[test]
fn find_searches_in_order_and_lists_names_when_missing() {
    let tmp = TempDir::new().unwrap();
    let first = tmp.path().join("a/kernels");
    let second = tmp.path().join("b/kernels");
    put_spec(&second, "shared", &["second"]);
    put_spec(
        &first,
        "Shared",
        &["first", "-f", "{connection_file}", "{resource_dir}/x"],
    );
    put_spec(&second, "only-b", &["b"]);
    put_spec(&second, "bad~partial-1", &["ignored"]);
    std::fs::create_dir_all(second.join("no-json")).unwrap();
    let dirs = [first.clone(), second.clone()];
    let spec = spec::find_in("SHARED", &dirs).unwrap();
    assert_eq!(spec.dir, first.join("Shared"));
    assert_eq!(spec.language.as_deref(), Some("python"));
    let cmd = spec.command(Path::new("/run/conn.json"));
    let resource = format!("{}/x", first.join("Shared").display());
    assert_eq!(cmd, ["first", "-f", "/run/conn.json", resource.as_str()]);
    assert_eq!(spec::find_in("only-b", &dirs).unwrap().argv, ["b"]);
    let err = spec::find_in("missing", &dirs).unwrap_err().to_string();
    assert!(err.contains("kernelspecs found: only-b, shared ("), "{err}");
}

#[test]
fn kernel_spec_reads_env_and_interrupt_mode() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("k");
    std::fs::create_dir_all(&dir).unwrap();
    let json = r#"{"argv": ["x"], "display_name": "X", "env": {"A": "1"}, "interrupt_mode": "message", "other": 1}"#;
    std::fs::write(dir.join("kernel.json"), json).unwrap();
    let spec = KernelSpec::load(&dir).unwrap();
    assert_eq!(spec.env.get("A").map(String::as_str), Some("1"));
    assert_eq!(
        (spec.interrupt_mode.as_deref(), spec.language),
        (Some("message"), None)
    );
    std::fs::write(
        dir.join("kernel.json"),
        r#"{"argv": [], "display_name": "X"}"#,
    )
    .unwrap();
    assert!(KernelSpec::load(&dir)
        .unwrap_err()
        .to_string()
        .contains("empty argv"));
}

#[test]
fn uninstall_removes_prov_specs_everywhere_and_keeps_others() {
    let tmp = TempDir::new().unwrap();
    let mut env = test_env(tmp.path());
    env.jupyter_path.push(tmp.path().join("pfx/share/jupyter"));
    let exe = fake_exe(tmp.path());
    put_spec(&tmp.path().join("jp/kernels"), "plain", &["python3"]);
    let wrap_plain = InstallArgs {
        wrap: Some("plain".into()),
        ..InstallArgs::default()
    };
    let in_prefix = InstallArgs {
        location: LocationArgs {
            prefix: Some("pfx".into()),
            ..LocationArgs::default()
        },
        ..wrap_plain.clone()
    };
    let user_dir = install_with(&wrap_plain, &exe, &env).unwrap().dir;
    let prefix_dir = install_with(&in_prefix, &exe, &env).unwrap().dir;
    let foreign = put_spec(&tmp.path().join("jp/kernels"), DEFAULT_NAME, &["python3"]);
    let removed = uninstall_with(&UninstallArgs::default(), &env, None).unwrap();
    assert_eq!(removed.dirs, [prefix_dir.clone(), user_dir.clone()]);
    assert_eq!(removed.kept.len(), 1);
    assert!(
        removed
            .to_string()
            .contains("jupyter kernelspec remove python-prov"),
        "{removed}"
    );
    assert!(!user_dir.exists() && !prefix_dir.exists() && foreign.exists());
    let err = uninstall_with(&UninstallArgs::default(), &env, None)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no prov-kernel kernelspec `python-prov` to remove"),
        "{err}"
    );
    let user_only = UninstallArgs {
        location: LocationArgs {
            user: true,
            ..LocationArgs::default()
        },
        ..UninstallArgs::default()
    };
    let err = uninstall_with(&user_only, &env, None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not installed (searched"), "{err}");
}

#[test]
fn logos_are_pngs_of_the_named_size_and_an_svg() {
    for (file, bytes) in LOGOS {
        if let Some(size) = file.strip_prefix("logo-").and_then(|f| f.split('x').next()) {
            if file.ends_with(".png") {
                let size: u32 = size.parse().unwrap();
                assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{file}");
                let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
                let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
                assert_eq!((width, height), (size, size), "{file}");
                continue;
            }
        }
        assert!(
            std::str::from_utf8(bytes).unwrap().starts_with("<svg"),
            "{file}"
        );
    }
}

/// The kernelspec the wheel installs (packaging/prov_kernel.data) is the one `install` writes,
/// with an argv that finds prov-kernel from the spec's own folder: pip puts the spec in
/// `<prefix>/share/jupyter/kernels/python-prov` and the binary in `<prefix>/bin`.
#[test]
fn wheel_kernelspec_is_installs_with_a_resource_dir_argv() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../packaging/prov_kernel.data/data")
        .canonicalize()
        .unwrap();
    let spec_dir = data.join("share/jupyter/kernels").join(DEFAULT_NAME);
    let argv0 = "{resource_dir}/../../../../bin/prov-kernel";
    let argv: Vec<String> = [argv0, "run", "-f", "{connection_file}"]
        .map(String::from)
        .into();
    assert_eq!(
        read_json(&spec_dir),
        kernel_json(&argv, DEFAULT_DISPLAY_NAME),
        "packaging/prov_kernel.data/.../kernel.json differs from what `prov-kernel install` \
         writes: update it"
    );
    for (file, bytes) in LOGOS {
        assert_eq!(std::fs::read(spec_dir.join(file)).unwrap(), bytes, "{file}");
    }
    let from_spec = argv0.replace("{resource_dir}", &spec_dir.to_string_lossy());
    let normalized: PathBuf =
        Path::new(&from_spec)
            .components()
            .fold(PathBuf::new(), |p, c| match c {
                std::path::Component::ParentDir => p.parent().unwrap().to_path_buf(),
                c => p.join(c),
            });
    assert_eq!(normalized, data.join("bin/prov-kernel"));
}

#[cfg(unix)]
#[test]
fn default_python_is_the_one_beside_the_binary() {
    let tmp = TempDir::new().unwrap();
    let exe = fake_exe(tmp.path());
    assert_eq!(python::beside_kernel(&exe), None);
    // A venv's bin/ has python3 and python; python3 wins; a link to the binary still finds it.
    let bin = tmp.path().join("bin").canonicalize().unwrap();
    for name in ["python", "python3"] {
        std::fs::write(bin.join(name), "").unwrap();
        make_executable(&bin.join(name));
    }
    assert_eq!(python::beside_kernel(&exe), Some(bin.join("python3")));
    let link = tmp.path().join("prov-kernel-link");
    std::os::unix::fs::symlink(&exe, &link).unwrap();
    assert_eq!(python::default_python(&link).unwrap(), bin.join("python3"));
    // Not executable: not a Python.
    std::fs::remove_file(bin.join("python3")).unwrap();
    std::fs::write(bin.join("python3"), "").unwrap();
    assert_eq!(python::beside_kernel(&exe), Some(bin.join("python")));
}

#[test]
fn ipykernel_must_be_7_or_newer() {
    let with = |v: Option<&str>| python::Info {
        ipykernel_version: v.map(String::from),
        ..info("/p", "/p")
    };
    assert_eq!(with(Some("7.0.0a1")).ipykernel_is_recent(), Some(true));
    assert_eq!(with(Some("10.1")).ipykernel_is_recent(), Some(true));
    assert_eq!(with(Some("6.29.5")).ipykernel_is_recent(), Some(false));
    assert_eq!(with(None).ipykernel_is_recent(), None);
}

/// From the wheel, `prov-kernel install` with no --python records its own environment's
/// Python, not whatever python3 the shell has first on PATH.
#[cfg(unix)]
#[test]
fn install_defaults_to_the_python_beside_the_binary() {
    let Some(python) = kernel_python() else {
        return;
    };
    let tmp = TempDir::new().unwrap();
    let exe = fake_exe(tmp.path());
    let bin = exe.parent().unwrap().canonicalize().unwrap();
    // A script rather than a link: a link out of a venv would lose the venv's site-packages.
    let script = format!("#!/bin/sh\nexec '{}' \"$@\"\n", python.display());
    std::fs::write(bin.join("python3"), script).unwrap();
    make_executable(&bin.join("python3"));
    let args = InstallArgs {
        location: LocationArgs {
            prefix: Some("pfx".into()),
            ..LocationArgs::default()
        },
        ..InstallArgs::default()
    };
    let installed = install_with(&args, &exe, &test_env(tmp.path())).unwrap();
    let beside = bin.join("python3").to_string_lossy().into_owned();
    assert_eq!(installed.argv[2..4], ["--python".to_string(), beside]);
}
