"""Texts the parity tests feed both scikit-learn and the runtime.

``TRICKY`` reaches the corners where a reimplementation slips; the hypothesis
strategies give arbitrary Unicode and texts built from the corpus's own words (so the
vocabulary is hit, not only missed).
"""

from __future__ import annotations

from hypothesis import strategies as st

from tests.corpus import HAM_WORDS, SPAM_WORDS, UNICODE_WORDS

TRICKY = [
    "",
    " ",
    "\t\n  \r",
    "İstanbul İI ı",  # Turkish dotted/dotless I lowercases to two code points
    "STRASSE Straße ß ẞ",
    "cafe\u0301 café ﬁle ½ ①",  # combining accent, ligature, compatibility forms
    "😀😀 free 😀prize",
    "東京 タワー 北京",
    "ctrl\x00\x07\x1bchars free",
    "free " * 2000,  # a count far past the runtime's table of sublinear logs
    "a  b\t\tc\u00a0\u00a0d \u2028e",
    "WINNER!! claim your FREE prize now, txt CLAIM to 80082",
    "see you at lunch tomorrow, love",
    "half price sale at the store, 50% discount voucher",
    # The obfuscations the normaliser folds: fullwidth, zero-width, homoglyphs, leet, spacing
    "ＦＲＥＥ 𝐩𝐫𝐢𝐳𝐞 fr\u200bee pr\u00adize Frее сlаim fr33 c4sh f r e e p.r.i.z.e Ⓦⓘⓝ",
    "f r e e" + " x" * 3 + " 1.50 £1.50 u.k. a.b.c.de",
]

vocabulary_words = st.sampled_from(SPAM_WORDS + HAM_WORDS + UNICODE_WORDS + ["the", "a"])
word_texts = st.lists(
    st.tuples(
        vocabulary_words,
        st.sampled_from(["lower", "upper", "title"]),
        st.sampled_from(["", " ", "  ", "!", ",", ".", "\t", "-", "0", "42", "'", "\n"]),
    ),
    max_size=30,
).map(lambda items: "".join(getattr(w, case)() + sep for w, case, sep in items))
any_texts = st.text(max_size=200)
texts_lists = st.lists(st.one_of(any_texts, word_texts), min_size=1, max_size=8)
