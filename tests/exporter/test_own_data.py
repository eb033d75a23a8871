"""Own data through the export CLI: common label spellings, a custom pair, three classes,
TSV headers, and refusals that name the line (counting the header) and what is accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.dataset import DatasetError, parse_dataset
from exporter.export import main
from runtime.model import Model
from tests.corpus import make_corpus

# Left out of the fast loop (`-m "not slow"`): each case trains and exports a model.
pytestmark = pytest.mark.slow

SPELLINGS = {"spam": ("1", "SPAM", "True"), "ham": ("0", "HAM", "false")}


def write(path: Path, rows: list[tuple[str, str]], sep: str, header: str | None) -> Path:
    lines = [header] if header else []
    lines += [f"{label}{sep}{text}" for label, text in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def corpus_rows(spam: str, ham: str, n: int = 200) -> list[tuple[str, str]]:
    texts, labels = make_corpus(n)
    return [
        (spam if label == "spam" else ham, text) for text, label in zip(texts, labels, strict=True)
    ]


def export(tmp_path: Path, data: Path, *options: str) -> tuple[int, Model | None]:
    out = tmp_path / "model.npz"
    code = main(["--data", str(data), "-o", str(out), *options])
    return code, Model.from_path(out) if code == 0 else None


@pytest.mark.parametrize(
    ("index", "sep", "header"),
    [(0, ",", "label,text"), (1, "\t", "label\ttext"), (2, ",", None)],
    ids=["1/0 csv with header", "SPAM/HAM tsv with header", "True/false csv"],
)
def test_common_spellings_train_a_spam_ham_model(tmp_path, capsys, index, sep, header) -> None:
    spam, ham = SPELLINGS["spam"][index], SPELLINGS["ham"][index]
    data = write(tmp_path / "data.txt", corpus_rows(spam, ham), sep, header)
    code, model = export(tmp_path, data)
    assert code == 0, capsys.readouterr().err
    assert model.classes == ("ham", "spam")
    out = capsys.readouterr().out
    assert "rows            200 (" in out  # the header is not a message
    assert "spam recall" in out


def test_a_custom_pair_needs_positive_label_and_then_trains(tmp_path, capsys) -> None:
    data = write(tmp_path / "d.csv", corpus_rows("Junk", "ok"), ",", "class,message")
    assert main(["--data", str(data), "-o", str(tmp_path / "m.npz")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {data}: line 2: two labels, but not spam/ham")  # 1 = header
    assert err.endswith("pass --positive-label with the one that means spam")
    assert len(err.splitlines()) == 1
    code, model = export(tmp_path, data, "--positive-label", "junk")
    assert code == 0
    assert model.classes == ("ham", "spam")
    assert model.classify(["WINNER claim your free prize now"])[0]["label"] == "spam"


def test_three_classes_train_a_multi_class_model_with_per_class_metrics(tmp_path, capsys):
    texts, labels = make_corpus(300)
    rows = [
        ("promo" if i % 5 == 0 and label == "ham" else label, text)
        for i, (text, label) in enumerate(zip(texts, labels, strict=True))
    ]
    data = write(tmp_path / "d.tsv", rows, "\t", "Label\tText")
    code, model = export(tmp_path, data)
    assert code == 0, capsys.readouterr().err
    assert model.classes == ("ham", "promo", "spam")
    out = capsys.readouterr().out
    assert "per class" in out
    for label in model.classes:
        assert any(line.split()[:1] == [label] for line in out.splitlines()), label
    per_class = model.metadata["metrics"]["per_class"]
    assert set(per_class) == {"ham", "promo", "spam"}
    assert all(set(v) == {"precision", "recall", "f1"} for v in per_class.values())


def test_max_ham_flagged_out_of_range_is_refused_before_reading_data(tmp_path, capsys):
    missing = tmp_path / "not-there.csv"  # never read: the option is refused first
    assert main(["--data", str(missing), "--max-ham-flagged", "5"]) == 2
    err = capsys.readouterr().err
    assert (
        err == "error: --max-ham-flagged must be a rate from 0 to below 1 (0.005 is 0.5%), got 5\n"
    )


def test_max_ham_flagged_needs_spam_ham_data(tmp_path, capsys) -> None:
    texts, _ = make_corpus(60)
    rows = [("a" if i % 3 == 0 else "b" if i % 3 == 1 else "c", t) for i, t in enumerate(texts)]
    data = write(tmp_path / "d.csv", rows, ",", None)
    assert main(["--data", str(data), "--max-ham-flagged", "0.01"]) == 2
    assert "--max-ham-flagged applies to spam/ham data; this file has 3 classes" in (
        capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("data", "names"),
    [
        (b"label,text\nham,hi\nspam,buy\n,empty label\n", "line 4 has an empty label"),
        (b"label\ttext\nham\thi\nspam\tbuy\nham\tyo\nmaybe\tx\n", "line 5 is the only row"),
        (b'label,text\nham,"a\nb"\nspam,x\nspam,y\nodd,z\n', "line 6 is the only row"),
        (b"spam,a\nspam,b\n", "every row has the same label"),
    ],
    ids=["empty", "tsv-stray", "multi-line-quoted", "one-label"],
)
def test_refusals_name_the_line_counting_the_header(data: bytes, names: str) -> None:
    with pytest.raises(DatasetError) as caught:
        parse_dataset(data, source="d")
    message = str(caught.value)
    assert names in message
    assert "spam/ham, 1/0 or true/false" in message


def test_positive_label_refusals_say_what_works() -> None:
    rows = b"a,x\nb,y\nc,z\na,w\nb,v\nc,u\n"
    with pytest.raises(DatasetError, match="needs exactly two labels, the file has 3"):
        parse_dataset(rows, source="d", positive_label="A")
    with pytest.raises(DatasetError, match="no row has the label given with --positive-label"):
        parse_dataset(rows, source="d", positive_label="spam")
