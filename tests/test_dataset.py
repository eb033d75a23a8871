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


def test_unknown_label_is_refused() -> None:
    with pytest.raises(DatasetError, match="unexpected labels"):
        parse_dataset(b"ham\thi\nspam\tbuy\nmaybe\tdunno\n", source="test")


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
