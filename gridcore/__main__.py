"""`python -m gridcore …`: the command line (see gridcore.cli)."""

from gridcore.cli import main

raise SystemExit(main())
