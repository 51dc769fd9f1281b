"""``python -m hostlocate``: the command line."""

from hostlocate.cli import main

raise SystemExit(main())
