"""callhold over HTTP against a standalone voicesim: the bench now lives in ``bench/callhold/``.

/work/venv/bin/python -m bench.bench_callhold   # the same as: python -m bench.callhold
"""

from __future__ import annotations

from bench.callhold.__main__ import main

if __name__ == "__main__":
    raise SystemExit(main())
