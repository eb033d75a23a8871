"""Routes, request validation and error mapping for the spam API.

Every problem with what the client sent becomes a 4xx with a JSON error naming the
problem; the request is validated before the model is consulted, so a bad request is
a 400 even while the model is unavailable (503).
"""

from __future__ import annotations

import binascii
import json
import math
from typing import Any

from runtime import __version__
from runtime.config import Settings
from runtime.http_types import Request, Response
from runtime.model_source import ModelHolder, ModelUnavailable

PREDICT = "/predict"
HEALTH = "/health"
ALLOWED_METHODS = {PREDICT: "OPTIONS, POST", HEALTH: "GET, OPTIONS"}
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_HEALTH_METADATA = ("format", "format_version", "n_features", "created_by", "metrics")

_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


class Api:
    """Answers ``Request``s; one instance per container, built from its ``Settings``."""

    def __init__(self, settings: Settings, holder: ModelHolder) -> None:
        self.settings = settings
        self.holder = holder
        self._any_origin = settings.cors_origins == ("*",)
        self._base_headers = {"Content-Type": "application/json"}
        if self._any_origin:
            self._base_headers["Access-Control-Allow-Origin"] = "*"

    def handle(self, request: Request) -> Response:
        path = request.path
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        allowed = ALLOWED_METHODS.get(path)
        if allowed is None:
            return self.error(request, ApiError(404, "not_found", _not_found_message()))
        method = request.method
        route = f"{method if method in _KNOWN_METHODS else 'OTHER'} {path}"
        try:
            if method == "POST" and path == PREDICT:
                response = self._predict(request)
            elif method == "GET" and path == HEALTH:
                response = self._health(request)
            elif method == "OPTIONS":
                response = self._preflight(request, allowed)
            else:
                raise ApiError(
                    405,
                    "method_not_allowed",
                    f"method {method[:20]!r} is not allowed on {path}; allowed: {allowed}",
                    {"Allow": allowed},
                )
        except ApiError as exc:
            response = self.error(request, exc)
        except ModelUnavailable as exc:
            response = self.unavailable(request, exc)
        response.route = route
        return response

    # Responses

    def json(self, request: Request, status: int, payload: Any) -> Response:
        return Response(status, _encode(payload), self._headers(request))

    def error(self, request: Request | None, exc: ApiError) -> Response:
        headers = self._headers(request)
        if exc.headers:
            headers.update(exc.headers)
        body = _encode({"error": {"code": exc.code, "message": exc.message}})
        return Response(exc.status, body, headers, error=exc.code)

    def unavailable(self, request: Request, exc: ModelUnavailable) -> Response:
        response = self.error(request, ApiError(503, exc.code, exc.message))
        if exc.retry_after is not None:
            response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return response

    def _headers(self, request: Request | None) -> dict[str, str]:
        headers = dict(self._base_headers)
        origins = self.settings.cors_origins
        if origins and not self._any_origin:
            headers["Vary"] = "Origin"
            origin = request.headers.get("origin") if request is not None else None
            if origin in origins:
                headers["Access-Control-Allow-Origin"] = origin
        return headers

    # Routes

    def _predict(self, request: Request) -> Response:
        texts, batch = self._texts(request)
        model = self.holder.get()
        classes = model.classes
        predictions = [
            {"label": label, "probabilities": dict(zip(classes, row, strict=True))}
            for label, row in model.classify(texts)
        ]
        if batch:
            payload: dict[str, Any] = {"predictions": predictions, "model": model.model_id}
        else:
            payload = predictions[0]
            payload["model"] = model.model_id
        response = self.json(request, 200, payload)
        response.texts = len(texts)
        return response

    def _health(self, request: Request) -> Response:
        source = {"kind": self.holder.source.kind, "location": self.holder.source.describe()}
        try:
            model = self.holder.get()
        except ModelUnavailable as exc:
            response = self.unavailable(request, exc)
            payload = {
                "status": "unavailable",
                "error": {"code": exc.code, "message": exc.message},
                "source": source,
                "runtime_version": __version__,
            }
            response.body = _encode(payload)
            return response
        metadata = model.metadata
        payload = {
            "status": "ok",
            "model": model.model_id,
            "classes": list(model.classes),
            "source": source,
            "runtime_version": __version__,
            "model_metadata": {key: metadata[key] for key in _HEALTH_METADATA if key in metadata},
        }
        return self.json(request, 200, payload)

    def _preflight(self, request: Request, allowed: str) -> Response:
        headers = self._headers(request)
        headers["Allow"] = allowed
        if "Access-Control-Allow-Origin" in headers:
            headers["Access-Control-Allow-Methods"] = allowed
            headers["Access-Control-Allow-Headers"] = "Content-Type"
            headers["Access-Control-Max-Age"] = "600"
        return Response(204, "", headers)

    # Request bodies

    def _texts(self, request: Request) -> tuple[list[str], bool]:
        """The messages to classify, and whether the client sent a batch."""
        media_type, charset = parse_content_type(request.headers.get("content-type"))
        if charset is not None and charset not in ("utf-8", "utf8", "us-ascii"):
            raise ApiError(415, "unsupported_media_type", "only UTF-8 bodies are supported")
        if media_type is None:
            text = self._body_text(request)
            # The tutorial's direct invoke: a body that is not a JSON object is one message.
            if text.lstrip().startswith("{"):
                try:
                    parsed = json.loads(text)
                except (ValueError, RecursionError):
                    parsed = None
                if isinstance(parsed, dict):
                    return self._from_json(parsed)
            return [text], False
        if media_type == "text/plain":
            return [self._body_text(request)], False
        if _is_json(media_type):
            return self._from_json(_parse_json(self._body_text(request)))
        if media_type == "application/x-www-form-urlencoded":
            # curl -d sends JSON with this type unless told otherwise: accept a JSON object.
            text = self._body_text(request)
            if text.lstrip().startswith("{"):
                return self._from_json(_parse_json(text))
        raise ApiError(
            415,
            "unsupported_media_type",
            "send JSON (Content-Type: application/json) or one raw message (text/plain)",
        )

    def _body_text(self, request: Request) -> str:
        body = request.body
        if not body:
            raise ApiError(400, "empty_body", 'request body is empty; send {"text": "..."}')
        limit = self.settings.max_body_bytes
        if request.is_base64:
            if len(body) > (limit // 3 + 1) * 4:
                raise _too_large(limit)
            try:
                raw = binascii.a2b_base64(body, strict_mode=True)  # = b64decode(validate=True)
            except ValueError:  # binascii.Error, or non-ASCII characters
                raise ApiError(400, "invalid_base64", "body is not valid base64") from None
            if len(raw) > limit:
                raise _too_large(limit)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ApiError(
                    400, "invalid_utf8", f"body is not valid UTF-8 (byte {exc.start})"
                ) from None
            if not text:
                raise ApiError(400, "empty_body", "request body is empty")
            return text
        # A character is at most 4 bytes of UTF-8: only long bodies need encoding to measure.
        if len(body) > limit or (
            len(body) * 4 > limit and len(body.encode("utf-8", "surrogatepass")) > limit
        ):
            raise _too_large(limit)
        return body

    def _from_json(self, document: object) -> tuple[list[str], bool]:
        if not isinstance(document, dict):
            raise ApiError(
                400,
                "invalid_request",
                f'JSON body must be an object with "text" or "texts", got {_json_type(document)}',
            )
        if "text" in document:
            if "texts" in document:
                raise ApiError(400, "invalid_request", 'send either "text" or "texts", not both')
            text = document["text"]
            if not isinstance(text, str):
                raise ApiError(
                    400, "invalid_request", f'"text" must be a string, got {_json_type(text)}'
                )
            return [text], False
        if "texts" in document:
            texts = document["texts"]
            if not isinstance(texts, list):
                raise ApiError(
                    400,
                    "invalid_request",
                    f'"texts" must be a list of strings, got {_json_type(texts)}',
                )
            if not texts:
                raise ApiError(400, "invalid_request", '"texts" must not be empty')
            limit = self.settings.max_batch_size
            if len(texts) > limit:
                raise ApiError(
                    413,
                    "batch_too_large",
                    f'"texts" has {len(texts)} messages; the limit is {limit}',
                )
            for index, text in enumerate(texts):
                if not isinstance(text, str):
                    raise ApiError(
                        400,
                        "invalid_request",
                        f'"texts"[{index}] must be a string, got {_json_type(text)}',
                    )
            return texts, True
        raise ApiError(
            400, "invalid_request", 'JSON body needs "text" (one message) or "texts" (a list)'
        )


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(media type, charset), lower-cased; a missing or wildcard type is ``None``."""
    if not value:
        return None, None
    media_type, _, params = value.partition(";")
    media_type = media_type.strip().lower()
    charset = None
    if params:
        for param in params.split(";"):
            name, _, param_value = param.partition("=")
            if name.strip().lower() == "charset":
                charset = param_value.strip().strip('"').lower()
    if media_type in ("", "*/*"):
        return None, charset
    return media_type, charset


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def _parse_json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError as exc:
        problem = _json_problem(exc)
        raise ApiError(400, "invalid_json", f"body is not valid JSON: {problem}") from None
    except RecursionError:
        raise ApiError(400, "invalid_json", "body is not valid JSON: nested too deeply") from None


def _json_problem(exc: ValueError) -> str:
    # JSONDecodeError's message quotes no input, only a position: safe to return.
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return "cannot decode"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"body is larger than the limit of {limit} bytes")


def _not_found_message() -> str:
    return f"no such route; the API has POST {PREDICT} and GET {HEALTH}"
