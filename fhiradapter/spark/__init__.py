"""fhiradapter on Spark (issue 18): validation and mapping over DataFrames, for inputs no machine holds.

    from fhiradapter import spark as fs
    lines = fs.read_ndjson(session, ["s3a://payer/2026/ndjson/"])     # source, line, value
    issues = fs.validate(lines, program="mt-cmp")                     # one row per issue
    rows = fs.read_csv(session, "s3a://agency/contacts.csv")          # the CSV columns + line
    resources = fs.map(rows, "mappings/mt-cmp.yaml", source="contacts", input_dir="/shared/export")

Work runs in mapPartitions: each executor's Python worker builds its validator, program rules and
mapping once (a module cache; Spark reuses Python workers) and keeps them for every partition. A
member's resources are grouped by member key (fhiradapter.members) before the program rules see them,
so a record is never split between executors. The results are those of one process (`validate`,
`map`): the same resources, issues and findings; notes said once per file and team findings said once
per run are kept once here too (the first by file and line). docs/scale.md: running on a cluster.
"""
from __future__ import annotations

import csv
from datetime import date
from typing import TYPE_CHECKING, Any, Iterable, Iterator

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from ..validator.engine import Validator

ISSUE_COLUMNS = ("source", "line", "stage", "severity", "code", "rule", "expression", "message")
ISSUE_SCHEMA = ("source string, line long, stage string, severity string, code string, rule string, "
                "expression string, message string, note_key string, team_key string, position string")
RESOURCE_SCHEMA = ("file string, line long, resourceType string, id string, member string, resource string, "
                   "issues string")
UNKEYED = "\x00"   # group key prefix of a line that belongs to no member (validated alone)

_CACHE: dict[Any, Any] = {}   # per Python worker: what is built once (validators, mappings)


# -- reading -----------------------------------------------------------------------------------------

def read_ndjson(spark: SparkSession, paths: Iterable[str]) -> DataFrame:
    """(source, line, value) of every line of the NDJSON files under `paths` (files or folders; local,
    hdfs://, s3a://, abfss://, gs://). A file is read by one task, its lines numbered from 1."""
    sc = spark.sparkContext
    rdd = sc.union([sc.wholeTextFiles(p) for p in paths])
    return spark.createDataFrame(rdd.flatMap(_numbered), "source string, line long, value string")


def _numbered(item: tuple[str, str]) -> Iterator[tuple[str, int, str]]:
    path, text = item
    source = path[len("file:"):] if path.startswith("file:") else path
    while source.startswith("//"):
        source = source[1:]
    for n, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield source, n, line


def read_csv(spark: SparkSession, path: str, *, delimiter: str = ",") -> DataFrame:
    """The rows of one CSV export as a DataFrame: its header's columns (trimmed text, empty = null)
    plus `line`. One record per line (a quoted value spanning lines needs the one-process reader)."""
    sc = spark.sparkContext
    lines = sc.textFile(path).zipWithIndex()
    header_text = lines.first()[0]
    header = [c.strip() for c in next(csv.reader([header_text.lstrip("\ufeff")], delimiter=delimiter))]
    schema = ", ".join(f"`{c}` string" for c in header) + ", line long"

    def parse(item: tuple[str, int]) -> Iterator[tuple[Any, ...]]:
        text, index = item
        if index == 0 or not text.strip():
            return
        fields = next(csv.reader([text], delimiter=delimiter))
        values = [(v.strip() or None) for v in fields[:len(header)]]
        values += [None] * (len(header) - len(values))
        yield (*values, index + 1)

    return spark.createDataFrame(lines.flatMap(parse), schema)


# -- validate ----------------------------------------------------------------------------------------

def _validator(options: tuple[tuple[str, Any], ...]) -> Validator:
    key = ("validator", options)
    v = _CACHE.get(key)
    if v is None:
        from ..validator.engine import Validator
        v = _CACHE[key] = Validator(**dict(options))
    return v


