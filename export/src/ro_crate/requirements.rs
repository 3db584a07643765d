//! The trial's environment as a `requirements.txt`: each package the user's code imported, at
//! the version it had (`trial_packages`), with the interpreter and platform as comments.
//!
//! The store keeps import names (`sklearn`), which are not always what pip installs
//! (`scikit-learn`; `pip install sklearn` even fails on purpose). The best-known mismatches are
//! mapped; an import name not listed is written as it is.

use provstore::TrialSummary;

/// Import name -> distribution name, where they differ (sorted by import name).
pub(super) const DISTRIBUTIONS: &[(&str, &str)] = &[
    ("Bio", "biopython"),
    ("Crypto", "pycryptodome"),
    ("OpenSSL", "pyOpenSSL"),
    ("PIL", "pillow"),
    ("attr", "attrs"),
    ("bs4", "beautifulsoup4"),
    ("cv2", "opencv-python"),
    ("dateutil", "python-dateutil"),
    ("docx", "python-docx"),
    ("dotenv", "python-dotenv"),
    ("gi", "PyGObject"),
    ("git", "GitPython"),
    ("grpc", "grpcio"),
    ("jose", "python-jose"),
    ("jwt", "PyJWT"),
    ("magic", "python-magic"),
    ("mpl_toolkits", "matplotlib"),
    ("multipart", "python-multipart"),
    ("nacl", "PyNaCl"),
    ("pkg_resources", "setuptools"),
    ("serial", "pyserial"),
    ("skimage", "scikit-image"),
    ("sklearn", "scikit-learn"),
    ("slugify", "python-slugify"),
    ("websocket", "websocket-client"),
    ("yaml", "PyYAML"),
    ("zmq", "pyzmq"),
];

/// What pip installs to import `name`.
pub(super) fn distribution(name: &str) -> &str {
    DISTRIBUTIONS
        .binary_search_by(|(import, _)| import.cmp(&name))
        .map(|i| DISTRIBUTIONS[i].1)
        .unwrap_or(name)
}

/// The `requirements.txt` of `trial`, whose code imported `packages` (`(import name,
/// version)`).
pub(super) fn requirements_txt(trial: &TrialSummary, packages: &[(String, String)]) -> String {
    let mut out = format!(
        "# The packages {} imported, at the versions it ran with (recorded by prov).\n",
        crate::notebook::trial_words(trial)
    );
    if let Some(python) = &trial.python_version {
        out.push_str(&format!("# Python {python}"));
        if let Some(ipykernel) = &trial.ipykernel_version {
            out.push_str(&format!(", ipykernel {ipykernel}"));
        }
        out.push('\n');
    }
    out.push_str(&format!("# Platform: {}\n", trial.platform));
    if packages.is_empty() {
        out.push_str("# (the trial's code imported no package outside the standard library)\n");
    }
    let mut lines: Vec<String> = packages
        .iter()
        .map(|(name, version)| format!("{}=={version}\n", distribution(name)))
        .collect();
    lines.sort_by_key(|l| l.to_lowercase());
    lines.dedup();
    out.extend(lines);
    out
}
