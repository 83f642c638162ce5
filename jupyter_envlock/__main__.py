"""`python -m jupyter_envlock ...`: the same as `jupyter envlock ...` (the magics call this)."""

from .entry import main

raise SystemExit(main())
