"""Hostile documents: each one is skipped (or read) within the configured limits, with a LoadError that
says why, and the rest of the folder is still indexed. Every file here is written for real, bombs included."""

from __future__ import annotations

import gzip
import re
import struct
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pikepdf
import pytest

from rag.chunking import make_splitter, split
from rag.config import Settings
from rag.errors import LoadError
from rag.loaders import load, ocr
from rag.service import Rag
from rag.types import Chunk, Page

from .files import write_docx, write_epub, write_pdf, write_pptx, write_xlsx

MB = 1_000_000
JACK = b"All work and no play makes Jack a dull boy. "


# --- writers of hostile files -------------------------------------------------------------------
def deflated(block: bytes, total: int) -> bytes:
    """zlib data that inflates to `block` repeated up to `total` bytes, made without ever holding them."""
    z = zlib.compressobj(9)
    return b"".join(z.compress(block) for _ in range(total // len(block))) + z.flush()


def write_raw_pdf(path: Path, content: bytes, *, pages: int = 1, declared_pages: int | None = None,
                  flate: bool = False, encrypt: bytes | None = None) -> Path:
    """A minimal PDF written byte by byte, so that it can be what no PDF library would write: `pages`
    pages drawing one content stream (`content` is already deflated if `flate`), a /Count that lies,
    an /Encrypt dictionary with keys that open nothing."""
    stream_dict = b"<< /Length %d%s >>" % (len(content), b" /Filter /FlateDecode" if flate else b"")
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>")
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Count %d /Kids [%s] >>" % (declared_pages or pages, kids),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               stream_dict + b"\nstream\n" + content + b"\nendstream", *[page] * pages]
    trailer = b"/Size %d /Root 1 0 R" % (len(objects) + 1 + bool(encrypt))
    if encrypt:
        objects.append(encrypt)
        trailer += b" /Encrypt %d 0 R /ID [<00> <00>]" % len(objects)
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref)
    path.write_bytes(bytes(out))
    return path


def show_text(text: bytes) -> bytes:
    """A content stream line that draws `text`."""
    return b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET\n"


AES_256 = (b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -4 /StmF /StdCF /StrF /StdCF "
           b"/CF << /StdCF << /CFM /AESV3 /AuthEvent /DocOpen /Length 32 >> >> /O <" + b"00" * 48 +
           b"> /U <" + b"00" * 48 + b"> /OE <" + b"00" * 32 + b"> /UE <" + b"00" * 32 + b"> /Perms <" +
           b"00" * 16 + b"> >>")


def write_docx_bomb(path: Path, inflated_mb: int) -> Path:
    """A real DOCX whose word/document.xml is `inflated_mb` MB of paragraphs, deflated to about 1/1000."""
    template = write_docx(path.with_suffix(".template"), ["Template."])
    paragraphs = b"<w:p><w:r><w:t>" + JACK + b"</w:t></w:r></w:p>"
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                bomb.writestr(info, src.read(info))
                continue
            head, tail = src.read(info).split(b"<w:body>")[0], b"</w:body></w:document>"
            with bomb.open("word/document.xml", "w") as xml:
                xml.write(head + b"<w:body>")
                block = paragraphs * (MB // len(paragraphs))
                for _ in range(inflated_mb):
                    xml.write(block)
                xml.write(tail)
    template.unlink()
    return path


def write_zip_bomb(path: Path, inflated_mb: int) -> Path:
    """A real file of a zip-based format (`path` written by its library) with one more member of
    `inflated_mb` MB, deflated to about 1/1000."""
    block = JACK * (MB // len(JACK))
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as bomb, bomb.open("bomb.xml", "w") as xml:
        for _ in range(inflated_mb):
            xml.write(block)
    return path


def lie_about_size(path: Path, member: str, size: int) -> Path:
    """Rewrite the inflated size `member` declares, in the central directory and in its local header."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        struct.pack_into("<I", data, z.getinfo(member).header_offset + 22, size)
    entry = data.find(b"PK\x01\x02")
    while entry != -1:
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46:entry + 46 + name_length] == member.encode():
            struct.pack_into("<I", data, entry + 24, size)
        entry = data.find(b"PK\x01\x02", entry + 4)
    path.write_bytes(bytes(data))
    return path


# --- helpers ------------------------------------------------------------------------------------
@pytest.fixture
def docs(tmp_path) -> Path:
    """A folder with one ordinary file, which must be indexed whatever else the folder holds."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "normal.txt").write_text("The river runs past the old mill.", encoding="utf-8")
    return folder


@pytest.fixture
def rag_with(tmp_path, embedder, monkeypatch) -> Callable[..., Rag]:
    """A Rag whose limits come from RAG_* variables, so that the names the README documents are tested."""

    def make(**env: object) -> Rag:
        for name, value in env.items():
            monkeypatch.setenv(name, str(value))
        return Rag(Settings(index_dir=tmp_path / "index"), embedder)

    return make


def index_and_check(rag: Rag, folder: Path, skipped: dict[str, str], indexed: set[str] | None = None) -> None:
    """Index `folder`: exactly the `skipped` files fail, each with a reason matching its pattern, and
    normal.txt (plus `indexed`) is in the index."""
    report = rag.index([folder], progress=False)
    reasons = {Path(f.path).name: f.reason for f in report.failures}
    assert reasons.keys() == skipped.keys(), reasons
    for name, pattern in skipped.items():
        assert re.search(pattern, reasons[name]), reasons[name]
    assert {d["source"] for d in rag.documents()} == {"normal.txt"} | (indexed or set())


def peak_mb(run: Callable[[], object]) -> float:
    """Peak of the Python allocations made by `run` (zlib's output included), which may raise LoadError."""
    tracemalloc.start()
    try:
        try:
            run()
        except LoadError:
            pass
        return tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()


# --- binary and non-UTF-8 text ------------------------------------------------------------------
@pytest.mark.parametrize("name, content, reason", [
    ("archive.txt", gzip.compress(JACK * 100), "binary file"),
    ("nul-after-8kb.txt", JACK * 200 + b"\x00\x01\x02binary tail", "binary file"),  # a NUL anywhere
    ("cp1252.md", "Naïve café – résumé".encode("cp1252"), r"not valid UTF-8 \(byte 2\)"),
], ids=["gzip", "nul-after-8kb", "cp1252"])
def test_binary_or_non_utf8_file_with_a_text_extension_is_skipped(rag, docs, name, content, reason):
    (docs / name).write_bytes(content)
    index_and_check(rag, docs, {name: reason})


# --- a 50 MB single line ------------------------------------------------------------------------
@pytest.mark.parametrize("line", [JACK, b"x"], ids=["words", "no-whitespace"])
def test_a_50_mb_single_line_is_skipped_at_the_text_limit(rag, docs, line):
    (docs / "line.txt").write_bytes(line * (49_900_000 // len(line)))  # just under RAG_MAX_FILE_MB
    index_and_check(rag, docs, {"line.txt": r"over 5,000,000 characters of text \(RAG_MAX_FILE_CHARS\)"})


@pytest.mark.parametrize("line", [JACK.decode(), "x"], ids=["words", "no-whitespace"])
def test_a_single_line_at_the_text_limit_is_chunked_in_linear_memory(line):
    text = line * (5_000_000 // len(line))
    chunks: list[Chunk] = []
    peak = peak_mb(lambda: chunks.extend(split(Page("line.txt", None, text), make_splitter(500, 60))))
    assert all(text[c.start:c.end] == c.text and len(c.text) <= 500 for c in chunks)
    assert chunks[-1].end == len(text.rstrip())
    assert peak < 20 * len(text) / MB  # linear: the words' strings, not a list per chunk or a str per character


# --- PDFs: encrypted, truncated, decompression bomb, too many pages -------------------------------
def test_encrypted_pdf_is_skipped_unless_it_opens_without_a_password(rag, docs):
    for name, user_password in [("locked.pdf", "secret"), ("restricted.pdf", "")]:
        rc4_128 = pikepdf.Encryption(user=user_password, owner="owner", R=3, aes=False, metadata=False)
        with pikepdf.open(write_pdf(docs / f"plain-{name}", ["Encrypted page text."])) as plain:
            plain.save(docs / name, encryption=rc4_128)
        (docs / f"plain-{name}").unlink()
    write_raw_pdf(docs / "aes.pdf", show_text(b"Secret."), encrypt=AES_256)
    index_and_check(rag, docs, {"locked.pdf": "PDF is encrypted with a password",
                                "aes.pdf": "encrypted with a password|package that is not installed"},
                    indexed={"restricted.pdf"})  # only printing or copying is restricted: any viewer opens it


@pytest.mark.parametrize("keep", [0.5, 0.9], ids=["half", "no-xref"])
def test_truncated_pdf_is_skipped(rag, docs, keep):
    data = write_pdf(docs / "cut.pdf", ["First page text. " * 40, "Second page text. " * 40]).read_bytes()
    (docs / "cut.pdf").write_bytes(data[:int(len(data) * keep)])
    index_and_check(rag, docs, {"cut.pdf": "PDF could not be read"})


def test_pdf_decompression_bomb_is_stopped_at_the_inflate_limit(rag, docs):
    bomb = write_raw_pdf(docs / "bomb.pdf", deflated(show_text(JACK) * 10_000, 300 * MB), flate=True)
    assert bomb.stat().st_size < 2 * MB
    index_and_check(rag, docs, {"bomb.pdf": r"safety limit .*decompression bomb.*50 MB \(RAG_MAX_INFLATED_MB\)"})
    assert peak_mb(lambda: load(bomb, "bomb.pdf", 50 * MB)) < 3 * 50


def test_pdf_decompression_bomb_opening_without_a_password_is_stopped_too(rag, docs):
    """Its streams are encrypted (with the empty password): they are measured once decrypted."""
    bomb = write_raw_pdf(docs / "plain.pdf", deflated(show_text(JACK) * 10_000, 300 * MB), flate=True)
    with pikepdf.open(bomb) as plain:
        plain.save(docs / "bomb.pdf", encryption=pikepdf.Encryption(user="", owner="owner"))
    bomb.unlink()
    with pikepdf.open(docs / "bomb.pdf") as encrypted:
        assert encrypted.is_encrypted and (docs / "bomb.pdf").stat().st_size < 2 * MB  # still deflated
    index_and_check(rag, docs, {"bomb.pdf": r"safety limit .*decompression bomb.*50 MB \(RAG_MAX_INFLATED_MB\)"})


def test_a_scanned_page_of_a_huge_page_box_is_rendered_for_ocr_within_the_pixel_cap():
    dpi = ocr.render_dpi(14_400, 14_400)  # 200 x 200 inches, the largest page box PDF allows
    assert (14_400 * dpi / 72) ** 2 <= ocr.MAX_PIXELS * 1.001 and ocr.render_dpi(595, 842) == ocr.DPI  # A4 at 300 dpi


@pytest.mark.parametrize("declared", [None, 1], ids=["honest-count", "lying-count"])
def test_pdf_with_more_pages_than_the_limit_is_skipped(rag_with, docs, declared):
    write_raw_pdf(docs / "many.pdf", show_text(b"Page text."), pages=300, declared_pages=declared)
    index_and_check(rag_with(RAG_MAX_PDF_PAGES=100), docs, {"many.pdf": r"300 pages, over the 100 page limit"})


# --- DOCX zip bombs -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def docx_bomb(tmp_path_factory) -> Path:
    """300 MB of document.xml in a DOCX of about 1 MB."""
    return write_docx_bomb(tmp_path_factory.mktemp("bomb") / "bomb.docx", 300)


def test_docx_zip_bomb_is_skipped_by_its_declared_size_before_inflating(rag, docs, docx_bomb):
    bomb = docs / "bomb.docx"
    bomb.write_bytes(docx_bomb.read_bytes())
    assert bomb.stat().st_size < 2 * MB
    index_and_check(rag, docs, {"bomb.docx": r"would unzip to 30\d MB, over the 50 MB limit \(RAG_MAX_INFLATED_MB\)"})
    assert peak_mb(lambda: load(bomb, "bomb.docx", 50 * MB)) < 5


def test_docx_zip_bomb_lying_about_its_size_is_inflated_only_up_to_the_lie(rag, docs, docx_bomb):
    bomb = docs / "liar.docx"
    bomb.write_bytes(docx_bomb.read_bytes())
    lie_about_size(bomb, "word/document.xml", 20_000)
    index_and_check(rag, docs, {"liar.docx": "DOCX could not be read .*Bad CRC-32"})
    assert peak_mb(lambda: load(bomb, "liar.docx", 50 * MB)) < 10  # zipfile's read() would inflate all 300 MB


# --- HTML -----------------------------------------------------------------------------------------
def test_deeply_nested_html_is_read_without_a_recursion_error(rag, docs):
    depth = 100_000
    (docs / "deep.html").write_text(f"<html><body>{'<div>' * depth}Deep inside the divs.{'</div>' * depth}"
                                    "</body></html>", encoding="utf-8")
    index_and_check(rag, docs, {}, indexed={"deep.html"})
    assert "Deep inside the divs." in rag.store.page_text("deep.html", None)


def test_html_that_parses_longer_than_the_time_limit_is_skipped(rag_with, docs):
    (docs / "dense.html").write_text(f"<html><body>{'<b>x</b>' * 200_000}</body></html>", encoding="utf-8")
    index_and_check(rag_with(RAG_MAX_LOAD_SECONDS=0.3), docs,
                    {"dense.html": r"reading took over 0.3 s \(RAG_MAX_LOAD_SECONDS\)"})


# --- the other zip-based formats: PPTX, XLSX, EPUB --------------------------------------------------
ZIPPED = {"deck.pptx": lambda path: write_pptx(path, [["A slide."]]),
          "sheet.xlsx": lambda path: write_xlsx(path, {"Sheet": [["A cell."]]}),
          "book.epub": lambda path: write_epub(path, ["<p>A chapter.</p>"])}


@pytest.mark.parametrize("name", ZIPPED)
def test_zip_bomb_in_another_zip_based_format_is_skipped_by_its_declared_size(rag, docs, name):
    bomb = write_zip_bomb(ZIPPED[name](docs / name), 60)
    kind = name.rsplit(".", 1)[1].upper()
    index_and_check(rag, docs, {name: rf"{kind} would unzip to 60 MB, over the 50 MB limit \(RAG_MAX_INFLATED_MB\)"})
    assert peak_mb(lambda: load(bomb, name, 50 * MB)) < 5


@pytest.mark.parametrize("name", ZIPPED)
def test_zip_bomb_in_another_zip_based_format_lying_about_its_size_is_inflated_only_up_to_the_lie(rag, docs, name):
    bomb = lie_about_size(write_zip_bomb(ZIPPED[name](docs / name), 60), "bomb.xml", 20_000)
    index_and_check(rag, docs, {name: "could not be read .*Bad CRC-32"})
    assert peak_mb(lambda: load(bomb, name, 50 * MB)) < 10


def test_a_csv_over_the_text_limit_is_skipped(rag_with, docs):
    (docs / "big.csv").write_text("id,name\n" + "".join(f"{i},item {i}\n" for i in range(2000)), encoding="utf-8")
    index_and_check(rag_with(RAG_MAX_FILE_CHARS=10_000), docs,
                    {"big.csv": r"over 10,000 characters of text \(RAG_MAX_FILE_CHARS\)"})


def test_a_csv_cell_of_megabytes_is_skipped(rag, docs):
    (docs / "cell.csv").write_text('a,b\n1,"' + "x" * 2_000_000 + '"\n', encoding="utf-8")
    index_and_check(rag, docs, {"cell.csv": "CSV could not be read .*field larger than field limit"})
