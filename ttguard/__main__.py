"""``python -m ttguard``: the command line."""

from .cli import main

raise SystemExit(main())
