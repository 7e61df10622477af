"""Command line: wiring only. ``dedup run``, ``dedup config show``, ``dedup evaluate``, ``dedup show``, ``dedup train``.

Exit codes (also in the README); every error is one line on stderr:
  0  success
  1  unexpected internal error
  2  bad invocation, before any work: missing feed directory, unwritable,
     same or nested report and state directories, invalid config, a state
     of other sketch options or format (naming the path or key)
  3  another run holds the state or report lock; nothing was done
  4  ``--strict`` and at least one input was rejected (reports are written)
  5  the state is corrupted (a file missing or changed since written);
     nothing was done
  6  no space left on device; the previous report and state are whole
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

from dedup.config import Config, ConfigError, config_yaml, load_config, parse_override
from dedup.store.atomic import disk_full

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_LOCKED, EXIT_STRICT, EXIT_CORRUPT, EXIT_DISK_FULL = 0, 1, 2, 3, 4, 5, 6

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Deduplicate and cluster news feeds into stories.")
config_app = typer.Typer(no_args_is_help=True, help="Inspect the configuration.")
app.add_typer(config_app, name="config")
console = Console(stderr=True)

ConfigOption = typer.Option(None, "--config", "-c", help="YAML config file (see configs/default.yaml).")
SetOption = typer.Option(None, "--set", help="Override any option: --set near_copy.threshold=0.6 (value parsed as YAML).")


def _flag(name: str, help: str) -> Any:
    """A boolean flag: no value, none shown in --help, no ``--no-`` form."""
    return typer.Option(False, name, help=help, metavar="")


class _Log:
    """Human lines on stderr, or one JSON object per line for schedulers."""

    def __init__(self, json_lines: bool) -> None:
        self.json_lines = json_lines

    def event(self, name: str, message: str, **fields: Any) -> None:
        if self.json_lines:
            print(json.dumps({"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "event": name, **fields}, default=str), file=sys.stderr, flush=True)
        else:
            console.print(message, markup=False, highlight=False, soft_wrap=True)

    def fail(self, code: int, name: str, message: str) -> typer.Exit:
        self.event(name, f"error: {message}", error=message, exit_code=code)
        return typer.Exit(code)


def _settings(config: Path | None, pairs: list[str] | None, flags: dict[str, tuple[str, Any]]) -> Config:
    """The configuration: the file, then ``--set`` pairs, then ``flags``
    (flag -> (dotted key, value or None when not given)); an error blames the
    file, ``--set KEY`` or the flag."""
    overrides: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for pair in pairs or []:
        key, value = parse_override(pair)
        overrides[key], origins[key] = value, f"--set {key}"
    for flag, (key, value) in flags.items():
        if value is not None:
            overrides[key], origins[key] = value, flag
    return load_config(config, overrides, origins)


def _check_apart(out: Path, state: Path) -> None:
    """A run replaces what it finds in each directory: one inside the other would lose the other's files."""
    a, b = out.resolve(), state.resolve()
    if a == b or a in b.parents or b in a.parents:
        raise ConfigError(f"--out {out} and --state {state} overlap; give them two separate directories")


def _check_writable(directory: Path, what: str) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"{what} {directory} is not writable: {exc.strerror or exc}") from exc


