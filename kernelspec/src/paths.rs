//! Jupyter's data directories, computed from an explicit [`Env`] so that tests
//! can point them at temporary folders without touching process-wide state.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The parts of the process environment that decide where kernelspecs live.
///
/// Read once from the real environment by [`Env::from_process`]; tests build
/// one by hand instead of mutating environment variables, because tests run in
/// parallel threads of one process.
#[derive(Debug, Clone, Default)]
pub(crate) struct Env {
    /// `$JUPYTER_PATH` entries (data dirs, without `/kernels`).
    pub jupyter_path: Vec<PathBuf>,
    /// Jupyter's per-user data dir, if one can be determined.
    pub user_data_dir: Option<PathBuf>,
    /// The prefix of the active Python environment (`$VIRTUAL_ENV`, else a
    /// conda env's `$CONDA_PREFIX`).
    pub env_prefix: Option<PathBuf>,
    /// `$VIRTUAL_ENV` alone: the install default treats an active venv as a
    /// request for a sys-prefix install.
    pub virtual_env: Option<PathBuf>,
    /// Whether environment dirs come before the user dir (jupyter_core >= 5).
    pub prefer_env: bool,
    /// System-wide data dirs, searched last.
    pub system_dirs: Vec<PathBuf>,
    /// `$PATH`, for finding `python3`.
    pub path: Option<OsString>,
    /// The working directory, for making relative paths absolute.
    pub cwd: PathBuf,
}

