"""``.xml`` / ``.rss`` / ``.atom``: RSS 2.0 items or Atom entries, parsed with defusedxml (entity expansion and external references are refused)."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from dedup.readers.base import Item, Reader

_ATOM = "{http://www.w3.org/2005/Atom}"


_XML_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def _codec_name(name: str) -> str:
    """Python's name for a codec (``UTF8`` -> ``utf-8``), or ``name`` lower-cased if Python has none."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name.lower()


_CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"


class FeedReader(Reader):
    def read(self) -> Iterator[Item]:
        data = self.read_bytes()
        if not data.strip():
            yield self.reject("empty file")
            return
        declared = _XML_ENCODING.match(data)
        if declared:
            self.encoding = _codec_name(declared.group(1).decode("ascii"))
        try:
            root = SafeET.fromstring(data, forbid_dtd=False)
        except DefusedXmlException as exc:
            yield self.reject(f"unsafe XML refused ({type(exc).__name__}: entity declarations or external references)")
            return
        except SafeET.ParseError as exc:
            line = exc.position[0] if getattr(exc, "position", None) else None
            yield self.reject(f"malformed XML: {exc}", line)
            return
        if root.tag == f"{_ATOM}feed":
            yield from self._atom(root)
        elif root.tag == "rss" or root.find("channel") is not None:
            yield from self._rss(root)
        else:
            yield self.reject(f"XML root <{root.tag}> is neither an RSS 2.0 <rss> nor an Atom <feed>")

    def _rss(self, root: Any) -> Iterator[Item]:
        channel = root.find("channel")
        items = channel.findall("item") if channel is not None else []
        feed_title = _xml_text(channel, "title") if channel is not None else None
        if not items:
            yield self.reject("feed holds no <item>")
        for index, item in enumerate(items, start=1):
            fields = {
                "guid": _xml_text(item, "guid"),
                "title": _xml_text(item, "title"),
                "link": _xml_text(item, "link"),
                "text": _xml_text(item, _CONTENT_ENCODED) or _xml_text(item, "description"),
                "pubDate": _xml_text(item, "pubDate"),
                "source": _xml_text(item, "source") or feed_title,
            }
            yield self.article(fields, index, f"{self.rel}#{index}")

    def _atom(self, root: Any) -> Iterator[Item]:
        entries = root.findall(f"{_ATOM}entry")
        feed_title = _xml_text(root, f"{_ATOM}title")
        if not entries:
            yield self.reject("feed holds no <entry>")
        for index, entry in enumerate(entries, start=1):
            link = entry.find(f"{_ATOM}link")
            fields = {
                "id": _xml_text(entry, f"{_ATOM}id"),
                "title": _xml_text(entry, f"{_ATOM}title"),
                "link": link.get("href") if link is not None else None,
                "text": _xml_text(entry, f"{_ATOM}content") or _xml_text(entry, f"{_ATOM}summary"),
                "published": _xml_text(entry, f"{_ATOM}published") or _xml_text(entry, f"{_ATOM}updated"),
                "source": feed_title,
            }
            yield self.article(fields, index, f"{self.rel}#{index}")


def _xml_text(node: Any, tag: str) -> str | None:
    found = node.find(tag)
    if found is None:
        return None
    text = "".join(found.itertext()).strip()
    return text or None
