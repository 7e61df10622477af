"""``.txt`` / ``.md``: one article per file; the title is the first sentence of the first line that is no photo caption, credit or date (``titles``), and a date opening the text is its publication date."""

from __future__ import annotations

from collections.abc import Iterator

from dedup.readers.base import Item, Reader
from dedup.readers.titles import text_title


class TextReader(Reader):
    def read(self) -> Iterator[Item]:
        text = self.decode(self.read_bytes()).replace("\r\n", "\n").replace("\r", "\n")
        title, published = text_title(text, self.config.max_title_chars)
        yield self.article({"title": title, "text": text, "published": published}, None, self.rel)