def _key_lines(rows: Iterable[Any]) -> Iterator[tuple[str, tuple[str, int, str], bool, str | None]]:
    """(group key, (source, line, text), member-less reference data?, latest date) per line."""
    import orjson

    from ..members import member_key
    from ..rules.window import LatestDate
    from ..validator.submission import SHARED_TYPES
    for row in rows:
        source, line, text = row[0], row[1], row[2]
        try:
            resource = orjson.loads(text)
        except orjson.JSONDecodeError:
            resource = None
        key = member_key(resource) if isinstance(resource, dict) else None
        shared = key is None and isinstance(resource, dict) and resource.get("resourceType") in SHARED_TYPES
        latest = None
        if key is not None or shared:
            found = LatestDate()
            found.add(resource)
            latest = found.text
        yield (key if key is not None else f"{UNKEYED}{source}\x00{line}"), (source, line, text), shared, latest


def _note_key(issue: Any) -> str | None:
    """Notes the validator says once per NDJSON file (codes not checked, extension without
    definition, invariant not checked): kept for their first line only."""
    if issue.severity == "information" and issue.code == "informational" and (
            issue.rule in ("binding-not-checked", "extension-unknown") or " not checked: " in issue.message):
        return f"{issue.source}\x00{issue.rule}\x00{issue.message}"
    return None


def _issue_row(issue: Any, stage: str, team_key: str | None, position: str) -> tuple[Any, ...]:
    return (issue.source, issue.line, stage, issue.severity, issue.code, issue.rule, issue.expression,
            issue.message, _note_key(issue) if stage == "validate" else None, team_key, position)


def _validate_groups(options: tuple[tuple[str, Any], ...], program: str | None, profile: str | None,
                     context: Any) -> Any:
    def run(groups: Iterable[tuple[str, Iterable[tuple[str, int, str]]]]) -> Iterator[tuple[Any, ...]]:
        from ..validator.inputs import _ndjson_lines
        v = _validator(options)
        shared, as_of = context.value
        v.shared_context = tuple(shared)
        v.rules_as_of = as_of
        team = {f"{r.get('resourceType')}.where(id='{r.get('id')}')" for r in shared}
        for key, members in groups:
            lines = sorted(members, key=lambda m: (m[0], m[1]))   # file order, then line order
            position = f"{lines[0][0]}\x00{lines[0][1]:012d}"
            resources = []
            for source, line, text in lines:
                for item in _ndjson_lines([text.encode()], source, start=line):
                    if item.issue is not None:
                        yield _issue_row(item.issue, "validate", None, position)
                        continue
                    for issue in v.validate_resource(item.resource, profile=profile, program=program,
                                                     source=source, line=line, run_rules=False):
                        yield _issue_row(issue, "validate", None, position)
                    resources.append((source, line, item.resource))
            if key.startswith(UNKEYED) or not v.rules or not resources:
                continue
            v.__dict__["_shared_findings"] = set()   # said once per run: kept once by the driver
            found = v.rules_for([r for _, _, r in resources], program,
                                [r.get("resourceType", "Resource") for _, _, r in resources])
            for k, issue in found:
                issue.source = resources[k][0] if k is not None else resources[0][0]
                issue.line = resources[k][1] if k is not None else None
                root = (issue.expression or "").split(")", 1)[0] + ")"
                team_key = f"{issue.rule}\x00{issue.expression}\x00{issue.message}" if root in team else None
                yield _issue_row(issue, "rules", team_key, position)
    return run


