"""Exit codes and output helpers shared by every subcommand module.

Exit codes: 0 success; 1 the command ran but found a failure (an ECU did not answer, a
verification failed); 2 usage error or not confirmed; 3 vehicle or communication error
(timeout, negative response, adapter); 4 input file or configuration error; 5 cancelled.
"""

from __future__ import annotations

import argparse
import json
import sys

EXIT_CODES_HELP = """\
Diagnose a vehicle and reflash its ECUs (default: the simulated vehicle).

exit codes: 0 success; 1 ran but found a failure (an ECU did not answer, a check failed);
2 usage error or not confirmed; 3 vehicle or communication error; 4 input file or
configuration error; 5 cancelled."""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_VEHICLE = 3
EXIT_INPUT = 4
EXIT_CANCELLED = 5


def add_json_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print machine-readable JSON")


def print_json(obj: object) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
