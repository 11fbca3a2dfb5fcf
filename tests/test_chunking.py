from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from rag.cards import document_name
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


def test_a_chunks_context_names_its_document_and_the_heading_above_it():
    text = "# Results\n\nRevenue rose 12% to $4.1 billion.\n\n## Outlook\n\nThe company expects slower growth."
    chunks = split(Page("filings/acme_corp/2023-Q2 report.md", None, text), make_splitter(45, 0))
    context = {c.text: c.context for c in chunks}
    assert context["Revenue rose 12% to $4.1 billion."] == "filings acme corp 2023 Q2 report — Results"
    assert context["The company expects slower growth."] == "filings acme corp 2023 Q2 report — Outlook"


@pytest.mark.parametrize(("source", "title", "context"), [
    ("000_aea647b47e874b1a.txt", None, ""),                      # a download's name says nothing
    ("3f2a9c1e-77b0-4f3e-9d1a-0c5e8b2d4f61.pdf", "Annual Report 2023", "Annual Report 2023"),
    ("ntsb/AAR1901.pdf", "Runway Overrun", "ntsb AAR 1901: Runway Overrun"),
])
def test_a_document_is_named_by_its_path_without_ids_and_by_its_own_title(source, title, context):
    assert document_name(source, title) == context
