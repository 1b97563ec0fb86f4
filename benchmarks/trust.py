"""Trust benchmark, one run: package verification vs plain SHA-256 and its peak memory,
then audit append and verify rates.

Run: python benchmarks/trust.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import audit_rate
import package_verify

if __name__ == "__main__":
    package_verify.main()
    print()
    sys.argv = sys.argv[:1]
    audit_rate.main()
