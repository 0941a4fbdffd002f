"""``python -m demo``: the walkthrough; exit status 0 when every answer was the expected one."""

from __future__ import annotations

import sys

from demo.walkthrough import main

sys.exit(main())
