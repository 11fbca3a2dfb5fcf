"""Writes the layout fixtures: real pages of ../shared/data/pdfs as PDFium reads them (the page text and
its lines with their geometry), so that tests/test_layout.py runs without ../shared. Run from the repo
root: .venv/bin/python tests/data/layout/extract.py"""

import dataclasses
import json
from pathlib import Path

from rag.config import Settings
from rag.loaders import pdf
from rag.loaders.limits import Budget

PDFS = Path("../shared/data/pdfs")
HERE = Path(__file__).parent
PAGES = {  # fixture name: (file, pages from 1; all pages when the document's running lines are tested)
    "ntsb_report": ("ntsb/20080102X00002.pdf", [1, 2, 3]),
    "dhs_hyphenated": ("agency/DHS2020.pdf", [10]),
    "hhs_table": ("agency/HHS2022.pdf", [50]),
    "dot_contents": ("agency/DOT2022.pdf", [1]),
    "nih_bullets": ("nih/NCT06152666_Prot_000.pdf", [14]),
    "dot_kpi": ("agency/DOT2022.pdf", [9, 10, 11]),
    "nih_cells": ("nih/NCT06151600_Prot_000.pdf", [18]),
    "nih_cell_lists": ("nih/NCT06150378_Prot_SAP_000.pdf", [16]),
}


def main() -> None:
    for name, (file, pages) in PAGES.items():
        path = PDFS / file
        budget = Budget(path, Settings())
        with pdf._open(path, budget) as (doc, _):
            layouts = [pdf._text_layer(doc, n - 1, budget) for n in pages]
        data = [{**dataclasses.asdict(layout), "page": n} for n, layout in zip(pages, layouts, strict=True)]
        (HERE / f"{name}.json").write_text(json.dumps({"source": file, "pages": data}, ensure_ascii=False))


if __name__ == "__main__":
    main()
