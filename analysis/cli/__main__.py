"""``python -m proassist.analysis.cli``."""

from __future__ import annotations

import sys

from proassist.analysis.cli import main

sys.exit(main())
