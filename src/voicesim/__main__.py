"""``python -m voicesim``."""

from voicesim.server import main

raise SystemExit(main())
