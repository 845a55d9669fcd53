"""``python -m painters ...``: the same as the ``painters`` command."""

from painters.cli import main

raise SystemExit(main())
