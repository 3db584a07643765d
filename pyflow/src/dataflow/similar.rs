//! "Did you mean": current names close to one that is not there, for the
//! engine's and the store's unknown-variable errors.

use super::Dataflow;

impl Dataflow {
    /// Current variables whose name is close to `var` (same name in another
    /// case, prefix either way, or a small edit distance), best first; for
    /// "unknown variable" errors.
    pub fn similar_names(&self, var: &str) -> Vec<String> {
        let live = self
            .names
            .iter()
            .zip(&self.state)
            .filter(|(name, st)| !st.live.is_empty() && !super::is_file_name(name))
            .map(|(name, _)| name.as_str());
        similar_names(var, live)
    }
}

/// Names close to `var` (same name in another case, prefix either way, or a small edit
/// distance), best first, at most 8: the suggestions of an unknown-variable error, shared by
/// the engine and the store.
pub fn similar_names<'a>(var: &str, names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let lower = var.to_lowercase();
    let limit = (var.chars().count() / 3).max(1);
    let mut scored: Vec<(usize, &str)> = names
        .into_iter()
        .filter_map(|name| {
            let nl = name.to_lowercase();
            // Levenshtein distance in characters.
            let distance = strsim::levenshtein(&lower, &nl);
            let prefix = !lower.is_empty() && (nl.starts_with(&lower) || lower.starts_with(&nl));
            (distance <= limit || prefix).then_some((distance, name))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(8)
        .map(|(_, n)| n.to_string())
        .collect()
}
