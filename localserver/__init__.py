"""A local HTTP server for the Lambda handler, and the API Gateway event builder it uses.

Not part of the Lambda package (``build_zip.py`` ships ``runtime/`` only); the tests
build their events with the same builder, so the shapes are written once.
"""

import runtime as _runtime

if getattr(_runtime, "DISTRIBUTION", None) != "sms-spam-lambda":  # the sentinel: see runtime/
    raise ImportError(
        f"the package 'runtime' imported from {list(getattr(_runtime, '__path__', []))} is not "
        "sms-spam-lambda's: another package of that name comes first on sys.path (the current "
        "directory, or site-packages). Rename or remove it, or run from another directory."
    )
