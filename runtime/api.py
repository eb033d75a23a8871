"""Routes, request validation and error mapping for the spam API.

Every problem with what the client sent becomes a 4xx with a JSON error naming the
problem; the request is validated before the model is consulted, so a bad request is
a 400 even while the model is unavailable (503).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable

from runtime import __version__, logs, metrics
from runtime.config import RESPONSE_MAX_BYTES, Settings
from runtime.cost import answer_floor, wire_bytes
from runtime.errors import ModelUnavailable, json_problem, short
from runtime.http_types import HttpError, Request, Response
from runtime.memo import Memo
from runtime.model_source import ModelHolder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from runtime.model import Model
    from runtime.reports import ReportStore

PREDICT = "/predict"
HEALTH = "/health"
FEEDBACK = "/feedback"
ALLOWED_METHODS = {PREDICT: "OPTIONS, POST", HEALTH: "GET, OPTIONS", FEEDBACK: "OPTIONS, POST"}
# Seconds a client should wait before retrying a report the store could not take.
STORAGE_RETRY_AFTER = 5
FORM = "application/x-www-form-urlencoded"
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_UTF8_CHARSETS = frozenset({"utf-8", "utf8", "us-ascii"})
# A batch's answer is built this many numbers (texts x classes) at a time: 2-class models
# classify 32,768 texts at once (50,000 in two slices), a 1,000-class model 65.
ANSWER_CELLS = 1 << 16
_HEALTH_METADATA = ("format", "format_version", "n_features", "created_by", "metrics")
# The keys a /predict JSON body may have; any other is a 400 that names it (a misspelt or
# unsupported option must not be ignored in silence).
PREDICT_FIELDS = ("text", "texts", "explain", "top")
FEEDBACK_FIELDS = ("text", "label")


def _json_encoder() -> Callable[[Any], str]:
    """Compact, strict JSON. ``JSONEncoder.encode`` builds its C encoder at every call
    (a third of the cost for a one-message answer): build it once. No circular-reference
    check: the payloads are the API's own dicts and the model's JSON-ready objects."""
    make = getattr(json.encoder, "c_make_encoder", None)  # private: not in the type stubs
    if make is None:  # an interpreter without the C accelerator
        return json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode
    encode = make(
        None, None, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, False
    )
    return lambda payload: "".join(encode(payload, 0))


_encode = _json_encoder()


class Api:
    """Answers ``Request``s; one instance per container, built from its ``Settings``.

    ``holder`` is ``None`` when the function's configuration is invalid: then every
    route that needs the model answers 503 ``misconfigured`` with ``startup_error``.
    """

    def __init__(
        self,
        settings: Settings,
        holder: ModelHolder | None,
        *,
        startup_error: str = "",
        reports: ReportStore | None = None,
    ) -> None:
        if holder is None and not startup_error:
            raise ValueError("an Api without a model holder needs the start-up error")
        self.settings = settings
        self.holder = holder
        self.reports = reports  # where POST /feedback stores reports; None: not configured
        self.startup_error = startup_error
        self._any_origin = settings.cors_origins == ("*",)
        self._check_origin = bool(settings.cors_origins) and not self._any_origin
        self._base_headers = {"Content-Type": "application/json"}
        if self._any_origin:
            self._base_headers["Access-Control-Allow-Origin"] = "*"
        elif self._check_origin:
            self._base_headers["Vary"] = "Origin"

    @property
    def model_id(self) -> str | None:
        """The served model's id, or ``None`` before a load has worked (for the log line)."""
        model = self.holder.model if self.holder is not None else None
        return model.model_id if model is not None else None

    def handle(self, request: Request) -> Response:
        path = request.path
        if len(path) > 1 and path.endswith("/"):
            path = path[:-1]
        allowed = ALLOWED_METHODS.get(path)
        if allowed is None:
            return self.error(request, HttpError(404, "not_found", _not_found_message()))
        method = request.method
        route = f"{method if method in _KNOWN_METHODS else 'OTHER'} {path}"
        try:
            if method == "POST" and path == PREDICT:
                response = self._predict(request)
            elif method == "POST" and path == FEEDBACK:
                response = self._feedback(request)
            elif method == "GET" and path == HEALTH:
                response = self._health(request)
            elif method == "OPTIONS":
                response = self._preflight(request, allowed)
            else:
                raise HttpError(
                    405,
                    "method_not_allowed",
                    f"method {method[:20]!r} is not allowed on {path}; allowed: {allowed}",
                    {"Allow": allowed},
                )
        except HttpError as exc:
            response = self.error(request, exc)
        except ModelUnavailable as exc:
            response = self._unavailable(request, exc, _error_body(exc.code, exc.message))
        response.route = route
        return response

    # Responses

    def error(self, request: Request | None, exc: HttpError) -> Response:
        headers = self._headers(request)
        if exc.headers:
            headers.update(exc.headers)
        return Response(exc.status, _error_body(exc.code, exc.message), headers, error=exc.code)

    def _unavailable(self, request: Request, exc: ModelUnavailable, body: str) -> Response:
        headers = self._headers(request)
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return Response(503, body, headers, error=exc.code)

    def _headers(self, request: Request | None) -> dict[str, str]:
        headers = dict(self._base_headers)
        if self._check_origin and request is not None:
            origin = request.header("origin")
            if origin in self.settings.cors_origins:
                headers["Access-Control-Allow-Origin"] = origin
        return headers

    # Routes

    def _model(self) -> Model:
        if self.holder is None:
            raise ModelUnavailable(self.startup_error, code="misconfigured")
        return self.holder.get()

    def _predict(self, request: Request) -> Response:
        texts, batch, top = self._texts(request)
        model = self._model()
        # Refused before any scoring when even the shortest possible answer is too large.
        explained = None if top is None else model.family.explained
        floor = answer_floor(model.classes, model.answer_member, len(texts), explained)
        if floor > RESPONSE_MAX_BYTES:
            raise _response_too_large(
                f"the answer would be at least {floor} bytes ({len(texts)} texts x "
                f"{len(model.classes)} classes{', explained' if top is not None else ''})",
                top,
            )
        coverage = [0, 0]  # vocabulary terms known / seen, counted while classifying
        if top is None:
            predictions, body = self._classified(model, texts, batch, coverage)
        else:
            predictions, body = self._explained(model, texts, batch, top, coverage)
        response = Response(200, body, self._headers(request), texts=len(texts))
        settings = self.settings
        if settings.emit_metrics:
            response.metrics = lambda latency_ms: metrics.emf_line(
                classes=model.classes,
                predictions=predictions,
                latency_ms=latency_ms,
                vocabulary_coverage=(coverage[0], coverage[1]),
                service=settings.service_name,
                model_id=model.model_id,
                namespace=settings.metrics_namespace,
            )
        return response

    def _classified(
        self, model: Any, texts: list[str], batch: bool, coverage: list[int]
    ) -> tuple[list[dict[str, Any]], str]:
        """Predictions and the answer's body. A batch is classified and encoded a slice
        of ``ANSWER_CELLS`` numbers (texts x classes) at a time, so an answer that passes
        the limit stops there instead of being built whole first."""
        if not batch:
            [prediction] = model.classify(texts, coverage=coverage)  # JSON-ready; opaque here
            body = _encode({**prediction, "model": model.model_id})
            if wire_bytes(body) > RESPONSE_MAX_BYTES:
                raise _response_too_large(f"the answer would be {wire_bytes(body)} bytes", None)
            return [prediction], body
        step = max(1, ANSWER_CELLS // len(model.classes))
        predictions: list[dict[str, Any]] = []
        pieces: list[str] = []
        size = wire_bytes(f'{{"predictions":[],"model":"{model.model_id}"}}') - 1
        for start in range(0, len(texts), step):
            found = model.classify(texts[start : start + step], coverage=coverage)
            piece = _encode(found)[1:-1]  # the list's items, without its brackets
            size += wire_bytes(piece) + 1
            if size > RESPONSE_MAX_BYTES:
                raise _response_too_large(
                    f"the answer grew past the limit by text {start + len(found)} of {len(texts)}",
                    None,
                )
            predictions.extend(found)
            pieces.append(piece)
        return predictions, _batch_body(pieces, model.model_id)

    def _explained(
        self, model: Any, texts: list[str], batch: bool, top: int, coverage: list[int]
    ) -> tuple[list[dict[str, Any]], str]:
        """Predictions and the answer's body, encoded text by text: the request stops
        with a 413 as soon as the answer passes the limit, not once all of it is built.
        Explanations go to the client only, never to the log."""
        predictions: list[dict[str, Any]] = []
        pieces: list[str] = []
        # Exact: the envelope (a batch's), each piece, and a comma between two pieces.
        size = (wire_bytes(f'{{"predictions":[],"model":"{model.model_id}"}}') if batch else 0) - 1
        for prediction, explanation in model.classify_explained(texts, top, coverage=coverage):
            del explanation["label"]
            answer = {**prediction, "explanation": explanation}
            piece = _encode(answer if batch else {**answer, "model": model.model_id})
            size += wire_bytes(piece) + 1
            if size > RESPONSE_MAX_BYTES:
                done = len(pieces) + 1
                raise _response_too_large(
                    f"the answer grew past the limit at text {done} of {len(texts)}",
                    top,
                )
            predictions.append(prediction)
            pieces.append(piece)
        if not batch:
            return predictions, pieces[0]
        return predictions, _batch_body(pieces, model.model_id)

    def _feedback(self, request: Request) -> Response:
        """Store one user report; 202 only once the store says it is durable."""
        from runtime.reports import MAX_TEXT_CHARS, ReportError, StorageError, new_report

        reporter = request.principal
        if reporter is None:  # API Gateway checks first; this holds if it was misconfigured
            raise HttpError(
                401,
                "unauthenticated",
                f"POST {FEEDBACK} needs an API key (x-api-key) or IAM credentials",
            )
        text, label = self._report_fields(request)
        if len(text) > MAX_TEXT_CHARS:
            raise HttpError(
                413, "text_too_long", f'"text" has {len(text)} characters; at most {MAX_TEXT_CHARS}'
            )
        if self.reports is None:
            raise HttpError(
                503,
                "misconfigured",
                f"POST {FEEDBACK} needs a report store: set REPORTS_S3_URI "
                "(the local server: --reports-dir DIR)",
            )
        model = self._model()
        labels = [str(value) for value in model.classes]
        if label not in labels:
            raise HttpError(
                400,
                "invalid_label",
                f'"label" must be one of the model\'s classes: {", ".join(labels)}',
            )
        try:
            report = new_report(
                text=text, label=label, reporter=reporter, model_sha256=model.model_id
            )
        except ReportError as exc:  # the reporter, as API Gateway sent it (text was checked)
            raise HttpError(400, "invalid_request", str(exc)) from None
        try:
            self.reports.put(report)
        except StorageError as exc:
            logs.emit({"level": "ERROR", "msg": "report_not_stored", "error": str(exc)[:500]})
            raise HttpError(
                503,
                "storage_unavailable",
                "the report could not be stored; nothing was kept, send it again",
                {"Retry-After": str(STORAGE_RETRY_AFTER)},
            ) from None
        body = _encode({"report_id": report.report_id})
        return Response(202, body, self._headers(request), texts=1)

    def _report_fields(self, request: Request) -> tuple[str, str]:
        media_type, charset = parse_content_type(request.header("content-type"))
        if charset is not None and charset not in _UTF8_CHARSETS:
            raise HttpError(415, "unsupported_media_type", "only UTF-8 bodies are supported")
        # Required, not assumed: a browser sends a JSON Content-Type cross-origin only after
        # a CORS preflight, so another site's page cannot post reports with a plain form.
        if media_type is None or not _is_json(media_type):
            raise HttpError(
                415, "unsupported_media_type", "send JSON (Content-Type: application/json)"
            )
        document = _parse_json(self._body_text(request))
        if not isinstance(document, dict):
            raise HttpError(
                400,
                "invalid_request",
                f'JSON body must be an object with "text" and "label", got {_json_type(document)}',
            )
        unknown = sorted(set(document) - set(FEEDBACK_FIELDS))
        if unknown:
            message = _unknown_fields_message(unknown, FEEDBACK, FEEDBACK_FIELDS)
            raise HttpError(400, "invalid_request", message)
        fields = []
        for name in ("text", "label"):
            value = document.get(name)
            if not isinstance(value, str) or not value.strip():
                got = "empty" if isinstance(value, str) else _json_type(value)
                raise HttpError(
                    400, "invalid_request", f'"{name}" must be a non-empty string, got {got}'
                )
            fields.append(value)
        return fields[0], fields[1]

    def _health(self, request: Request) -> Response:
        source = None
        if self.holder is not None:
            source = {"kind": self.holder.source.kind, "location": self.holder.source.describe()}
        try:
            model = self._model()
        except ModelUnavailable as exc:
            payload: dict[str, Any] = {
                "status": "unavailable",
                "error": {"code": exc.code, "message": exc.message},
                "source": source,
                "runtime_version": __version__,
            }
            return self._unavailable(request, exc, _encode(payload))
        metadata = model.metadata
        payload = {
            "status": "ok",
            "model": model.model_id,
            "classes": list(model.classes),
            "source": source,
            "runtime_version": __version__,
            "family": model.family_name,
            "threshold": model.threshold,
            "no_known_words": model.no_known_words_label,
            "note": model.note,
            "model_metadata": {key: metadata[key] for key in _HEALTH_METADATA if key in metadata},
        }
        return Response(200, _encode(payload), self._headers(request))

    def _preflight(self, request: Request, allowed: str) -> Response:
        headers = self._headers(request)
        headers["Allow"] = allowed
        if "Access-Control-Allow-Origin" in headers:
            headers["Access-Control-Allow-Methods"] = allowed
            # A browser sends the usage plan's key with its reports (template.yaml).
            is_feedback = request.path.rstrip("/") == FEEDBACK
            headers["Access-Control-Allow-Headers"] = (
                "Content-Type, X-Api-Key" if is_feedback else "Content-Type"
            )
            headers["Access-Control-Max-Age"] = "600"
        return Response(204, "", headers)

    # Request bodies

    def _texts(self, request: Request) -> tuple[list[str], bool, int | None]:
        """The messages, whether the client sent a batch, and ``top`` if it asked to explain."""
        media_type, charset = parse_content_type(request.header("content-type"))
        if charset is not None and charset not in _UTF8_CHARSETS:
            raise HttpError(415, "unsupported_media_type", "only UTF-8 bodies are supported")
        is_json = media_type is not None and _is_json(media_type)
        if not (is_json or media_type in (None, "text/plain", FORM)):
            raise HttpError(
                415,
                "unsupported_media_type",
                "send JSON (Content-Type: application/json), one raw message (text/plain) "
                f"or a form with a text field ({FORM})",
            )
        text = self._body_text(request)
        if is_json:
            return self._from_json(_parse_json(text))
        if media_type == "text/plain":
            return [text], False, None
        if media_type == FORM:
            return self._from_form(text)
        return self._from_raw(text)

    def _body_text(self, request: Request) -> str:
        """The body, checked against the size limit in UTF-8 bytes (the event decoded it)."""
        body = request.body
        if not body:
            raise HttpError(400, "empty_body", 'request body is empty; send {"text": "..."}')
        limit = self.settings.max_body_bytes
        # A character is at most 4 bytes of UTF-8: only long bodies need encoding to measure.
        if len(body) > limit or (
            len(body) * 4 > limit and len(body.encode("utf-8", "surrogatepass")) > limit
        ):
            raise HttpError(
                413, "payload_too_large", f"body is larger than the limit of {limit} bytes"
            )
        return body

    def _from_raw(self, text: str) -> tuple[list[str], bool, int | None]:
        """No Content-Type, as in the tutorial: a JSON object is JSON, anything else one message."""
        if text.lstrip().startswith("{"):
            try:
                parsed = json.loads(text)
            except (ValueError, RecursionError):
                parsed = None
            if isinstance(parsed, dict):
                return self._from_json(parsed)
        return [text], False, None

    def _from_form(self, text: str) -> tuple[list[str], bool, int | None]:
        """What ``curl -d`` sends: a form's one ``text`` field. A body without ``=`` is one
        raw message (``curl -d 'hello'``); a form without ``text`` is a 400, not a message
        made of its field names."""
        if "=" in text and not text.lstrip().startswith("{"):
            from urllib.parse import parse_qsl  # only form requests pay for the import

            try:
                fields = parse_qsl(
                    text, keep_blank_values=True, strict_parsing=True, errors="strict"
                )
            except ValueError:  # not a well-formed form (UnicodeDecodeError is a ValueError)
                fields = None
            values = [value for name, value in fields or () if name == "text"]
            if len(values) == 1:
                return values, False, None
            if fields is None:
                problem = "is not a well-formed form (name=value pairs, UTF-8 percent-encoded)"
            elif values:
                problem = f'has {len(values)} "text" fields'
            else:
                problem = 'has no "text" field'
            raise HttpError(
                400,
                "invalid_request",
                f"the form body {problem}: send text=<message> (curl --data-urlencode "
                "'text=...'), JSON {\"text\": ...}, or the raw message as text/plain",
            )
        return self._from_raw(text)

    def _from_json(self, document: object) -> tuple[list[str], bool, int | None]:
        if not isinstance(document, dict):
            raise HttpError(
                400,
                "invalid_request",
                f'JSON body must be an object with "text" or "texts", got {_json_type(document)}',
            )
        unknown = [key for key in document if key not in PREDICT_FIELDS]
        if unknown:
            raise HttpError(400, "invalid_request", _unknown_fields_message(unknown))
        if "text" in document:
            if "texts" in document:
                raise HttpError(400, "invalid_request", 'send either "text" or "texts", not both')
            text = document["text"]
            if not isinstance(text, str):
                raise HttpError(
                    400, "invalid_request", f'"text" must be a string, got {_json_type(text)}'
                )
            return [text], False, _explain_top(document)
        if "texts" in document:
            return self._batch(document["texts"]), True, _explain_top(document)
        raise HttpError(
            400, "invalid_request", 'JSON body needs "text" (one message) or "texts" (a list)'
        )

    def _batch(self, texts: object) -> list[str]:
        if not isinstance(texts, list):
            raise HttpError(
                400,
                "invalid_request",
                f'"texts" must be a list of strings, got {_json_type(texts)}',
            )
        if not texts:
            raise HttpError(400, "invalid_request", '"texts" must not be empty')
        limit = self.settings.max_batch_size
        if len(texts) > limit:
            raise HttpError(
                413, "batch_too_large", f'"texts" has {len(texts)} messages; the limit is {limit}'
            )
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise HttpError(
                    400,
                    "invalid_request",
                    f'"texts"[{index}] must be a string, got {_json_type(text)}',
                )
        return texts


def _unknown_fields_message(
    unknown: list[str], route: str = PREDICT, accepted: tuple[str, ...] = PREDICT_FIELDS
) -> str:
    """Names the first few unknown keys, each cut short: they are the client's input."""
    names = ", ".join(
        json.dumps(key if len(key) <= 40 else key[:37] + "...") for key in unknown[:5]
    )
    more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    fields = ", ".join(f'"{key}"' for key in accepted)
    return f"unknown field(s) {names}{more}: a {route} body accepts only {fields}"


def _explain_top(document: dict[str, Any]) -> int | None:
    """``top`` when the body asks for explanations (``"explain": true``), else None."""
    if "explain" not in document and "top" not in document:
        return None
    try:
        explain, top = explain_options(document)
    except ValueError as exc:
        raise HttpError(400, "invalid_request", str(exc)) from None
    return top if explain else None


def explain_options(document: dict[str, Any]) -> tuple[bool, int]:
    """``(explain, top)`` from a /predict JSON body; ValueError names the bad field (a 400).

    ``"explain"`` is optional and must be a JSON boolean; ``"top"`` is optional, needs
    ``"explain": true`` and must be an integer from 1 to MAX_TOP.
    """
    from runtime.explain import DEFAULT_TOP, MAX_TOP  # only explaining requests import it

    explain = document.get("explain", False)
    if not isinstance(explain, bool):
        raise ValueError(f'"explain" must be true or false, got {short(explain)}')
    if "top" not in document:
        return explain, DEFAULT_TOP
    if not explain:
        raise ValueError('"top" applies only with "explain": true')
    top = document["top"]
    if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= MAX_TOP:
        raise ValueError(f'"top" must be an integer from 1 to {MAX_TOP}, got {short(top)}')
    return explain, top


# Clients send the same few Content-Type values: parse each once (bounded: they are input).
_CONTENT_TYPES: Memo[str, tuple[str | None, str | None]] = Memo(64)


def parse_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(media type, charset), lower-cased; a missing or wildcard type is ``None``."""
    if not value:
        return None, None
    parsed = _CONTENT_TYPES.get(value)
    if parsed is None:
        parsed = _CONTENT_TYPES.keep(value, _parse_content_type(value))
    return parsed


def _parse_content_type(value: str) -> tuple[str | None, str | None]:
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
        problem = json_problem(exc)
        raise HttpError(400, "invalid_json", f"body is not valid JSON: {problem}") from None
    except RecursionError:
        raise HttpError(400, "invalid_json", "body is not valid JSON: nested too deeply") from None


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


def _batch_body(pieces: list[str], model_id: str) -> str:
    """What _encode({"predictions": [...], "model": id}) writes, from the encoded items."""
    return f'{{"predictions":[{",".join(pieces)}],"model":{_encode(model_id)}}}'


def _response_too_large(what: str, top: int | None) -> HttpError:
    return HttpError(
        413,
        "response_too_large",
        f"{what}; Lambda carries at most {RESPONSE_MAX_BYTES}: send fewer texts"
        + (", or ask for fewer terms (top)" if top is not None else ""),
    )


def _error_body(code: str, message: str) -> str:
    return _encode({"error": {"code": code, "message": message}})


def _not_found_message() -> str:
    return f"no such route; the API has POST {PREDICT}, POST {FEEDBACK} and GET {HEALTH}"
