use super::*;

#[test]
fn cell_frames_of_the_cell_only_outermost_first() {
    let traceback: Vec<String> = [
        "\u{1b}[0;31m---------------------------------------------------------------------------\u{1b}[0m",
        "\u{1b}[0;31mAssertionError\u{1b}[0m                            Traceback (most recent call last)",
        "\u{1b}[0;32mCell In[4], line 5\u{1b}[0m\n\u{1b}[1;32m      3\u{1b}[0m check(m)",
        "\u{1b}[0;32mCell In[2], line 9\u{1b}[0m, in \u{1b}[0;36mhelper\u{1b}[0;34m()\u{1b}[0m",
        "\u{1b}[0;32mCell In[4], line 2\u{1b}[0m, in \u{1b}[0;36mcheck\u{1b}[0;34m(m)\u{1b}[0m",
        "\u{1b}[0;31mAssertionError\u{1b}[0m: too low",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(cell_frame_lines(&traceback), [5, 2]);
    assert!(cell_frame_lines(&["ValueError: x".to_string()]).is_empty());
}

#[test]
fn an_assert_in_a_function_of_the_cell_fails_at_its_inner_frame() {
    let code = "def check(m):\n    assert m > 0, 'neg'\n    assert m < 9\ncheck(-1)\nassert True\n";
    let analysis = pyflow::analyze_cell(code);
    let facts = RunFacts {
        status: "error".into(),
        error_name: Some("AssertionError".into()),
        error_value: Some("neg".into()),
        failed_line: Some(4),
        inner_line: Some(2),
    };
    let outcomes: Vec<_> = analysis
        .asserts
        .iter()
        .map(|a| outcome(&analysis, a, &facts))
        .collect();
    assert_eq!(
        outcomes,
        [
            (Outcome::Failed, Some("neg".to_string())),
            // Its function's body ran no further, but nothing here says so: it did not fail.
            (Outcome::Passed, None),
            (Outcome::NotReached, None),
        ]
    );
}
