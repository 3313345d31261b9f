"""``python -m caller``: the caller at one service window."""

from __future__ import annotations

from caller.app import main

raise SystemExit(main())
