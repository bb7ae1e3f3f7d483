"""``python -m paved`` runs the CLI."""

import sys

from paved.cli import main

sys.exit(main())
