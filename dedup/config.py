"""Run configuration: typed, validated, loaded from YAML.

Every option has a default that works without tuning; ``configs/default.yaml``
documents them all (a test checks that file and these defaults agree). Unknown
keys and wrong types are rejected with the key's dotted path.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class IngestConfig(_Section):
    max_doc_chars: int = Field(200_000, gt=0, description="Longer texts are cut to this and flagged `truncated_input`.")
    max_line_bytes: int = Field(50_000_000, gt=0, description="A JSONL line longer than this is rejected unread.")
    max_file_bytes: int = Field(
        200_000_000, gt=0, description="Whole-file formats (.json, .html, .xml, .txt) larger than this are rejected; JSONL is streamed at any size."
    )
    max_decompressed_bytes: int = Field(
        10_000_000_000,
        gt=0,
        description="A gzip-compressed file is decompressed this far at most (gzip bombs): a whole-file format beyond it is rejected, a JSONL file's later lines are.",
    )
    max_lines: int = Field(
        10_000_000, gt=0, description="A JSONL file's records after this line are rejected unread (one rejection); the earlier ones are kept."
    )
    max_html_bytes: int = Field(
        5_000_000, gt=0, description="HTML files larger than this are rejected unread: extracting the text takes seconds a megabyte."
    )
    min_text_chars: int = Field(1, ge=1, description="Records with less text than this are rejected as empty.")
    legacy_encodings: list[str] = Field(
        default_factory=lambda: ["big5hkscs", "gb18030", "cp949", "johab", "cp932", "euc_jis_2004", "shift_jis_2004", "iso2022_jp_2", "iso2022_kr", "hz", "cp1252"],
        description="Text that is not UTF-8 (and has no byte order mark) is decoded with the first of these, after the encoding charset-normalizer detects, that gives plausible text.",
    )
    max_accented_share: float = Field(
        0.5, gt=0, le=1,
        description="A decoding whose only non-ASCII letters are Latin is mojibake when more than this share of its Latin letters are accented.",
    )  # fmt: skip

    @field_validator("legacy_encodings")
    @classmethod
    def _known_codecs(cls, names: list[str]) -> list[str]:
        for name in names:
            try:
                codecs.lookup(name)
            except LookupError:
                raise ValueError(f"unknown encoding {name!r}") from None
        return names

    max_title_chars: int = Field(300, gt=0, description="A text file's title (the first sentence of its first line that is no caption, credit or date) is cut at the last space within this many characters.")


class NormaliseConfig(_Section):
    drop_line_patterns: list[str] = Field(
        default_factory=lambda: [
            r"^(share|tweet|email|print)( this( article| story| page)?| on \w+)*:?$",
            r"^([\w&' -]{1,25}[|\u00bb>]\s*){2,}[\w&' -]{1,25}$",  # navigation breadcrumbs: Home | World | Asia
            r"^(sign up|subscribe)\b.*\bnewsletter\b.*$",
            r"^(also read|see|read more|watch)\s*:.*$",
            r"^advertisement$",
            r"^(click|tap) here\b.*$",
            r"^follow us on\b.*$",
        ],
        description="Regular expressions (matched against whole normalised lines, case-insensitive) of lines to drop.",
    )
    cut_after_patterns: list[str] = Field(
        default_factory=lambda: [
            r"^related (posts|articles|stories)$",
            r"^previous article$",
            r"^next article$",
            r"^you (may|might) also like$",
            r"^more from\b.*$",
        ],
        description="A line matching one of these, in the second half of a document, ends the article text there.",
    )
    recurring_line_min_docs: int = Field(
        5, ge=2, description="A short line found in at least this many documents is boilerplate (share bars, footers)."
    )
    recurring_line_max_words: int = Field(
        12, ge=1, description="Only lines of at most this many words count as recurring boilerplate; long lines are story text."
    )


class LanguageConfig(_Section):
    english_stop_share: float = Field(
        0.25, gt=0, le=1,
        description="A document whose words are at least this share English stop words is English, without the detector (English news: 0.3 to 0.55; of 500 translations of the UDHR only English, Nigerian Pidgin and Scots reach 0.25).",
    )  # fmt: skip
    sample_chars: int = Field(1000, ge=50, description="The language detector reads this many characters of a document's opening.")
    min_confidence: float = Field(
        0.9, ge=0, le=1, description="A detection less sure than this leaves the language undetermined (null), which may be one story with any language."
    )
    stop_words: int = Field(
        100, ge=0, description="The stop words of a language other than English (not paraphrase terms): its this many most frequent words in wordfreq's list."
    )


class NearCopyConfig(_Section):
    shingle_words: int = Field(3, ge=1, le=8, description="Words per shingle.")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations.")
    seed: int = Field(1, ge=0, description="Seed of the MinHash permutations (datasketch-compatible).")
    threshold: float = Field(0.5, gt=0, lt=1, description="Jaccard similarity of shingle sets at or above which two documents are near-copies.")
    containment: float = Field(
        0.8, gt=0, le=1, description="Share of the smaller document's shingles found in the larger one at or above which it is a (truncated) copy."
    )
    min_containment_shingles: int = Field(
        25, ge=1, description="Containment only counts for documents with at least this many shingles (a headline is not a truncated copy)."
    )
    lede_words: int = Field(
        25, ge=0, description="Documents opening with the same this many words are also compared (finds short truncated copies LSH misses); 0 turns it off."
    )
    bands: int | None = Field(None, ge=1, description="LSH bands; derived from `threshold` when null.")
    rows: int | None = Field(None, ge=1, description="LSH rows per band; derived from `threshold` when null.")
    max_bucket: int = Field(100, ge=2, description="Pairs taken from one LSH bucket at most (large buckets are capped, not dropped).")


class ParaphraseConfig(_Section):
    enabled: bool = Field(True, description="Join rewrites of the same story (spun, summarised, re-ledded) into one cluster.")
    num_perm: int = Field(128, ge=16, le=1024, description="MinHash permutations of the fact fingerprint.")
    lsh_threshold: float = Field(0.15, gt=0, lt=1, description="Jaccard of fact fingerprints targeted by the candidate LSH.")
    fingerprint_terms: int = Field(32, ge=4, description="Most salient terms (names, numbers, rare words) per fingerprint.")
    max_bucket: int = Field(
        20, ge=2, description="Pairs taken from one fact-fingerprint LSH bucket at most: a large bucket gathers a topic's common facts, not one story."
    )
    min_score: float = Field(
        0.15, ge=0, le=1,
        description="Paraphrase score (geometric mean of the TF-IDF cosines of words and of facts) below which a candidate pair is neither one story nor one event; the pair model decides the rest.",
    )  # fmt: skip
    background_docs: int = Field(
        1000, ge=0, description="Ordinary documents of their language whose term frequencies the IDF adds to the feed's: a small feed's own story names still weigh much."
    )
    min_background_level: float = Field(
        0.02, gt=0, lt=1, description="A document's background level is taken at least at this: one alike to nothing else has a large contrast, not an infinite one."
    )
    contrast_rank: int = Field(5, ge=1, description="A document's background level (how alike it is to its topic) is its this-many-th highest candidate score.")
    max_candidates: int = Field(
        40, ge=1,
        description="A document's story candidates scored at most: its this many with the highest fact cosines (and those tied with the last). Bounds the work per document as the window grows; its background level is taken among them.",
    )  # fmt: skip
    model: Path | None = Field(
        None, description="Pair model file (`dedup train`; a relative path is taken from the working directory) that decides story and event pairs; null: the packaged model, trained on real news text."
    )


class StoryConfig(_Section):
    window_hours: float = Field(
        72.0, gt=0, description="Documents published further apart than this are one story only if their facts (numbers, names) agree."
    )
    min_fact_agreement: float = Field(
        0.5, ge=0, le=1, description="Share of numbers (and, across the window, names) two documents must have in common to be one story."
    )
    min_link_fraction: float = Field(
        0.45, gt=0, le=1, description="Anti-chaining guard: a group joins a story only if verified-similar to at least this share of the story's groups."
    )


class EventConfig(_Section):
    lsh_threshold: float = Field(
        0.03, gt=0, lt=1,
        description="Jaccard of fact fingerprints whose bands (one row each at this threshold) a second, looser LSH cuts; its extra candidates can only be one event: other articles on a happening share fewer salient facts than its rewrites do.",
    )  # fmt: skip
    min_shared_bands: int = Field(
        5, ge=1, description="Bands of that LSH two documents must share to be an event candidate: one shared band is often one common word, several are facts in common."
    )
    min_score: float = Field(
        0.05, ge=0, le=1, description="Paraphrase score below which one of those extra candidates is not one event; the pair model's event level decides the rest."
    )
    min_link_fraction: float = Field(
        0.05, gt=0, le=1, description="Anti-chaining guard: a story joins an event only if linked to at least this share of the event's stories."
    )


class CanonicalConfig(_Section):
    order: list[Literal["earliest_published", "source_priority", "representative", "longest_text", "doc_id"]] = Field(
        default_factory=lambda: ["earliest_published", "source_priority", "representative", "longest_text", "doc_id"],
        description="Criteria, first decisive, that pick each cluster's canonical article (representative: the member holding the facts the rest of its story shares most densely).",
    )
    source_priority: list[str] = Field(default_factory=list, description="Sources in order of preference (e.g. the wire first).")

    @field_validator("order")
    @classmethod
    def _ends_with_doc_id(cls, order: list[str]) -> list[str]:
        if len(set(order)) != len(order):
            raise ValueError("criteria must not repeat")
        if "doc_id" not in order:
            raise ValueError("must include doc_id, the final tie-breaker that makes the choice deterministic")
        return order


class DiffConfig(_Section):
    max_sentences: int = Field(400, ge=1, description="Sentences compared per document at most.")
    min_similarity: float = Field(
        0.25, gt=0, le=1,
        description="A variant sentence retells the canonical sentence most like it if at least this alike (Dice of their words, figures and names, each weighted by how few sentences of the two texts hold it); else it is new.",
    )  # fmt: skip
    summary_facts: int = Field(5, ge=0, description="Facts added and dropped named in a diff's one-line summary, each (the lists hold all).")


class ReportConfig(_Section):
    html_stories: int = Field(200, ge=0, description="report.html shows this many stories, the largest; every story is in the Parquet reports.")
    html_members: int = Field(30, ge=1, description="report.html lists this many members of a story at most.")
    html_diffs: int = Field(5, ge=0, description="report.html shows the diffs of this many variants of a story at most.")
    html_diff_items: int = Field(10, ge=1, description="report.html shows this many entries of each list of a diff (sentences added, dropped, aligned) at most.")


class StateConfig(_Section):
    retention_days: float = Field(7.0, gt=0, description="Stories whose newest article is older than this (by `published`, else first seen) leave the state.")


TERM_FEATURES = 1 << 22
"""Columns of the term vectors (``kernels.terms``): a term is its token hash
modulo this; at 2^22, collisions among a feed's vocabulary are rare and only
merge two terms' counts. Stored sketches depend on it (``sketch_settings``)."""
BACKGROUND_DOC_WORDS = 400
"""Words of the ordinary documents whose share holding a term is its
background share (``kernels.terms``): a term of frequency ``f`` is in
``1 - exp(-f * BACKGROUND_DOC_WORDS)`` of them. Stored sketches depend on it."""
MAX_WORKERS_PER_CORE = 4
"""More workers than this a core would only cost memory and process starts (``--workers 100000`` would fork thousands)."""


