"""Score one object: stream it, parse each block of lines, score it in one NumPy batch.

Memory is bounded by the block, not the object: one read (READ_BYTES), its decompressed
block (READ_BYTES), the start of at most one line (MAX_LINE_BYTES), the block's texts and
result lines, and the model's per-chunk feature arrays (a block is scored in chunks of
CHUNK_CHARS). The sink buffers one upload part and the copy being sent
(runtime/archive/s3.py). benchmarks/archive.py measures the peak.
"""

from __future__ import annotations

from runtime.archive import lines as lines_module
from runtime.archive.formats import PARSERS, Batch, decode_lines, format_for
from runtime.archive.job import Job
from runtime.archive.results import Counts, Renderer, header_line, trailer_line
from runtime.model import Model

# Four times the API's chunk (runtime/model.py): a shard is one job with 256 MiB to spend,
# and the batch path's fixed cost per chunk weighs less: multinomial_nb 8.65 -> 8.08 us a
# message, bernoulli_nb 9.64 -> 8.46 (in process, median of 5; 128 Ki gained no more).
CHUNK_CHARS = 64 * 1024

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from runtime.archive.lines import Readable
    from runtime.archive.results import Sink


def score_stream(
    stream: Readable, key: str, source: dict[str, Any], model: Model, job: Job, sink: Sink
) -> Counts:
    """Write the result of the object ``stream`` reads to ``sink`` and commit it.

    ``key`` names the object (its suffix picks the format and says gzip); ``source`` is
    what the header records about it. A malformed line is a result line; an unreadable
    object (bad gzip, failed read) aborts the sink and raises.
    """
    try:
        counts = _score(stream, key, source, model, job, sink)
    except BaseException:
        sink.abort()
        raise
    sink.commit()
    return counts


def _score(
    stream: Readable, key: str, source: dict[str, Any], model: Model, job: Job, sink: Sink
) -> Counts:
    parser = PARSERS[format_for(key, job)](job)
    renderer = Renderer(model)
    sink.write(header_line(model, job, source))
    number = 1
    for raw in lines_module.line_blocks(lines_module.blocks(stream, key)):
        batch = Batch()
        decoded = decode_lines(raw, job.encoding, number, batch)
        parser.feed(number, decoded, batch)
        number += len(raw)
        del raw, decoded
        labels, values = model.classify_arrays(batch.texts, chunk_chars=CHUNK_CHARS)
        sink.write(renderer.render(batch, labels, values))
    counts = renderer.counts()
    sink.write(trailer_line(counts, model))
    return counts
