"""``python -m localserver``: serve the Lambda handler on http://127.0.0.1:8080."""

import sys

from localserver.server import main

sys.exit(main())
