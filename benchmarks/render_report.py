"""Render a report directory's report.html in headless Chromium and save screenshots.

Checks the page in a real browser, opened from disk with the network off:
one screenshot of the top of the page, one of the largest story opened by
its anchor (``#story-ID``, which the page's script opens), and the DOM after
the scripts ran, to count the stories the browser shows. (Headless Chromium
paints nothing above a position the page scrolled to, so the story's
screenshot is of a copy of the page that hides everything else.) Prints the file's size and how
long each render took.

    .venv/bin/python benchmarks/render_report.py REPORT_DIR [--out benchmarks/out/render]

Needs Chromium: on Debian/Ubuntu ``apt-get install -y chromium`` (the
``chromium`` package gives /usr/bin/chromium); or give ``--chromium PATH``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

TOP_WINDOW, STORY_WINDOW = "1280,2000", "1280,4000"
"""Browser windows, width and height in pixels (the screenshots' sizes): the top of the page, and the opened story."""


def chromium_binary(given: str | None) -> str:
    """The Chromium to run; exits with how to install it when there is none."""
    found = given or next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
    if not found:
        sys.exit("Chromium not found: install it with `apt-get install -y chromium` (Debian/Ubuntu), or give --chromium PATH")
    return found


def run_chromium(binary: str, url: str, window: str, *args: str) -> tuple[str, float]:
    """Chromium headless on ``url`` (no network, a throwaway profile): its stdout and the seconds it took."""
    with tempfile.TemporaryDirectory(prefix="render-report-") as profile:
        command = [
            binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}",
            "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", f"--window-size={window}", "--virtual-time-budget=10000", *args, url,
        ]  # fmt: skip  (the unreachable proxy: any network request the page made would fail)
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"chromium failed ({done.returncode}): {done.stderr.strip().splitlines()[-1:] or ''}")
    return done.stdout, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report_dir", type=Path)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out/render"))
    parser.add_argument("--chromium", default=None)
    args = parser.parse_args()
    page = (args.report_dir / "report.html").resolve()
    if not page.is_file():
        sys.exit(f"{page}: no report.html (written by `dedup run` since issue #18)")
    binary = chromium_binary(args.chromium)
    args.out.mkdir(parents=True, exist_ok=True)
    clusters = pl.read_parquet(args.report_dir / "clusters.parquet")
    largest = clusters.sort(["size", "cluster_id"], descending=[True, False])["cluster_id"][0] if clusters.height else ""
    print(f"{page}: {page.stat().st_size / 1e6:.2f} MB, {clusters.height} stories in the reports")
    _, seconds = run_chromium(binary, page.as_uri(), TOP_WINDOW, f"--screenshot={(args.out / 'top.png').resolve()}")
    print(f"screenshot of the top: {args.out / 'top.png'} ({seconds:.1f} s)")
    alone = (args.out / "story-alone.html").resolve()
    hide = f"<style>body>header,#summary,#list,details.story:not([id='story-{largest}']){{display:none}}</style></head>"
    alone.write_text(page.read_text(encoding="utf-8").replace("</head>", hide, 1), encoding="utf-8")
    _, seconds = run_chromium(binary, f"{alone.as_uri()}#story-{largest}", STORY_WINDOW, f"--screenshot={(args.out / 'story.png').resolve()}")
    print(f"screenshot with story {largest} open: {args.out / 'story.png'} ({seconds:.1f} s)")
    dom, seconds = run_chromium(binary, f"{page.as_uri()}#story-{largest}", TOP_WINDOW, "--dump-dom")
    rows = len(re.findall(r"<tr data-search=", dom))
    opened = bool(re.search(rf"<details class=\"story\" id=\"story-{re.escape(largest)}\" open", dom))
    print(f"DOM after the scripts ran: {rows} stories listed, story {largest} {'open' if opened else 'NOT open'} ({seconds:.1f} s)")


if __name__ == "__main__":
    main()