impl Env {
    /// Reads the real process environment.
    pub fn from_process() -> anyhow::Result<Env> {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let virtual_env = var("VIRTUAL_ENV").map(PathBuf::from);
        let conda_prefix = var("CONDA_PREFIX").map(PathBuf::from);
        let conda_not_base = conda_prefix.is_some()
            && var("CONDA_DEFAULT_ENV").is_none_or(|e| e.as_os_str() != "base");
        // jupyter_core: an explicit JUPYTER_PREFER_ENV_PATH wins; otherwise
        // environment dirs are preferred inside a venv or a non-base conda env.
        let prefer_env = match std::env::var_os("JUPYTER_PREFER_ENV_PATH") {
            Some(v) => env_flag_set(&v.to_string_lossy()),
            None => virtual_env.is_some() || conda_not_base,
        };
        Ok(Env {
            jupyter_path: var("JUPYTER_PATH")
                .map(|p| {
                    std::env::split_paths(&p)
                        .filter(|d| !d.as_os_str().is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            user_data_dir: user_data_dir(var("JUPYTER_DATA_DIR"), var("XDG_DATA_HOME"), home_dir()),
            env_prefix: virtual_env.clone().or(conda_prefix),
            virtual_env,
            prefer_env,
            system_dirs: system_data_dirs(),
            path: std::env::var_os("PATH"),
            cwd: std::env::current_dir()?,
        })
    }

    /// The `kernels` folders Jupyter searches, highest priority first:
    /// `$JUPYTER_PATH` entries, then the user data dir and the active
    /// environment's `share/jupyter` (environment first when
    /// [`Env::prefer_env`]), then the system dirs. Duplicates are dropped.
    pub fn kernel_dirs(&self) -> Vec<PathBuf> {
        let user = self.user_data_dir.iter().cloned();
        let env = self.env_prefix.iter().map(|p| share_jupyter(p));
        let middle: Vec<PathBuf> = if self.prefer_env {
            env.chain(user).collect()
        } else {
            user.chain(env).collect()
        };
        let mut dirs: Vec<PathBuf> = Vec::new();
        let all = self
            .jupyter_path
            .iter()
            .cloned()
            .chain(middle)
            .chain(self.system_dirs.iter().cloned());
        for d in all.map(|d| d.join("kernels")) {
            if !dirs.contains(&d) {
                dirs.push(d);
            }
        }
        dirs
    }

    /// The user `kernels` folder, or an error saying how to pick another one.
    pub fn user_kernels_dir(&self) -> anyhow::Result<PathBuf> {
        match &self.user_data_dir {
            Some(d) => Ok(d.join("kernels")),
            None => anyhow::bail!(
                "cannot find Jupyter's user data dir: $HOME is not set; \
                 set JUPYTER_DATA_DIR or pass --prefix DIR"
            ),
        }
    }

    /// `path` made absolute against [`Env::cwd`] (no symlinks resolved).
    pub fn absolute(&self, path: &Path) -> PathBuf {
        self.cwd.join(path)
    }
}

/// `<prefix>/share/jupyter`, the data dir of an installation prefix.
pub(crate) fn share_jupyter(prefix: &Path) -> PathBuf {
    prefix.join("share").join("jupyter")
}

/// Folders as a comma-separated list, for error messages that say where
/// something was looked for.
pub(crate) fn list_dirs(dirs: &[PathBuf]) -> String {
    let shown: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    shown.join(", ")
}

/// jupyter_core's `envset`: set unless it reads as false.
fn env_flag_set(value: &str) -> bool {
    !matches!(
        value.to_ascii_lowercase().as_str(),
        "no" | "n" | "false" | "off" | "0" | "0.0"
    )
}

fn home_dir() -> Option<PathBuf> {
    let home = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(home)
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// Jupyter's user data dir, as jupyter_core computes it: `$JUPYTER_DATA_DIR`,
/// else `~/Library/Jupyter` on macOS, `%APPDATA%\jupyter` on Windows, and
/// `$XDG_DATA_HOME/jupyter` or `~/.local/share/jupyter` elsewhere.
pub(crate) fn user_data_dir(
    jupyter_data_dir: Option<OsString>,
    xdg_data_home: Option<OsString>,
    home: Option<PathBuf>,
) -> Option<PathBuf> {
    if let Some(d) = jupyter_data_dir {
        return Some(d.into());
    }
    if cfg!(target_os = "macos") {
        return home.map(|h| h.join("Library").join("Jupyter"));
    }
    if cfg!(windows) {
        if let Some(appdata) = std::env::var_os("APPDATA").filter(|a| !a.is_empty()) {
            return Some(PathBuf::from(appdata).join("jupyter"));
        }
        return home.map(|h| h.join(".jupyter").join("data"));
    }
    let xdg = xdg_data_home
        .map(PathBuf::from)
        .or_else(|| home.map(|h| h.join(".local").join("share")));
    xdg.map(|x| x.join("jupyter"))
}

/// System-wide data dirs. jupyter_core uses none on Windows by default.
fn system_data_dirs() -> Vec<PathBuf> {
    if cfg!(windows) {
        Vec::new()
    } else {
        vec![
            "/usr/local/share/jupyter".into(),
            "/usr/share/jupyter".into(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_dir_prefers_jupyter_data_dir_then_xdg_then_home() {
        let home = Some(PathBuf::from("/home/u"));
        assert_eq!(
            user_data_dir(Some("/j".into()), Some("/x".into()), home.clone()),
            Some(PathBuf::from("/j"))
        );
        if cfg!(target_os = "linux") {
            assert_eq!(
                user_data_dir(None, Some("/x".into()), home.clone()),
                Some(PathBuf::from("/x/jupyter"))
            );
            assert_eq!(
                user_data_dir(None, None, home),
                Some(PathBuf::from("/home/u/.local/share/jupyter"))
            );
            assert_eq!(user_data_dir(None, None, None), None);
        }
    }

    fn env() -> Env {
        Env {
            jupyter_path: vec!["/jp1".into(), "/jp2".into()],
            user_data_dir: Some("/user".into()),
            env_prefix: Some("/venv".into()),
            system_dirs: vec!["/sys".into(), "/user".into()],
            ..Env::default()
        }
    }

    #[test]
    fn kernel_dirs_follow_jupyters_order() {
        let k = |s: &str| PathBuf::from(s).join("kernels");
        assert_eq!(
            env().kernel_dirs(),
            [
                k("/jp1"),
                k("/jp2"),
                k("/user"),
                k("/venv/share/jupyter"),
                k("/sys")
            ]
        );
        let prefer_env = Env {
            prefer_env: true,
            ..env()
        };
        assert_eq!(
            prefer_env.kernel_dirs(),
            [
                k("/jp1"),
                k("/jp2"),
                k("/venv/share/jupyter"),
                k("/user"),
                k("/sys")
            ]
        );
    }

    #[test]
    fn env_flag_reads_like_jupyter_core() {
        assert!(env_flag_set("1") && env_flag_set("yes") && env_flag_set("True"));
        assert!(!env_flag_set("0") && !env_flag_set("off") && !env_flag_set("FALSE"));
    }
}