def validate(df: DataFrame, *, program: str | None = None, profile: str | None = None, rules: bool = True,
             timezone: str | None = None, show_values: bool = False, partitions: int | None = None) -> DataFrame:
    """Validate NDJSON lines (a DataFrame of source, line, value: read_ndjson's) with profiles and, per
    member record, the program rules: one row per issue (ISSUE_COLUMNS), as `fhiradapter validate`
    reports them (stage 'rules' for program-rule findings)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from ..rules.window import LatestDate
    spark = df.sparkSession
    sc = spark.sparkContext
    options = tuple(sorted({"rules": rules, "timezone": timezone, "show_values": show_values}.items()))
    keyed = df.select("source", "line", "value").rdd.mapPartitions(_key_lines).cache()
    shared: list[dict[str, Any]] = []
    as_of: date | None = None
    if rules:
        import orjson
        rows = keyed.filter(lambda k: k[2]).map(lambda k: k[1]).collect()
        shared = [orjson.loads(text) for _, _, text in sorted(rows, key=lambda r: (r[0], r[1]))]
        texts = keyed.map(lambda k: k[3]).filter(lambda t: t is not None)
        latest = LatestDate()
        latest.text = texts.max() if not texts.isEmpty() else None
        as_of = latest.day
    context = sc.broadcast((shared, as_of))
    groups = keyed.map(lambda k: (k[0], k[1])).groupByKey(partitions or sc.defaultParallelism)
    issues = spark.createDataFrame(groups.mapPartitions(_validate_groups(options, program, profile, context)),
                                   ISSUE_SCHEMA)
    keyed.unpersist()
    # once per file (notes) and once per run (team findings): the first by file and line
    first_note = Window.partitionBy("note_key").orderBy("line")
    first_team = Window.partitionBy("team_key").orderBy("position")
    issues = (issues.withColumn("n", F.when(F.col("note_key").isNull(), 1).otherwise(F.row_number().over(first_note)))
              .withColumn("t", F.when(F.col("team_key").isNull(), 1).otherwise(F.row_number().over(first_team)))
              .where("n = 1 AND t = 1"))
    return issues.select(*ISSUE_COLUMNS)


# -- map ---------------------------------------------------------------------------------------------

def _mapping_run(path: str, input_dir: str | None) -> Any:
    key = ("mapping", path, input_dir)
    run = _CACHE.get(key)
    if run is None:
        from ..mapping.engine import MappingRun
        from ..mapping.loader import load_mapping
        run = MappingRun(load_mapping(path), input_dir or ".")
        if input_dir is not None:
            for _ in run._load_related():   # related (index:) rows the records look up
                pass
        _CACHE[key] = run
    return run


def _map_partition(path: str, source: str | None, input_dir: str | None) -> Any:
    def run_rows(rows: Iterable[Any]) -> Iterator[tuple[Any, ...]]:
        import orjson

        from ..mapping.sources import Record
        run = _mapping_run(path, input_dir)
        name = source or run.mapping.mapped_sources[0]
        spec = run.mapping.sources[name]
        file = spec["file"]
        templates = run.mapping.templates_of(name)
        prefix = run.prefix(file)
        run.ctx.strict_columns = spec.get("format", "csv") == "csv"
        for row in rows:
            data = row.asDict()
            line = int(data.pop("line"))
            result = run.map_one(name, file, Record(line, data), templates, prefix)
            if result.issues:
                yield (file, line, None, None, None, None, orjson.dumps(result.issues).decode())
                continue
            for template, resource, member, _key in result.resources:
                yield (file, line, template.resource_type, resource.get("id"), member,
                       orjson.dumps(resource).decode(), None)
    return run_rows


def map(df: DataFrame, mapping: str, *, source: str | None = None, input_dir: str | None = None) -> DataFrame:  # noqa: A001
    """Map the rows of one export file (read_csv's DataFrame: columns + line) with a mapping file:
    one row per resource (its JSON in `resource`) or per rejected row (`issues`), as `fhiradapter map`
    maps each row. input_dir: the export folder, readable by every executor, for related (index:)
    sources. Checks across rows (one key used twice, references to rejected rows) are `run`'s."""
    return df.sparkSession.createDataFrame(df.rdd.mapPartitions(_map_partition(str(mapping), source, input_dir)),
                                           RESOURCE_SCHEMA)


__all__ = ["read_ndjson", "read_csv", "validate", "map", "ISSUE_COLUMNS"]
