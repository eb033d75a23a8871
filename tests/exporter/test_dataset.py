"""Both published formats of the collection are read alike; bad data is refused."""

from __future__ import annotations

import pytest

from exporter.dataset import DatasetError, load_dataset, parse_dataset
from tests.corpus import make_corpus
from tests.datafiles import kaggle_csv, uci_tsv, uci_zip


@pytest.mark.parametrize("make", [kaggle_csv, uci_tsv, uci_zip])
def test_every_format_gives_the_same_rows(make) -> None:
    texts, labels = make_corpus(200)
    dataset = parse_dataset(make(), source="test")
    assert dataset.labels == labels
    # The Kaggle file is latin-1, so characters outside it are replaced there.
    expected = [t.encode("latin-1", "replace").decode("latin-1") for t in texts]
    assert dataset.texts == (expected if make is kaggle_csv else texts)
    assert len(dataset.sha256) == 64


def test_kaggle_junk_columns_and_commas_in_text() -> None:
    data = b'v1,v2,,,\nham,"hello, world",,,\nspam,"WIN ""cash"" now",x,,\n'
    dataset = parse_dataset(data, source="test")
    assert dataset.texts == ["hello, world", 'WIN "cash" now']
    assert dataset.labels == ["ham", "spam"]


def test_a_stray_label_is_refused_without_quoting_it() -> None:
    with pytest.raises(DatasetError, match="line 3 is the only row with its label") as caught:
        parse_dataset(b"ham\thi\nspam\tbuy\nmaybe\tdunno\n", source="test")
    assert "maybe" not in str(caught.value)
    assert "spam/ham, 1/0 or true/false" in str(caught.value)  # and what would be accepted


def plain_csv(n: int = 200, header: bool = True) -> bytes:
    """A generic label,text CSV as a spreadsheet would save it (UTF-8)."""
    import csv
    import io

    texts, labels = make_corpus(n)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    if header:
        writer.writerow(["label", "text"])
    writer.writerows(zip(labels, texts, strict=True))
    return buffer.getvalue().encode()


@pytest.mark.parametrize("header", [True, False], ids=["header", "no-header"])
def test_a_comma_separated_file_is_recognised_by_its_content(header: bool) -> None:
    texts, labels = make_corpus(200)
    dataset = parse_dataset(plain_csv(200, header), source="test")
    assert dataset.texts == texts
    assert dataset.labels == labels


def test_a_tab_inside_a_csv_message_does_not_make_it_tsv() -> None:
    data = b'label,text\nham,"see you\tsoon"\nspam,win now\n'
    dataset = parse_dataset(data, source="test")
    assert dataset.texts == ["see you\tsoon", "win now"]


SECRET = "Zoltan PIN4321 Quixby"  # stands for a personal message in the data


@pytest.mark.parametrize(
    ("data", "names"),
    [
        (f"ham\thi\nspam\tbuy\n{SECRET}\n".encode(), "line 3 has no tab"),
        (f"ham,hi\nspam,buy\n{SECRET}\n".encode(), "line 3 is neither"),
        (f'ham,hi\nspam,"{SECRET}\n'.encode(), "not valid CSV"),
        (f"ham,hi\nspam,buy\n{SECRET},x\n".encode(), "line 3 is the only row"),
        (f"{SECRET}\n".encode(), "line 1 is neither"),
    ],
    ids=["tsv-no-tab", "csv-one-column", "csv-open-quote", "label-is-text", "one-column"],
)
def test_errors_name_the_line_but_never_quote_the_data(data: bytes, names: str) -> None:
    with pytest.raises(DatasetError) as caught:
        parse_dataset(data, source="data.txt")
    message = str(caught.value)
    assert names in message
    assert "data.txt" in message
    for word in SECRET.split():
        assert word not in message


def test_too_few_rows_is_refused() -> None:
    with pytest.raises(DatasetError, match="at least 5000"):
        parse_dataset(uci_tsv(100), source="test", min_rows=5000)


def test_zip_without_the_collection_is_refused() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("other.txt", "x")
    with pytest.raises(DatasetError, match="SMSSpamCollection"):
        parse_dataset(buffer.getvalue(), source="test")


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(DatasetError, match="cannot read dataset"):
        load_dataset(tmp_path / "nope.csv")
