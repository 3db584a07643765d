"""The benchmarks, one file per concern; importing this module registers them, in the order
BENCHMARKS.md lists them.

To add one, write a function decorated with ``@benchmark(...)`` in the file of its concern (or
a new file imported here); it receives a :class:`harness.Context` plus its settings and returns
a list of :class:`harness.Row` (``percentile_rows``, ``median_row`` and ``prov_row`` build
them). ``pairs`` gives a benchmark fresh kernels of both sides, ``stores`` the store, provctl
and the synthetic stores.
"""

from __future__ import annotations

import relay  # noqa: F401 - execute, kernel_info, stream, startup (both kernels alive together)
import recording  # noqa: F401 - store bytes per execution, provctl show
import analysis  # noqa: F401 - pyflow's analysis, the 2,000-statement cell
import deps  # noqa: F401 - provctl deps on 100,000 executions
import capture  # noqa: F401 - the runtime probe: scalars, a 1 GiB array, a 1 GiB DataFrame
import diff  # noqa: F401 - provctl diff of two 5,000-execution trials
# The helpers other bench files imported from here before the split, importable as before.
from deps import deps_store  # noqa: F401
from pairs import evaluate, own_pair, rows_with_cost, timed_rounds  # noqa: F401
from stores import (  # noqa: F401
    OUT_DIR,
    PROVCTL,
    REPO_ROOT,
    cached_store,
    median_ms_row,
    need_binary,
    provctl,
    run_store_row,
    source_hash,
    store_bytes,
    timed_process,
)
