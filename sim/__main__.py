"""``python -m sim`` runs the command line."""

import sys

from sim.cli.app import main

sys.exit(main())
