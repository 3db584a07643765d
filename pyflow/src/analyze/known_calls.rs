//! Callees whose effect on their arguments (and on hidden module state) the
//! analysis knows without running anything: those that only read what they
//! are given, those that change it, the global random generators. A callee
//! on no list may change every argument that holds mutable data, which the
//! engine applies as an assumption and says so.

/// Builtins and commonly imported functions that only read their arguments.
const READER_FUNCTIONS: &[&str] = &[
    // builtins
    "abs",
    "all",
    "any",
    "ascii",
    "bin",
    "bool",
    "bytearray",
    "bytes",
    "callable",
    "chr",
    "complex",
    "dict",
    "dir",
    "divmod",
    "enumerate",
    "filter",
    "float",
    "format",
    "frozenset",
    "getattr",
    "hasattr",
    "hash",
    "help",
    "hex",
    "id",
    "int",
    "isinstance",
    "issubclass",
    "iter",
    "len",
    "list",
    "map",
    "max",
    "memoryview",
    "min",
    "oct",
    "open",
    "ord",
    "pow",
    "print",
    "range",
    "repr",
    "reversed",
    "round",
    "set",
    "slice",
    "sorted",
    "str",
    "sum",
    "tuple",
    "type",
    "zip",
    "display",
    "super",
    "object",
    // copying and functional helpers
    "copy",
    "deepcopy",
    "partial",
    "reduce",
    "asdict",
    "astuple",
    "pprint",
    // scikit-learn functions (estimators passed in are cloned, never fitted in place)
    "train_test_split",
    "cross_val_score",
    "cross_validate",
    "cross_val_predict",
    "clone",
    "make_pipeline",
    "make_column_transformer",
    "mean_absolute_error",
    "mean_squared_error",
    "root_mean_squared_error",
    "mean_absolute_percentage_error",
    "median_absolute_error",
    "r2_score",
    "accuracy_score",
    "balanced_accuracy_score",
    "precision_score",
    "recall_score",
    "f1_score",
    "fbeta_score",
    "roc_auc_score",
    "roc_curve",
    "precision_recall_curve",
    "auc",
    "confusion_matrix",
    "classification_report",
    "log_loss",
    "silhouette_score",
    "explained_variance_score",
    "permutation_importance",
];

/// Modules (by their usual import names) whose functions only read their
/// arguments, apart from [`MUTATORS`] and an `out=` keyword.
const READER_MODULES: &[&str] = &[
    "np",
    "numpy",
    "pd",
    "pandas",
    "math",
    "cmath",
    "statistics",
    "plt",
    "pyplot",
    "matplotlib",
    "mpl",
    "sns",
    "seaborn",
    "sklearn",
    "scipy",
    "sp",
    "stats",
    "json",
    "re",
    "os",
    "sys",
    "itertools",
    "functools",
    "operator",
    "collections",
    "copy",
    "time",
    "datetime",
    "dt",
    "pathlib",
    "string",
    "textwrap",
    "pprint",
    "pickle",
    "joblib",
    "torch",
    "tf",
    "px",
    "go",
    "alt",
    "random",
    "dataclasses",
    "typing",
    "decimal",
    "fractions",
    "hashlib",
    "base64",
    "csv",
    "warnings",
    "logging",
    "IPython",
    "tqdm",
    "display",
    "metrics",
    "preprocessing",
    "model_selection",
    "ensemble",
    "linear_model",
];

/// Callees known to change their first argument in place.
const MUTATORS: &[&str] = &[
    "random.shuffle",
    "np.random.shuffle",
    "numpy.random.shuffle",
    "np.copyto",
    "numpy.copyto",
    "np.put",
    "numpy.put",
    "np.place",
    "numpy.place",
    "np.putmask",
    "numpy.putmask",
    "np.fill_diagonal",
    "numpy.fill_diagonal",
    "heapq.heappush",
    "heapq.heappop",
    "heapq.heapify",
    "heapq.heapreplace",
    "heapq.heappushpop",
    "bisect.insort",
    "bisect.insort_left",
    "bisect.insort_right",
    // bare names, as `from random import shuffle` leaves them
    "shuffle",
    "heappush",
    "heappop",
    "heapify",
    "insort",
    "next",
];

/// Methods that change their first argument (`rng.shuffle(a)` of numpy's
/// `Generator`, `random.Random().shuffle`).
const ARG_MUTATING_METHODS: &[&str] = &["shuffle"];

/// Functions whose result is a value that cannot change in place
/// (`k = len(x)`), so the name bound to it is never changed by a call.
pub(super) const SCALAR_FUNCTIONS: &[&str] = &[
    "len",
    "int",
    "float",
    "str",
    "bool",
    "repr",
    "ord",
    "chr",
    "hash",
    "id",
    "format",
    "ascii",
    "bin",
    "hex",
    "oct",
    "complex",
    "frozenset",
    "bytes",
];

/// What a call may do to the arguments it is passed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum CallEffect {
    /// Only reads them.
    Reads,
    /// Changes the first argument.
    ChangesFirst,
    /// Not known: every argument may change (unless the engine knows the
    /// callee: a notebook function, a method of notebook data).
    Unknown,
}

