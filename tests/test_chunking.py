from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from rag.chunking import make_splitter, split
from rag.types import Page

words = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=12)
separators = st.sampled_from([" ", " ", " ", ". ", "\n", "\n\n", ", ", "? ", "\r\n", "\t"])
texts = st.lists(st.tuples(words, separators), max_size=300).map(lambda ws: "".join(a + b for a, b in ws))


@settings(max_examples=300, deadline=None)
@given(text=texts, size=st.integers(20, 700), overlap=st.integers(0, 200))
def test_every_chunk_is_the_exact_slice_its_offsets_name(text, size, overlap):
    page = Page("doc.txt", None, text)
    for chunk in split(page, make_splitter(size, overlap)):
        assert text[chunk.start:chunk.end] == chunk.text
        assert len(chunk.text) <= size


@settings(max_examples=300, deadline=None)
@example(text="00 00 000000000000 0 ", size=20, overlap=0)  # repeats once mapped to an earlier copy
@example(text="000000 000000. 00000 ", size=20, overlap=6)
@given(text=texts, size=st.integers(20, 700), overlap=st.integers(0, 200))
def test_chunks_come_in_document_order_and_cover_every_word(text, size, overlap):
    chunks = split(Page("doc.txt", None, text), make_splitter(size, overlap))
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


def test_seed_chunks_are_sentence_aligned_and_small():
    text = (Path(__file__).parent.parent / "seeds" / "000_aea647b47e874b1a.txt").read_text(encoding="utf-8")
    chunks = split(Page("seed.txt", None, text), make_splitter(500, 60))
    assert all(len(c.text) <= 500 for c in chunks)
    assert all(c.text[-1] in ".”\"?!" or c.end == len(text.rstrip()) or "\n" in text[c.end:c.end + 2]
               for c in chunks)


def test_chunk_ids_depend_on_content_and_location():
    splitter = make_splitter(40, 0)
    a = split(Page("a.txt", None, "Same words here. Other words there."), splitter)
    again = split(Page("a.txt", None, "Same words here. Other words there."), splitter)
    moved = split(Page("b.txt", None, "Same words here. Other words there."), splitter)
    assert [c.id for c in a] == [c.id for c in again]
    assert not {c.id for c in a} & {c.id for c in moved}
