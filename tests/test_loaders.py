
import pytest

from rag.errors import LoadError
from rag.loaders import discover, load

from .files import write_docx, write_html, write_pdf

MB = 1_000_000


def test_text_file_keeps_its_own_characters_and_newlines(tmp_path):
    raw = "Line one.\r\nLine two —\tunicode ‘quotes’.\n\n\nEnd"
    (tmp_path / "a.txt").write_bytes(raw.encode())
    [page] = load(tmp_path / "a.txt", "a.txt", MB)
    assert page.text == raw and page.page is None and page.source == "a.txt"


def test_markdown_is_loaded_as_its_text(tmp_path):
    (tmp_path / "a.md").write_text("# Title\n\nSome *text*.", encoding="utf-8")
    assert load(tmp_path / "a.md", "a.md", MB)[0].text == "# Title\n\nSome *text*."


def test_html_keeps_visible_text_and_drops_scripts_and_styles(tmp_path):
    write_html(tmp_path / "a.html", "<h1>Heading</h1><p>The <b>river</b> is long.</p>")
    [page] = load(tmp_path / "a.html", "a.html", MB)
    assert "Heading" in page.text and "river" in page.text
    assert "secret" not in page.text and "color" not in page.text


def test_pdf_pages_are_numbered_from_one(tmp_path):
    write_pdf(tmp_path / "a.pdf", ["Alpha page text.", "Beta page text."])
    pages = load(tmp_path / "a.pdf", "a.pdf", MB)
    assert [p.page for p in pages] == [1, 2]
    assert "Beta" in pages[1].text and "Beta" not in pages[0].text


def test_docx_paragraphs_are_loaded(tmp_path):
    write_docx(tmp_path / "a.docx", ["First paragraph.", "Second paragraph."])
    assert load(tmp_path / "a.docx", "a.docx", MB)[0].text == "First paragraph.\n\nSecond paragraph."


@pytest.mark.parametrize("name, content, reason", [
    ("binary.txt", bytes(range(256)) * 10, "binary"),
    ("latin1.txt", "café".encode("latin-1"), "not valid UTF-8"),
    ("empty.md", b"", "no text found"),
    ("blank.txt", b"  \n\n \t", "no text found"),
    ("truncated.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog", "PDF could not be read"),
    ("notzip.docx", b"this is not a zip archive", "DOCX could not be read"),
    ("image.png", b"\x89PNG\r\n", "unsupported file type"),
])
def test_broken_files_raise_a_load_error_with_a_reason(tmp_path, name, content, reason):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(LoadError, match=reason):
        load(tmp_path / name, name, MB)


def test_files_over_the_size_limit_are_refused(tmp_path):
    (tmp_path / "big.txt").write_text("x" * 2000)
    with pytest.raises(LoadError, match="over the"):
        load(tmp_path / "big.txt", "big.txt", 1000)


def test_discover_walks_folders_in_order_and_skips_hidden_files(tmp_path):
    for name in ["b.txt", "a.md", "sub/c.pdf", ".hidden.txt", ".git/config"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    found = [f.relative_to(root).as_posix() for root, f in discover([tmp_path])]
    assert found == ["a.md", "b.txt", "sub/c.pdf"]


def test_discover_takes_a_single_file_relative_to_its_folder(tmp_path):
    (tmp_path / "one.txt").write_text("x")
    assert list(discover([tmp_path / "one.txt"])) == [(tmp_path, tmp_path / "one.txt")]
