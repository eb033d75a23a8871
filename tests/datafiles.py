"""Small dataset files in each published format, written by the tests themselves."""

from __future__ import annotations

import csv
import io
import zipfile

from tests.corpus import make_corpus


def kaggle_csv(n: int = 200) -> bytes:
    texts, labels = make_corpus(n)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["v1", "v2", "", "", ""])
    for label, text in zip(labels, texts, strict=True):
        writer.writerow([label, text, "", "", ""])
    return buffer.getvalue().encode("latin-1", errors="replace")


def uci_tsv(n: int = 200) -> bytes:
    texts, labels = make_corpus(n)
    return "".join(f"{label}\t{text}\n" for label, text in zip(labels, texts, strict=True)).encode()


def uci_zip(n: int = 200) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme", "SMS Spam Collection v.1 (test copy)")
        archive.writestr("SMSSpamCollection", uci_tsv(n))
    return buffer.getvalue()
