"""Letters drawn like a Latin letter, from Unicode TR39's confusables, as a committed table.

``confusables.json`` beside this file maps each such letter to the lowercase Latin letter
it imitates (Cyrillic U+0430 -> "a"). It is generated from the ``confusable-homoglyphs``
package (pinned in requirements-dev.txt, which ships TR39's confusables.txt as JSON) by

    python -m exporter.confusables

and kept small on purpose: letters of the scripts spammers borrow from, whose
compatibility decomposition does not already give the Latin letter (fullwidth and
mathematical letters are NFKC's job). Neither the exporter at training time nor the
runtime needs the package: the exporter reads this file, and writes the resulting
character table into each model file that uses the normaliser.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

TABLE_PATH = Path(__file__).with_name("confusables.json")
SCRIPTS = ("LATIN", "GREEK", "CYRILLIC", "ARMENIAN", "CHEROKEE", "COPTIC", "LISU")
MAX_ENTRIES = 2000


def load() -> dict[str, str]:
    """The committed table: one letter -> one lowercase ASCII letter."""
    table = json.loads(TABLE_PATH.read_text(encoding="utf-8"))
    if not (isinstance(table, dict) and len(table) <= MAX_ENTRIES):
        raise ValueError(f"{TABLE_PATH.name}: expected an object of at most {MAX_ENTRIES}")
    for source, target in table.items():
        if not (len(source) == 1 and not source.isascii() and target in _LATIN):
            raise ValueError(f"{TABLE_PATH.name}: bad entry {source!r}: {target!r}")
    return table


_LATIN = frozenset("abcdefghijklmnopqrstuvwxyz")


def generate(entries: dict[str, list[dict[str, str]]]) -> dict[str, str]:
    """The table from the package's ``confusables.json`` (character -> its confusables)."""
    table: dict[str, str] = {}
    for source, confusables in sorted(entries.items()):
        if len(source) != 1 or source.isascii() or not unicodedata.category(source).startswith("L"):
            continue
        if unicodedata.name(source, "").split(" ")[0] not in SCRIPTS:
            continue
        if unicodedata.normalize("NFKD", source) != source:  # NFKC folds it already
            continue
        targets = [e["c"] for e in confusables if len(e["c"]) == 1 and e["c"].isascii()]
        letters = [t for t in targets if t.isalpha()]
        if not letters:
            continue
        target = letters[0]
        # TR39's skeleton of "I" is "l"; a capital drawn as I is an i once lowercased.
        if source.isupper() and target == "l":
            target = "i"
        table[source] = target.lower()
    return table


def main() -> int:
    from importlib.resources import files

    data = files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    table = generate(json.loads(data))
    TABLE_PATH.write_text(
        json.dumps(table, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8"
    )
    print(f"{len(table)} letters -> {TABLE_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