class SparkConfig(_Section):
    master: str = Field(
        "", description="Spark master URL: local[N] runs N executor threads in one JVM on this machine, spark://HOST:PORT, yarn or k8s://... a cluster; empty: the one spark-submit gives, else local[*].",
    )
    app_name: str = Field("newsdedup", description="The Spark application's name (Spark UI, cluster manager).")
    driver_memory: str = Field("2g", description="spark.driver.memory: the driver JVM's heap (with a local master, the executors' too).")
    executor_memory: str = Field("2g", description="spark.executor.memory: each executor JVM's heap on a cluster.")
    shuffle_partitions: int = Field(8, ge=1, description="spark.sql.shuffle.partitions: partitions of a DataFrame shuffle (bucket grouping, connected components); a few per executor core.")
    checkpoint_dir: str = Field(
        "", description="Where connected components checkpoint their rounds (on a cluster a shared file system, e.g. hdfs://...); empty: local checkpoints, on the executors.",
    )
    conf: dict[str, str] = Field(default_factory=dict, description="Other Spark properties, e.g. {spark.executor.cores: '4'}.")


class RuntimeConfig(_Section):
    engine: Literal["local", "spark"] = Field(
        "local", description="What runs the kernels' batches (ingest, sketch, diff): local worker processes, or Spark executors (pip install 'newsdedup[spark]', Java 17+)."
    )
    spark: SparkConfig = Field(default_factory=SparkConfig, description="The spark engine's session (runtime.engine: spark).")
    workers: int = Field(
        0, ge=0,
        description=f"Worker processes (sketches, diffs) and threads (paraphrase scores); 0 means one per core; at most {MAX_WORKERS_PER_CORE} a core are used.",
    )  # fmt: skip
    chunk_docs: int = Field(2000, ge=1, description="Documents per work chunk.")
    progress: bool = Field(True, description="Show progress bars on a terminal.")

    def parallelism(self) -> int:
        """``workers`` (at most ``MAX_WORKERS_PER_CORE`` a core), or when 0 the cores this process may run on."""
        cores = len(os.sched_getaffinity(0))
        return min(self.workers, MAX_WORKERS_PER_CORE * cores) if self.workers else cores


