"""Command-line entry point: ``python run.py SCENARIO`` (see ``python run.py --help``)."""

import sys

from simulation.cli import main

if __name__ == "__main__":
    sys.exit(main())
