//! Per-statement analysis of current Python syntax and IPython syntax.
//! Expectations are what the Python semantics say, worked out by hand.

use pyflow::{analyze_cell, statement_at_line, CallableKind, CellAnalysis, StatementFacts, Symbol};

fn one(code: &str) -> StatementFacts {
    let a = analyze_cell(code);
    assert_eq!(a.parse_error, None, "{code}");
    assert_eq!(a.statements.len(), 1, "{code}: {:#?}", a.statements);
    a.statements.into_iter().next().unwrap()
}

fn texts(symbols: &[Symbol]) -> Vec<String> {
    symbols.iter().map(ToString::to_string).collect()
}

/// Uses without Python builtins, to keep expectations about the code.
fn uses(s: &StatementFacts) -> Vec<String> {
    const BUILTINS: &[&str] = &[
        "print", "len", "range", "list", "int", "str", "open", "sorted", "map",
    ];
    texts(&s.uses)
        .into_iter()
        .filter(|u| !BUILTINS.contains(&u.as_str()))
        .collect()
}

#[test]
fn assignments_uses_and_targets() {
    let s = one("a, (b, *c) = d.e, f['g'][0]");
    assert_eq!(texts(&s.defines), ["a", "b", "c"]);
    assert_eq!(uses(&s), ["d.e", "f['g'][0]"]);

    let s = one("x = y = z + w[k]");
    assert_eq!(texts(&s.defines), ["x", "y"]);
    assert_eq!(
        uses(&s),
        ["z", "w", "k"],
        "non-literal key: the container and the key"
    );

    let s = one("n: int = m");
    assert_eq!(texts(&s.defines), ["n"]);
    assert_eq!(
        uses(&s),
        ["int", "m"]
            .map(String::from)
            .into_iter()
            .filter(|u| u != "int")
            .collect::<Vec<_>>()
    );

    let s = one("only: Annotated");
    assert!(s.defines.is_empty(), "an annotation alone binds nothing");
}

#[test]
fn mutations() {
    let s = one("d['a'] = v");
    assert_eq!(texts(&s.mutates), ["d['a']"]);
    assert_eq!(uses(&s), ["v"], "a store does not read the old value");

    let s = one("o.x.y = 1");
    assert_eq!(texts(&s.mutates), ["o.x.y"]);

    let s = one("d[k] = 1");
    assert_eq!(texts(&s.mutates), ["d"]);
    assert_eq!(
        uses(&s),
        ["d", "k"],
        "a non-literal store changes part of d: it reads d"
    );

    let s = one("lst.append(x)");
    assert_eq!(texts(&s.call_mutates), ["lst"]);
    assert_eq!(uses(&s), ["lst", "x"]);

    let s = one("df.fillna(0, inplace=True)");
    assert_eq!(texts(&s.call_mutates), ["df"]);
    let s = one("df.fillna(0, inplace=False)");
    assert!(s.call_mutates.is_empty());
    let s = one("df.head()");
    assert!(s.call_mutates.is_empty());
    assert_eq!(uses(&s), ["df"]);
    let s = one("cfg['opt'].update(lr=1)");
    assert_eq!(texts(&s.call_mutates), ["cfg['opt']"]);

    let s = one("x += 1");
    assert_eq!(texts(&s.mutates), ["x"]);
    assert_eq!(uses(&s), ["x"]);
    let s = one("d['n'] *= 2");
    assert_eq!(texts(&s.mutates), ["d['n']"]);
    assert_eq!(uses(&s), ["d['n']"]);

    let s = one("del x, d['a'], lst[0], o.attr");
    assert_eq!(texts(&s.deletes), ["x"]);
    assert_eq!(texts(&s.mutates), ["d['a']", "lst", "o.attr"]);

    let s = one("df.loc[df['a'] > 0, 'b'] = 1");
    assert_eq!(
        texts(&s.mutates),
        ["df"],
        "a write through .loc is a write into df"
    );
}

