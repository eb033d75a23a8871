"""A moto server that executes Step Functions definitions, its Lambda tasks run in-process.

    python -m tests.sfn_server PORT

moto's Step Functions parser really interprets the ASL (Map, ItemReader, ResultWriter,
Retry, intrinsic functions) when ``stepfunctions.execute_state_machine`` is on. Its Lambda
would run functions in Docker, which tests do not have: here a function's invocation
imports the handler its configuration names (``runtime....``) and calls it with the event,
in this server process, answering as Lambda does (an exception becomes a function error
with ``errorType`` and ``errorMessage``). Everything else, S3 included, is moto's own,
reached over HTTP by real boto3 clients.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any


def _invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
    module_name, _, attribute = self.handler.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    try:
        result = handler(event if event is not None else {}, None)
    except Exception as exc:  # what Lambda's runtime reports for an unhandled exception
        error = {"errorMessage": str(exc), "errorType": type(exc).__name__}
        return json.dumps(error), True, ""
    return json.dumps(result), False, ""


def main(port: int) -> None:
    os.environ["MOTO_PORT"] = str(port)  # where the parser's own clients call back
    os.environ.setdefault("AWS_ENDPOINT_URL_S3", f"http://127.0.0.1:{port}")
    from moto.awslambda.models import LambdaFunction
    from moto.core.config import default_user_config
    from moto.server import main as serve

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    LambdaFunction._invoke_lambda = _invoke_in_process  # type: ignore[method-assign]
    serve(["-H", "127.0.0.1", "-p", str(port)])


if __name__ == "__main__":
    main(int(sys.argv[1]))
