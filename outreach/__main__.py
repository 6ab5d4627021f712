from __future__ import annotations

from outreach.cli import main

raise SystemExit(main())
