"""``python -m callhold``."""

from callhold.cli import main

main()
