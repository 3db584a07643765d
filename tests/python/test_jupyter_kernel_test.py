"""The official jupyter_kernel_test conformance suite, filled in for Python.

It validates every message against the v5 messaging spec and exercises
kernel_info, execute (stdout, stderr, errors, results, display data,
clear_output, pager payloads), completion, is_complete, inspect and history.
One kernel serves the whole class (started in setUpClass, shut down in
tearDownClass).
"""

from __future__ import annotations

import jupyter_kernel_test

from conftest import KERNEL_NAME


class PythonKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = KERNEL_NAME

    language_name = "python"
    file_extension = ".py"

    code_hello_world = "print('hello, world')"
    code_stderr = "import sys; print('oops', file=sys.stderr)"

    completion_samples = [
        {"text": "zi", "matches": {"zip"}},
        {"text": "import collections; collections.Ord", "matches": {"OrderedDict"}},
    ]

    complete_code_samples = [
        "1",
        "print('hello, world')",
        "def f(x):\n    return x * 2\n\n\n",
        "for i in range(3):\n    pass\n\n",
    ]
    incomplete_code_samples = [
        "print('''hello",
        "def f(x):\n    x * 2",
        "for i in range(3):",
    ]
    invalid_code_samples = ["import = 7q", "1 +* 2"]

    code_page_something = "print?"

    code_generate_error = "raise ValueError('expected failure')"

    code_execute_result = [
        {"code": "1+2+3", "result": "6"},
        {"code": "[n * n for n in range(1, 4)]", "result": "[1, 4, 9]"},
        {"code": "'ab' * 2", "result": "'abab'"},
    ]

    code_display_data = [
        {"code": "from IPython.display import HTML, display; display(HTML('<b>bold</b>'))",
         "mime": "text/html"},
        {"code": "from IPython.display import Math, display; display(Math(r'\\frac{1}{2}'))",
         "mime": "text/latex"},
        {"code": "from IPython.display import JSON, display; display(JSON({'a': 1}))",
         "mime": "application/json"},
    ]

    # Must match one of code_execute_result. "range" is left out: for the
    # current session IPython reports session number 0 in range replies, while
    # the suite expects the number from the tail reply (an ipykernel quirk,
    # identical with and without prov).
    code_history_pattern = "1?2*"
    supported_history_operations = ("tail", "search")

    code_inspect_sample = "zip"

    code_clear_output = "from IPython.display import clear_output; clear_output()"


class PythonIopubWelcomeTests(jupyter_kernel_test.IopubWelcomeTests):
    """ipykernel 7 greets each new iopub subscriber (protocol 5.4), and so
    must prov (it answers subscriptions itself)."""

    kernel_name = KERNEL_NAME
    support_iopub_welcome = True
