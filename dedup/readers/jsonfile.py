"""``.json``: an article object or an array of them."""

from __future__ import annotations

import json
from collections.abc import Iterator

from dedup.readers.base import Item, Reader, json_type, unreadable_json


class JsonReader(Reader):
    def read(self) -> Iterator[Item]:
        text = self.decode(self.read_bytes())
        if text.lstrip().startswith("<"):
            yield self.reject("not JSON: the file holds HTML or XML (an error page saved as .json?)")
            return
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield self.reject(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", exc.lineno)
            return
        except (RecursionError, ValueError) as exc:
            yield self.reject(unreadable_json(exc))
            return
        if isinstance(value, dict):
            yield self.article(value, None, self.rel)
        elif isinstance(value, list):
            if not value:
                yield self.reject("JSON array holds no articles")
            for index, item in enumerate(value, start=1):
                if isinstance(item, dict):
                    yield self.article(item, index, f"{self.rel}#{index}")
                else:
                    yield self.reject(f"array item is a {json_type(item)}, not an article object", index)
        else:
            yield self.reject(f"JSON holds a {json_type(value)}, not an article or a list of articles")
