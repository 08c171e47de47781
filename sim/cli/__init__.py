"""The command line: argparse, printing and exit codes (0 ok, 1 internal error, 2 bad input)."""

from sim.cli.app import main

__all__ = ["main"]
