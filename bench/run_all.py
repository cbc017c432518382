"""Run every benchmark in bench/ in turn and print their figures.

Each benchmark prints its own figure beside a baseline measured in the same run
(a ratio), so results compare across machines. Benchmarks are bounded in time
and talk only to 127.0.0.1.

    make bench
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name in ("run_all.py", "__init__.py") or script.name.startswith("_"):
            continue
        print(f"== {script.name}", flush=True)
        result = subprocess.run([sys.executable, str(script)], timeout=600)
        failed += result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