#[test]
fn literal_keys() {
    let s = one("x = d['a'] + d[0] + d[-1] + d[1.5] + d[\"it's\"]");
    assert_eq!(uses(&s), ["d['a']", "d[0]", "d", "d['it\\'s']"]);
}

#[test]
fn functions_read_globals_at_call_time() {
    let a = analyze_cell(
        "@decorate\ndef f(p, q=default, *args, k: Kt = kd, **kw) -> Ret:\n    global g, gone\n    local = p + helper(q) + cfg['lr']\n    g = local\n    del gone\n    items.append(local)\n    table['k'] = 1\n    return [local for _ in args]\n",
    );
    let s = &a.statements[0];
    assert_eq!(texts(&s.defines), ["f"]);
    assert_eq!(uses(s), ["decorate", "default", "kd", "Kt", "Ret"]);
    assert_eq!(s.calls, ["decorate"]);
    let f = &s.functions[0];
    assert_eq!((f.name.as_str(), f.kind), ("f", CallableKind::Function));
    assert_eq!(texts(&f.globals_read), ["helper", "cfg['lr']", "items"]);
    assert_eq!(f.globals_written, ["g"]);
    assert_eq!(f.globals_deleted, ["gone"]);
    assert_eq!(texts(&f.globals_call_mutated), ["items"]);
    assert_eq!(texts(&f.globals_mutated), ["table['k']"]);
    assert_eq!(f.calls, ["helper"]);
}

#[test]
fn nested_functions_and_nonlocal() {
    let s = one(
        "def outer():\n    y = 1\n    def inner():\n        nonlocal y\n        y = 2\n        return z + y\n    return inner",
    );
    let f = &s.functions[0];
    assert_eq!(texts(&f.globals_read), ["z"]);
    assert!(f.globals_written.is_empty());
}

#[test]
fn local_binding_anywhere_makes_a_name_local() {
    // `x` is assigned later in the body, so every `x` in it is local (Python
    // raises UnboundLocalError rather than read the global).
    let s = one("def f():\n    print(x)\n    x = 1");
    assert!(texts(&s.functions[0].globals_read).iter().all(|r| r != "x"));
}

#[test]
fn type_parameters_and_type_statement() {
    let s = one("def first[T](xs: list[T]) -> T:\n    return xs[0]");
    assert_eq!(uses(&s), Vec::<String>::new(), "T is not a global");
    let s = one("class Box[T: Bound](Base[T]):\n    item: T");
    assert_eq!(uses(&s), ["Bound", "Base"]);
    assert_eq!(s.classes, ["Box"]);
    let s = one("type Pair[K] = tuple[K, Other]");
    assert_eq!(texts(&s.defines), ["Pair"]);
    assert_eq!(uses(&s), ["tuple", "Other"]);
}

#[test]
fn pep701_fstrings() {
    let s = one("msg = f\"{x!r:{width}} {d[\"key\"]} {f'{inner}'} {'nested' + f\"{deep}\"}\"");
    assert_eq!(texts(&s.defines), ["msg"]);
    assert_eq!(uses(&s), ["x", "width", "d['key']", "inner", "deep"]);
    let s = one("s = f\"\"\"{\n    a  # a comment inside the braces (3.12)\n    + b\n}\"\"\"");
    assert_eq!(uses(&s), ["a", "b"]);
    let s = one("t = t\"{user}\"");
    assert_eq!(uses(&s), ["user"], "PEP 750 template strings");
}

#[test]
fn match_statement() {
    let s = one(
        "match cmd:\n    case Point(x=0, y=yy) if yy > limit:\n        res = yy\n    case {\"k\": vv, **rest}:\n        res = vv\n    case [first, *others]:\n        res = first\n    case Color.RED | None:\n        res = None\n    case str() as text:\n        res = text",
    );
    assert_eq!(
        texts(&s.defines),
        ["yy", "res", "vv", "rest", "first", "others", "text"]
    );
    assert_eq!(uses(&s), ["cmd", "Point", "limit", "Color.RED"]);
}