/// The effect of calling `callee` (dotted as written: `len`,
/// `np.random.shuffle`, `rng.shuffle`, `utils.clean`) on its arguments.
/// A method of a name that is not a known module (`lst.append(x)`,
/// `clf.fit(X, y)`) changes its receiver, not its arguments; whether that
/// name is a module only the engine knows, so such calls come back
/// `Unknown` and the engine decides.
pub(super) fn call_effect(callee: &str) -> CallEffect {
    if MUTATORS.contains(&callee) {
        return CallEffect::ChangesFirst;
    }
    let (root, last) = match (callee.split_once('.'), callee.rsplit_once('.')) {
        (Some((root, _)), Some((_, last))) => (root, last),
        _ => (callee, callee),
    };
    // PyTorch's convention: a trailing underscore changes in place
    // (`torch.nn.init.zeros_(w)`).
    if last.len() > 1 && last.ends_with('_') && !last.ends_with("__") {
        return CallEffect::ChangesFirst;
    }
    if root == callee {
        if READER_FUNCTIONS.contains(&callee) || is_class_name(callee) {
            return CallEffect::Reads;
        }
        return CallEffect::Unknown;
    }
    if READER_MODULES.contains(&root) {
        return CallEffect::Reads;
    }
    if ARG_MUTATING_METHODS.contains(&last) {
        return CallEffect::ChangesFirst;
    }
    if is_class_name(last) {
        return CallEffect::Reads;
    }
    CallEffect::Unknown
}

/// `RandomForestRegressor`, `DataFrame`: by Python's naming convention a
/// class, whose constructor keeps its arguments rather than changing them.
fn is_class_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase()) && name.chars().any(|c| c.is_lowercase())
}

/// The hidden symbol standing for a module's global random generator.
pub(super) const PY_RANDOM: &str = "<random>";
/// The hidden symbol standing for numpy's global random generator.
pub(super) const NP_RANDOM: &str = "<numpy.random>";

/// What a call does to a global random generator.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum RandomUse {
    /// `random.seed(0)`, `np.random.seed(0)`: sets its state.
    Seeds(&'static str),
    /// `random.random()`, `np.random.rand(3)`: reads and advances it.
    Draws(&'static str),
}

/// Calls of the random module's global generator, and of numpy's.
/// Seeded generators (`np.random.default_rng(0)`, `random.Random(0)`) are
/// ordinary objects, changed by their own method calls.
pub(super) fn random_use(callee: &str) -> Option<RandomUse> {
    let (state, function) = if let Some(f) = callee.strip_prefix("random.") {
        (PY_RANDOM, f)
    } else if let Some(f) = callee
        .strip_prefix("np.random.")
        .or_else(|| callee.strip_prefix("numpy.random."))
    {
        (NP_RANDOM, f)
    } else {
        return None;
    };
    if function.contains('.') || is_class_name(function) {
        return None;
    }
    match function {
        "seed" | "setstate" | "set_state" => Some(RandomUse::Seeds(state)),
        "getstate" | "get_state" | "default_rng" | "SystemRandom" => None,
        _ => Some(RandomUse::Draws(state)),
    }
}

/// The names `@name` in a string pandas evaluates (`df.query("a > @cutoff")`):
/// an `@` followed by an identifier that is not part of a word before it.
pub(super) fn at_names(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let bytes = text.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'\'' || b == b'"' || b == b'`' => quote = Some(b),
            None if b == b'@' => {
                let prev_word = i > 0 && is_ident_byte(bytes[i - 1]);
                let start = i + 1;
                let mut end = start;
                while end < bytes.len() && is_ident_byte(bytes[end]) {
                    end += 1;
                }
                if !prev_word && end > start && !bytes[start].is_ascii_digit() {
                    names.push(&text[start..end]);
                }
                i = end;
                continue;
            }
            None => {}
        }
        i += 1;
    }
    names
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callees_are_classified_by_the_lists() {
        assert_eq!(call_effect("len"), CallEffect::Reads);
        assert_eq!(call_effect("np.mean"), CallEffect::Reads);
        assert_eq!(call_effect("RandomForestRegressor"), CallEffect::Reads);
        assert_eq!(call_effect("random.shuffle"), CallEffect::ChangesFirst);
        assert_eq!(call_effect("np.random.shuffle"), CallEffect::ChangesFirst);
        assert_eq!(call_effect("rng.shuffle"), CallEffect::ChangesFirst);
        assert_eq!(
            call_effect("torch.nn.init.zeros_"),
            CallEffect::ChangesFirst
        );
        assert_eq!(call_effect("train"), CallEffect::Unknown);
        assert_eq!(call_effect("utils.clean"), CallEffect::Unknown);
        assert_eq!(call_effect("ABC"), CallEffect::Unknown);
    }

    #[test]
    fn random_calls_seed_or_draw_from_the_global_generators() {
        assert_eq!(random_use("random.seed"), Some(RandomUse::Seeds(PY_RANDOM)));
        assert_eq!(
            random_use("np.random.seed"),
            Some(RandomUse::Seeds(NP_RANDOM))
        );
        assert_eq!(
            random_use("np.random.rand"),
            Some(RandomUse::Draws(NP_RANDOM))
        );
        assert_eq!(
            random_use("random.choice"),
            Some(RandomUse::Draws(PY_RANDOM))
        );
        assert_eq!(random_use("np.random.default_rng"), None);
        assert_eq!(random_use("random.Random"), None);
        assert_eq!(random_use("rng.normal"), None);
    }

    #[test]
    fn at_names_are_read_outside_quotes_only() {
        assert_eq!(at_names("a > @cutoff and b < @k_2"), ["cutoff", "k_2"]);
        assert_eq!(at_names("c = a + @k"), ["k"]);
        assert_eq!(at_names("name == 'x@y' and m@n"), Vec::<&str>::new());
        assert_eq!(at_names("@1 + @"), Vec::<&str>::new());
    }
}
