"""The Sources panel's page view: a PDF citation's page as an image, with boxes over the cited span
(rag.pages), in the shape the panel's script draws (ui.assets.SOURCES_JS). Called from the browser,
so every field is checked, and a failure comes back as a sentence, never a trace."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable

from rag import pages
from rag.errors import RagError
from rag.service import Rag

log = logging.getLogger(__name__)


def page_view_for(rag: Rag) -> Callable[[dict], dict]:
    def page_view(citation: dict) -> dict:  # the name the panel's script calls: server.page_view
        """{"image": PNG data URL, "alt", "boxes": [[left, top, width, height] in % of the image]}, or
        {"error": why}."""
        try:
            source, page = str(citation["source"]), int(citation["page"])
            start, end = int(citation["start"]), int(citation["end"])
        except (KeyError, TypeError, ValueError):
            return {"error": "This citation does not say where it is."}
        try:
            view = pages.page_view(rag, source, page, start, end)
        except (RagError, ValueError, OSError) as e:
            return {"error": f"The page can't be shown: {e}"}
        except Exception:
            log.exception("showing page %s of %s failed", page, source)
            return {"error": "The page can't be shown: the PDF could not be rendered."}
        w, h = view.width, view.height
        boxes = [[100 * x0 / w, 100 * y0 / h, 100 * (x1 - x0) / w, 100 * (y1 - y0) / h] for x0, y0, x1, y1 in view.boxes]
        alt = f"Page {page} of {source}" + (", the cited passage highlighted" if boxes else
                                             " (a scanned page: the passage can't be marked on it)")
        return {"image": "data:image/png;base64," + base64.b64encode(view.png).decode(), "alt": alt, "boxes": boxes}

    return page_view

