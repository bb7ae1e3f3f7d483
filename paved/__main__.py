"""``python -m paved`` runs the CLI."""

import sys

try:
    from paved.cli import main
except KeyboardInterrupt:  # Ctrl-C while the CLI is still being imported
    print("paved: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