#[test]
fn walrus() {
    let s = one("if (n := len(xs)) > 3:\n    big = n");
    assert_eq!(texts(&s.defines), ["n", "big"]);
    assert_eq!(uses(&s), ["xs"], "n is bound before it is read");
    let s = one("ys = [y for v in vs if (y := f(v))]");
    assert_eq!(
        texts(&s.defines),
        ["y", "ys"],
        "walrus in a comprehension binds the enclosing scope"
    );
    assert_eq!(uses(&s), ["vs", "f"]);
}

#[test]
fn comprehensions_and_lambdas_keep_their_variables() {
    let s = one("out = [a * k for a in xs if a > t]");
    assert_eq!(texts(&s.defines), ["out"]);
    assert_eq!(
        uses(&s),
        ["xs", "t", "k"],
        "evaluation order: the filter runs before the element"
    );
    let s = one("grid = [[c for c in row] for row in rows]");
    assert_eq!(uses(&s), ["rows"]);
    let a = analyze_cell("m = {k: v for k, v in pairs}; g = (i for i in x); st = {j for j in x}");
    assert_eq!(a.statements.len(), 3);
    assert_eq!(uses(&a.statements[0]), ["pairs"]);
    assert_eq!(uses(&a.statements[1]), ["x"]);
    assert_eq!(texts(&a.statements[2].defines), ["st"]);
    let s = one("x = [x for x in x]");
    assert_eq!(uses(&s), ["x"], "the first iterable is evaluated outside");
    let s = one("srt = sorted(rows, key=lambda r: r[col])");
    assert_eq!(
        uses(&s),
        ["rows", "col"],
        "an inline lambda reads col, not r"
    );
    let s = one("f = lambda v, w=dflt: v + free");
    assert_eq!(
        uses(&s),
        ["dflt"],
        "a named lambda reads its body's globals when called"
    );
    assert_eq!(texts(&s.functions[0].globals_read), ["free"]);
    assert_eq!(s.functions[0].kind, CallableKind::Lambda);
}

#[test]
fn class_bodies() {
    let s = one(
        "class C(Base, metaclass=Meta):\n    size = default_size\n    double = size * 2\n    def m(self):\n        return size_global + self.size\n    class Inner:\n        def n(self):\n            return other",
    );
    assert_eq!(texts(&s.defines), ["C"]);
    assert_eq!(
        uses(&s),
        ["Base", "Meta", "default_size"],
        "size is class-local by the time it is read"
    );
    let c = &s.functions[0];
    assert_eq!(c.kind, CallableKind::Class);
    assert_eq!(texts(&c.globals_read), ["size_global", "other"]);
}

#[test]
fn async_and_await() {
    let s = one(
        "async def fetch(u):\n    async with session.get(u) as r:\n        return await r.json()",
    );
    assert_eq!(texts(&s.functions[0].globals_read), ["session"]);
    let s = one("data = await fetch(url)");
    assert_eq!(
        uses(&s),
        ["fetch", "url"],
        "top-level await (IPython autoawait)"
    );
    let s = one("async for item in stream():\n    got.append(item)");
    assert_eq!(texts(&s.defines), ["item"]);
    assert_eq!(texts(&s.call_mutates), ["got"]);
}

#[test]
fn imports() {
    let a = analyze_cell("import os.path\nimport numpy as np\nfrom . import sib\nfrom pkg.mod import a as b, c\nfrom m import *");
    let all: Vec<_> = a
        .statements
        .iter()
        .flat_map(|s| texts(&s.defines))
        .collect();
    assert_eq!(all, ["os", "np", "sib", "b", "c"]);
    assert_eq!(a.statements[2].imports[0].level, 1);
    assert_eq!(a.statements[3].imports[0].module, "pkg.mod");
    assert_eq!(a.statements[3].imports[0].name.as_deref(), Some("a"));
    let star = &a.statements[4];
    assert!(star.dynamic && star.defines.is_empty());
    assert_eq!(star.imports[0].bound_as, "*");
}

