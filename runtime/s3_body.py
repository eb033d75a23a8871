"""Reading a small S3 object's body whole, bounded: the one rule the pointer, the report
stores and the learner's objects share (a model streams instead: runtime/s3_loader.py)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class BodyTooLarge(ValueError):
    """The object is larger than the caller reads; the message says its size ("has N bytes")."""


def read_body(answer: dict[str, Any], limit: int) -> bytes:
    """``answer``'s body (a GetObject response), refused past ``limit`` bytes before a byte
    is read when S3 states the length, and at ``limit + 1`` bytes when it does not."""
    body = answer["Body"]
    try:
        length = answer.get("ContentLength")
        if isinstance(length, int) and length > limit:
            raise BodyTooLarge(f"has {length} bytes")
        data: bytes = body.read(limit + 1)
    finally:
        body.close()
    if len(data) > limit:
        raise BodyTooLarge(f"has more than {limit} bytes")
    return data
