"""Command-line entry point: ``python run.py SCENARIO`` (see ``python run.py --help``)."""

import sys

if __name__ == "__main__":
    try:
        from simulation.cli import main
    except KeyboardInterrupt:  # Ctrl-C while starting up: one line, no traceback
        print("interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(main())
