"""``python -m crucible.cli``: the same as the ``crucible`` command."""

from crucible.cli import main

main()
