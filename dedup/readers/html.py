"""``.html`` / ``.htm``: the main text, extracted with trafilatura (scripts and navigation dropped)."""

from __future__ import annotations

from collections.abc import Iterator

from dedup.readers.base import Item, Reader


class HtmlReader(Reader):
    def read(self) -> Iterator[Item]:
        import trafilatura  # here, not at the top: its import costs a tenth of a second in every run, HTML or not

        html = self.decode(self.read_bytes("max_html_bytes"))
        extracted = trafilatura.bare_extraction(html, with_metadata=True)
        if extracted is None or not (extracted.text or "").strip():
            yield self.reject("no main text found in HTML")
            return
        yield self.article(
            {"title": extracted.title, "text": extracted.text, "url": extracted.url, "source": extracted.sitename, "date": extracted.date},
            None,
            self.rel,
        )
