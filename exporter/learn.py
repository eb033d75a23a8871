"""Learn user reports into a new model file (see runtime/learning/command.py and docs/learning.md).

    python exporter/learn.py --model IN.npz --reports DIR --output OUT.npz
    python exporter/learn.py --pointer s3://b/pointer.json --reports s3://b/reports/ \
        --models s3://b/models/
    python exporter/learn.py ... --forget REPORT_ID ...
    python exporter/learn.py --pointer s3://b/pointer.json --reports s3://b/reports/ --rollback

The work is done by the runtime's learner, the same code the learner Lambda runs.
"""

from __future__ import annotations

import sys

try:  # a file run before the project is installed finds no packages: say so in one line
    import exporter  # noqa: F401
except ModuleNotFoundError:
    sys.exit("error: the project is not installed: run `pip install -e .` in its directory")

from runtime.learning.command import main

if __name__ == "__main__":
    sys.exit(main())
