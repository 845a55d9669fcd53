"""``python -m painters.zoo ...``."""

from painters.zoo.cli import main

raise SystemExit(main())