#[test]
fn try_except_and_with() {
    let s = one(
        "try:\n    r = risky()\nexcept ValueError as err:\n    log(err)\nfinally:\n    done = True",
    );
    assert_eq!(
        texts(&s.defines),
        ["r", "done"],
        "`err` is unbound when the handler ends"
    );
    assert_eq!(uses(&s), ["risky", "ValueError", "log"]);
}

#[test]
fn branches_only_hide_uses_bound_on_every_path() {
    let a = analyze_cell("if c:\n    v = 1\nelse:\n    w = 2\nprint(v)");
    assert_eq!(a.statements.len(), 2);
    assert_eq!(texts(&a.statements[0].defines), ["v", "w"]);
    let s = one("if c:\n    v = 1\nelse:\n    v = 2\n    u = v");
    assert_eq!(uses(&s), ["c"]);
    let s = one("for i in xs:\n    if i:\n        v = i\n    else:\n        print(v)");
    assert_eq!(
        uses(&s),
        ["xs", "v"],
        "v read on a path where this statement did not bind it"
    );
}

#[test]
fn dynamic_statements() {
    for code in [
        "exec(src)",
        "globals()['x'] = 1",
        "setattr(mod, 'x', 1)",
        "%run other.py",
        "from m import *",
    ] {
        let a = analyze_cell(code);
        assert!(a.statements[0].dynamic, "{code}");
    }
    assert!(!one("x = 1").dynamic);
}

#[test]
fn ipython_line_syntax_is_masked() {
    let code = "%matplotlib inline\nfiles = !ls {folder}\nout = %sx echo hi\nobj?\n??obj2\nobj.attr?\n!pip install $pkg\n%time y = f(z)\n%timeit -n 10 g(w)\n/callme a, b\nx = 1";
    let a = analyze_cell(code);
    assert_eq!(a.parse_error, None);
    assert_eq!(a.masked_lines, (1..=10).collect::<Vec<_>>());
    let defines: Vec<_> = a
        .statements
        .iter()
        .flat_map(|s| texts(&s.defines))
        .collect();
    assert_eq!(defines, ["files", "out", "y", "x"], "%timeit binds nothing");
    let all_uses: Vec<_> = a.statements.iter().flat_map(uses).collect();
    assert_eq!(
        all_uses,
        ["folder", "pkg", "f", "z", "g", "w", "callme", "a", "b"]
    );
}

#[test]
fn ipython_escapes_inside_blocks() {
    let s = one("for f in files:\n    !cp {f} {dest}\n    %time n = count(f)");
    assert_eq!(texts(&s.defines), ["f", "n"]);
    assert_eq!(uses(&s), ["files", "dest", "count"]);
}

#[test]
fn cell_magics() {
    let a = analyze_cell("\n%%time\nx = y * 2\n");
    assert_eq!(a.cell_magic.as_deref(), Some("time"));
    assert_eq!(a.masked_lines, [2]);
    assert_eq!(texts(&a.statements[0].defines), ["x"]);
    assert_eq!(a.statements[0].line_start, 3);

    let a = analyze_cell("%%timeit\nx = y * 2\nacc.append(x)");
    assert!(a.statements.iter().all(|s| s.defines.is_empty()));
    assert_eq!(texts(&a.statements[1].call_mutates), ["acc"]);

    let a = analyze_cell("%%bash -s \"$arg\"\nfor f in *; do echo $f; done\n");
    assert_eq!(a.parse_error, None);
    assert_eq!(a.cell_magic.as_deref(), Some("bash"));
    assert_eq!(a.masked_lines, [1, 2, 3]);
    assert_eq!(a.statements.len(), 1);
    assert!(a.statements[0].dynamic && a.statements[0].defines.is_empty());
    assert_eq!(uses(&a.statements[0]), ["arg"]);

    let a = analyze_cell("%%writefile out.py\ndef f(:\n");
    assert_eq!(a.parse_error, None, "a %%writefile body is not Python");
}

