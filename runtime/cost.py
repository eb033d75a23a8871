"""What a /predict answer costs at least, known before any text is scored.

An answer grows with texts x classes (every class's probability or score, per text)
and, when explaining, with texts x ``top``. Building it first and measuring it after
(the old way) let 50,000 explained texts peak at ~1 GiB before the 413, and 1,000 tiny
texts on a 1,000-class model spend a second and +130 MiB on an answer that could never
be sent. ``answer_floor`` is a lower bound of the answer's size on the wire from what
the request and the model say before scoring: each number as its shortest JSON
(``0.0``), explanations with no term. A request whose floor is past the response limit
is refused at once; one under it may still grow past the limit (longer numbers, listed
terms), which the API notices while it encodes, text by text (runtime/api.py).
"""

from __future__ import annotations

import functools
import json

# The shortest value of each kind JSON can carry here: a float, a model id.
_NUMBER = "0.0"
_MODEL_ID = "0" * 64


def wire_bytes(fragment: str) -> int:
    """Bytes of an ASCII JSON fragment once the proxy response escapes it again."""
    return len(fragment) + fragment.count('"') + fragment.count("\\")


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=True)


@functools.lru_cache(maxsize=16)  # a container serves one model; its classes are hashed once
def _per_text(classes: tuple[str | int, ...], output: str, explained: str | None) -> int:
    """Wire bytes of one text's answer, at least: the shortest label, every class's
    number, and an explanation listing no term."""
    label = min(classes, key=lambda c: wire_bytes(_json(c)))
    label_json = _json(label)
    fragment = f'{{"label":{label_json}'
    if output == "score":
        fragment += f',"score":{_NUMBER}'
    else:
        members = ",".join(f"{_json(str(c))}:{_NUMBER}" for c in classes)
        fragment += f',"{output}":{{{members}}}'
    if explained is not None:
        fragment += (
            f',"explanation":{{"explained":{_json(explained)},"positive":{label_json},'
            f'"negative":{label_json},"decision":{_NUMBER},"baseline":{_NUMBER},'
            f'"terms":[],"others":{_NUMBER},"n_terms":0}}'
        )
    return wire_bytes(fragment + "}")


def answer_floor(
    classes: tuple[str | int, ...], output: str, texts: int, explained: str | None
) -> int:
    """The fewest bytes the answer to ``texts`` messages can take on the wire.

    ``output`` is the member each prediction carries: ``"probabilities"``, ``"score"``
    (one decision column) or ``"scores"`` (one per class). ``explained`` is the family's
    declared ``explained`` when the request explains (an answer says it, or it with
    ``_difference``), None when it does not.
    """
    # One message's answer is its prediction with the model id added; a batch's wraps
    # the predictions, comma-separated, in more than that.
    envelope = wire_bytes(f',"model":"{_MODEL_ID}"')
    return envelope + texts * _per_text(classes, output, explained) + (texts - 1)