@app.command()
def run(
    feed_dir: Path = typer.Argument(..., help="Directory of feed files (searched recursively)."),
    out: Path = typer.Option(..., "--out", "-o", help="Report directory (created if missing)."),
    config: Optional[Path] = ConfigOption,
    state: Optional[Path] = typer.Option(None, "--state", help="State directory for incremental runs."),
    strict: bool = _flag("--strict", "Exit 4 if any input is rejected."),
    dry_run: bool = _flag("--dry-run", "Run everything but write no report and no state."),
    json_log: bool = _flag("--json-log", "Log JSON lines on stderr, for schedulers."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="near_copy.threshold (Jaccard of shingle sets)."),
    paraphrase: Optional[bool] = typer.Option(None, "--paraphrase/--no-paraphrase", help="paraphrase.enabled"),
    workers: Optional[int] = typer.Option(None, "--workers", help="runtime.workers (0: one per core)."),
    engine: Optional[str] = typer.Option(None, "--engine", help="runtime.engine: local or spark (spark needs the spark extra: pip install -e '.\\[spark]')."),
    spark_master: Optional[str] = typer.Option(None, "--spark-master", help="runtime.spark.master, e.g. local[2] or spark://HOST:7077."),
    set_: Optional[list[str]] = SetOption,
) -> None:
    """Cluster every article under FEED_DIR into stories; write Parquet reports to --out."""
    from dedup.pipeline import run_job
    from dedup.progress import Progress
    from dedup.store.state import StateCorrupted, StateLocked, StateMismatch

    log = _Log(json_log)
    try:
        flags = {"--threshold": ("near_copy.threshold", threshold), "--paraphrase": ("paraphrase.enabled", paraphrase), "--workers": ("runtime.workers", workers)}
        flags |= {"--engine": ("runtime.engine", engine), "--spark-master": ("runtime.spark.master", spark_master)}
        settings = _settings(config, set_, flags)
        if not feed_dir.exists():
            raise ConfigError(f"feed directory not found: {feed_dir}")
        if not feed_dir.is_dir():
            raise ConfigError(f"feed directory {feed_dir} is not a directory; give the directory that holds the feed files")
        if state is not None:
            _check_apart(out, state)
        if not dry_run:
            _check_writable(out, "report directory")
            if state is not None:
                _check_writable(state, "state directory")
    except ConfigError as exc:
        raise log.fail(EXIT_USAGE, "invalid_invocation", str(exc)) from None
    log.event("run_started", f"dedup: reading {feed_dir}", feed_dir=str(feed_dir), out=str(out), state=str(state) if state else None)
    started = time.perf_counter()
    try:
        with Progress(settings.runtime.progress and not json_log, console) as progress:
            info = run_job(feed_dir, out, settings, progress, state_dir=state, dry_run=dry_run)
    except StateLocked as exc:
        raise log.fail(EXIT_LOCKED, "locked", str(exc)) from None
    except (StateMismatch, ConfigError) as exc:  # ConfigError: what only the run reads, e.g. the pair model file, before any work
        raise log.fail(EXIT_USAGE, "invalid_invocation", str(exc)) from None
    except StateCorrupted as exc:
        raise log.fail(EXIT_CORRUPT, "state_corrupted", str(exc)) from None
    except Exception as exc:
        if not disk_full(exc):
            raise log.fail(EXIT_INTERNAL, "internal_error", _internal_error(exc)) from None
        written = ", ".join(f"{what} {where}" for what, where in (("reports", out), ("state", state), ("TMPDIR", tempfile.gettempdir())) if where)
        message = f"no space left on device: free space where the run writes ({written}) and run again; the previous report and state are whole"
        raise log.fail(EXIT_DISK_FULL, "disk_full", message) from None
    counts = info["counts"]
    seconds = time.perf_counter() - started
    log.event(
        "run_finished",
        f"documents in: {counts['inputs']}  rejected: {counts['rejected']}  clusters: {counts['clusters']}  "
        f"duplicate rate: {counts['duplicate_rate']:.1%}  time: {seconds:.2f}s"
        + ("  (dry run: nothing written)" if dry_run else f"  reports: {out}"),
        counts=counts,
        seconds=round(seconds, 3),
        dry_run=dry_run,
    )
    if strict and counts["rejected"]:
        raise log.fail(EXIT_STRICT, "strict_rejections", f"--strict: {counts['rejected']} input(s) rejected; see {out / 'rejected.parquet'}")


@config_app.command("show")
def config_show(
    config: Optional[Path] = ConfigOption,
    set_: Optional[list[str]] = SetOption,
    commented: bool = _flag("--commented", "Describe each option in a comment."),
) -> None:
    """Print the effective configuration as YAML."""
    try:
        typer.echo(config_yaml(_settings(config, set_, {}), commented), nl=False)
    except ConfigError as exc:
        raise _Log(False).fail(EXIT_USAGE, "invalid_config", str(exc)) from None