#[test]
fn parse_errors_are_recorded_not_fatal() {
    let a = analyze_cell("x = 1\ny = (2,\nz = 3\n");
    assert!(!a.is_analysed());
    assert!(
        a.statements.is_empty(),
        "Python runs nothing of a cell that does not compile"
    );
    let e = a.parse_error.unwrap();
    assert!(e.line >= 2, "{e:?}");

    let e = analyze_cell("print('ok')\ndef f(:\n    pass")
        .parse_error
        .unwrap();
    assert_eq!((e.line, e.column), (2, 7), "{e:?}");
    let e = analyze_cell("é = 1\né é").parse_error.unwrap();
    assert_eq!(
        (e.line, e.column),
        (2, 3),
        "columns count characters: {e:?}"
    );
    let e = analyze_cell("  x = 1").parse_error.unwrap();
    assert_eq!(e.line, 1);
}

#[test]
fn positions_and_statement_at_line() {
    let code = "a = 1\r\nb = (2 +\r\n     3)\r\n\r\nif a:\r\n    c = 4\r\n";
    let a = analyze_cell(code);
    let spans: Vec<_> = a
        .statements
        .iter()
        .map(|s| (s.index, s.line_start, s.line_end))
        .collect();
    assert_eq!(spans, [(0, 1, 1), (1, 2, 3), (2, 5, 6)]);
    assert_eq!(
        &code[a.statements[1].byte_start..a.statements[1].byte_end],
        "b = (2 +\r\n     3)"
    );
    assert_eq!(statement_at_line(&a, 3), Some(1));
    assert_eq!(statement_at_line(&a, 4), None);
    assert_eq!(statement_at_line(&a, 6), Some(2));
}

#[test]
fn analysis_round_trips_through_json() {
    let a = analyze_cell(
        "import json\nd = {}\nd['a'] = json.dumps(x)\ndef f():\n    return d['a']\n!ls",
    );
    let json = serde_json::to_string(&a).unwrap();
    let back: CellAnalysis = serde_json::from_str(&json).unwrap();
    assert_eq!(back, a);
}

#[test]
fn pathological_nesting_is_refused_like_cpython() {
    let cases = [
        "(".repeat(100_000),
        format!("x = {}1", "-".repeat(100_000)),
        format!("x = {}y", "not ".repeat(50_000)),
        format!("x = {}a", "a + ".repeat(100_000)),
        format!("x = f{}", "(1)".repeat(100_000)),
        (0..150)
            .map(|i| format!("{}if x:\n", " ".repeat(i)))
            .collect::<String>(),
    ];
    for code in &cases {
        let a = analyze_cell(code);
        assert!(a.parse_error.is_some(), "{}", &code[..40.min(code.len())]);
    }
    // Deep, but within what CPython compiles: analysed.
    let a = analyze_cell(&format!("x = {}a", "a + ".repeat(900)));
    assert_eq!(a.parse_error, None);
    assert_eq!(texts(&a.statements[0].uses), ["a"]);
    let a = analyze_cell(&format!("x = {}1{}", "[".repeat(150), "]".repeat(150)));
    assert_eq!(a.parse_error, None);
}

#[test]
fn big_data_literals_are_not_mistaken_for_nesting() {
    let numbers: Vec<String> = (0..50_000).map(|i| format!("-{i}")).collect();
    let a = analyze_cell(&format!("data = [{}]", numbers.join(", ")));
    assert_eq!(a.parse_error, None);
    let terms: Vec<String> = (0..20_000).map(|i| format!("c{i} == 1")).collect();
    let a = analyze_cell(&format!("ok = {}", terms.join(" or ")));
    assert_eq!(a.parse_error, None, "boolean chains are flat");
}