class Config(_Section):
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    normalise: NormaliseConfig = Field(default_factory=NormaliseConfig)
    language: LanguageConfig = Field(default_factory=LanguageConfig)
    near_copy: NearCopyConfig = Field(default_factory=NearCopyConfig)
    paraphrase: ParaphraseConfig = Field(default_factory=ParaphraseConfig)
    story: StoryConfig = Field(default_factory=StoryConfig)
    event: EventConfig = Field(default_factory=EventConfig)
    canonical: CanonicalConfig = Field(default_factory=CanonicalConfig)
    diff: DiffConfig = Field(default_factory=DiffConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    state: StateConfig = Field(default_factory=StateConfig)
    runtime: RuntimeConfig = Field(default_factory=RuntimeConfig)

    def sketch_settings(self) -> dict[str, Any]:
        """Options that stored sketches depend on: a state is only valid under the same."""
        return {
            "normalise": self.normalise.model_dump(mode="json"),
            "shingle_words": self.near_copy.shingle_words,
            "num_perm": self.near_copy.num_perm,
            "seed": self.near_copy.seed,
            "lede_words": self.near_copy.lede_words,
            "paraphrase_num_perm": self.paraphrase.num_perm,
            "fingerprint_terms": self.paraphrase.fingerprint_terms,
            "language": self.language.model_dump(mode="json"),
            "term_features": TERM_FEATURES,
            "background_doc_words": BACKGROUND_DOC_WORDS,
        }

    def diff_settings(self) -> dict[str, Any]:
        """Options that stored diffs depend on: under others, every variant is diffed again."""
        return self.diff.model_dump(mode="json")

    def decision_settings(self, pair_model_fingerprint: str) -> dict[str, Any]:
        """Options (and the pair model, by its fingerprint) that stored edges
        and results depend on: under others, every pair is matched again."""
        settings = {name: getattr(self, name).model_dump(mode="json") for name in ("near_copy", "paraphrase", "story", "event", "canonical")}
        return settings | {"pair_model": pair_model_fingerprint}


class ConfigError(ValueError):
    """An invalid configuration; the one-line message names where it was given (file, ``--set KEY``, flag) and the key's dotted path."""


def _format_errors(err: ValidationError, origin: str, blames: dict[str, str]) -> str:
    """One line: each error blamed on the override of its key (``blames``:
    dotted key -> how it was given), else on ``origin``."""
    found = []
    for e in err.errors():
        loc = [str(p) for p in e["loc"]]
        path = ".".join(loc) or "(top level)"
        matching = [k for k in blames if k.split(".")[: len(loc)] == loc[: len(k.split("."))]]
        blame = blames[max(matching, key=len)] if matching else origin
        reason = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        found.append(f"{blame}: {reason}" if blame.endswith(f" {path}") else f"{blame}: {path}: {reason}")
    return "; ".join(found)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error on one line (its own text spans several)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"{getattr(exc, 'problem', None) or str(exc).splitlines()[0]}{where}"


def parse_override(pair: str) -> tuple[str, Any]:
    """``--set KEY=VALUE``: the dotted key and the value parsed as YAML."""
    key, sep, value = pair.partition("=")
    if not sep:
        raise ConfigError(f"--set {pair}: expected KEY=VALUE")
    try:
        return key.strip(), yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {pair}: value is not valid YAML: {_yaml_problem(exc)}") from None


def load_config(path: Path | None = None, overrides: dict[str, Any] | None = None, origins: dict[str, str] | None = None) -> Config:
    """Load ``path`` (YAML) over the defaults, then apply dotted-key ``overrides``.

    Raises ConfigError naming the file, or the override (``origins``: how
    each was given, e.g. ``--set KEY`` or a flag), and the offending key.
    """
    data: dict[str, Any] = {}
    origin = "defaults"
    if path is not None:
        origin = str(path)
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{origin}: cannot read config: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{origin}: not valid YAML: {_yaml_problem(exc)}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{origin}: (top level): expected a mapping of sections")
        data = loaded or {}
    blames = {dotted: (origins or {}).get(dotted, f"override {dotted}") for dotted in overrides or {}}
    for dotted, value in (overrides or {}).items():
        section = data
        *parents, leaf = dotted.split(".")
        for depth, key in enumerate(parents):
            if section.get(key) is None:
                section[key] = {}
            section = section[key]
            if not isinstance(section, dict):
                raise ConfigError(f"{blames[dotted]}: {'.'.join(parents[: depth + 1])} is {section!r}, not a section of options")
        section[leaf] = value
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, origin, blames)) from None


def config_yaml(config: Config, commented: bool = False) -> str:
    """The configuration as YAML (what `dedup config show` prints); with
    ``commented``, each option is preceded by its description (this is how
    ``configs/default.yaml`` is made)."""
    if not commented:
        return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
    lines = ["# dedup configuration: every option, with its default.", "# Generated by `dedup config show --commented`; a test keeps it in step with the code.", ""]
    for section_name, section_field in Config.model_fields.items():
        section = getattr(config, section_name)
        lines.append(f"{section_name}:")
        lines += _commented_options(section, "  ")
        lines.append("")
    return "\n".join(lines)


def _commented_options(section: _Section, indent: str) -> list[str]:
    """Each option of ``section`` after its description, a sub-section's options indented under its name."""
    lines = []
    for name, option in type(section).model_fields.items():
        lines.append(f"{indent}# {option.description}")
        value = getattr(section, name)
        if isinstance(value, _Section):
            lines += [f"{indent}{name}:", *_commented_options(value, indent + "  ")]
            continue
        dumped = yaml.safe_dump({name: section.model_dump(mode="json")[name]}, sort_keys=False, width=1000).rstrip("\n")
        lines.extend(indent + line for line in dumped.split("\n"))
    return lines