@app.command()
def evaluate(
    report_dir: Path = typer.Argument(..., help="A report directory written by `dedup run`."),
    labels: Path = typer.Option(..., "--labels", help="CSV with columns doc_id,cluster (the gold stories)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the scores as JSON here."),
) -> None:
    """Score the clusters against gold labels: pairwise P/R/F1, B-cubed F1, adjusted Rand index."""
    from dedup.evaluate import EvaluationError, evaluate_reports

    try:
        scores = evaluate_reports(report_dir, labels)
    except EvaluationError as exc:
        raise _Log(False).fail(EXIT_USAGE, "invalid_evaluation", str(exc)) from None
    text = json.dumps(scores, indent=2)
    if json_out:  # before any output: a failure is then the only line
        try:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise _Log(False).fail(EXIT_USAGE, "invalid_evaluation", f"--json {json_out}: cannot write: {exc.strerror or exc}") from None
    from rich.table import Table

    table = Table(title=f"{report_dir} vs {labels}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in scores.items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    Console().print(table)
    print(text)


@app.command()
def show(
    report_dir: Path = typer.Argument(..., help="A report directory written by `dedup run`."),
    story: Optional[str] = typer.Option(None, "--story", help="Show this story (its cluster_id): canonical, members, diffs."),
    words: Optional[str] = typer.Option(None, "--search", help="Stories with a title holding these words (one found: shown whole)."),
    sort: str = typer.Option("size", "--sort", help="Rank stories by size or recent (latest member first)."),
    limit: int = typer.Option(20, "--limit", min=1, help="Stories listed at most (with --story: its members)."),
    items: int = typer.Option(3, "--items", min=0, help="Lines shown of each diff list (sentences added, dropped, changed)."),
    as_json: bool = _flag("--json", "Print the same as JSON, for scripts."),
) -> None:
    """Show the stories of a report: ranked, or one with its canonical, members and what each changed."""
    from dedup.reports.views import ReportError
    from dedup.show import show_report

    try:
        show_report(report_dir, Console(), story=story, words=words, order=sort, limit=limit, items=items, as_json=as_json)
    except ReportError as exc:
        raise _Log(False).fail(EXIT_USAGE, "invalid_report", str(exc)) from None


@app.command()
def train(
    feed_dir: Path = typer.Argument(..., help="Directory of feed files, labelled by --labels."),
    labels: Path = typer.Option(..., "--labels", help="CSV with columns doc_id,cluster[,event]: the gold stories (and events) of the feed's documents."),
    out: Path = typer.Option(..., "--out", "-o", help="Model file to write (JSON); point paraphrase.model at it."),
    config: Optional[Path] = ConfigOption,
    set_: Optional[list[str]] = SetOption,
) -> None:
    """Fit the story and event pair model to a labelled feed of your own."""
    from dedup.kernels.pair_model import load_model
    from dedup.progress import SILENT
    from dedup.train import candidate_features, fit, labelled_pairs, read_labels

    log = _Log(False)
    try:
        settings = _settings(config, set_, {})
        if not feed_dir.is_dir():
            raise ConfigError(f"feed directory {feed_dir} is not a directory")
        gold = read_labels(labels)
        pairs = labelled_pairs(candidate_features(feed_dir, settings, SILENT), gold)
        model = fit(pairs, f"dedup train {feed_dir} --labels {labels}: {pairs.height} candidate pairs, {int(pairs['story'].sum())} of one story", load_model(settings.paraphrase.model))
        out.parent.mkdir(parents=True, exist_ok=True)
        model.save(out)
    except ConfigError as exc:
        raise log.fail(EXIT_USAGE, "invalid_invocation", str(exc)) from None
    except OSError as exc:
        raise log.fail(EXIT_USAGE, "invalid_invocation", f"{out}: cannot write: {exc.strerror or exc}") from None
    log.event("trained", f"model written to {out}: {model.trained_on}")


def _internal_error(exc: Exception) -> str:
    """One line for a failure the run did not foresee (a bug): the traceback
    goes to a file for the report, not on the user's screen."""
    with tempfile.NamedTemporaryFile("w", prefix="dedup-error-", suffix=".txt", delete=False, encoding="utf-8") as trace:
        traceback.print_exception(exc, file=trace)
    return f"internal error ({type(exc).__name__}: {exc}); the previous report and state are whole; the traceback is in {trace.name}: please report it"


def main() -> None:  # pragma: no cover - console entry point
    app()
