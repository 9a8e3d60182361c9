"""Run every benchmark module's main() in turn (`make bench`).

Each part of the project adds ``src/trend_dev/benchmarks/<part>_bench.py`` with a ``main()``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

from trend_dev import benchmarks


def main(argv: list[str]) -> int:
    wanted = set(argv)
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.endswith("_bench"))
    for name in names:
        if wanted and name not in wanted:
            continue
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"trend_dev.benchmarks.{name}").main()
        print(f"=== {name}: {time.perf_counter() - started:.1f} s ===", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
