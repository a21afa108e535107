"""The spark-submit entry point (docs/scale.md):

    spark-submit --master yarn $(python -m fhiradapter.spark --script) validate --program mt-cmp \\
        --out s3a://payer/2026/issues s3a://payer/2026/ndjson/
    python -m fhiradapter.spark map --mapping mappings/mt-cmp.yaml --source contacts \\
        --input /shared/export --out /shared/out/resources /shared/export/contacts.csv

`validate` writes the issues as JSON lines (one file per partition, ISSUE_COLUMNS); `map` writes the
resources as NDJSON per resource type (resourceType=X/ folders) and the rejected rows to errors/.
Paths are anything Spark reads and writes: local, hdfs://, s3a://, abfss://, gs://.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m fhiradapter.spark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--script", action="store_true", help="print the path to give spark-submit and exit")
    parser.add_argument("--master", help="Spark master when run without spark-submit (e.g. local[2])")
    commands = parser.add_subparsers(dest="command")
    validate = commands.add_parser("validate", help="validate NDJSON (profiles + program rules per member)")
    validate.add_argument("paths", nargs="+")
    validate.add_argument("--out", required=True)
    validate.add_argument("--program")
    validate.add_argument("--no-rules", action="store_true")
    validate.add_argument("--timezone")
    mapping = commands.add_parser("map", help="map the rows of one CSV export file")
    mapping.add_argument("csv")
    mapping.add_argument("--mapping", required=True)
    mapping.add_argument("--source", help="the mapping's source the file is (default: its first)")
    mapping.add_argument("--input", dest="input_dir", help="export folder for related (index:) sources")
    mapping.add_argument("--out", required=True)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.script:
        print(Path(__file__).resolve())
        return 0
    if args.command is None:
        print("give a command: validate or map (--help)", file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession

    from fhiradapter import spark as fs
    builder = SparkSession.builder.appName(f"fhiradapter {args.command}")
    if args.master:
        builder = builder.master(args.master)
    ours = SparkSession.getActiveSession() is None   # a caller's session (a notebook, a test) stays up
    session = builder.getOrCreate()
    try:
        if args.command == "validate":
            issues = fs.validate(fs.read_ndjson(session, args.paths), program=args.program,
                                 rules=not args.no_rules, timezone=args.timezone)
            issues.write.mode("overwrite").json(args.out)
            errors = issues.where("severity IN ('error', 'fatal')").count()
            print(f"issues written to {args.out}; {errors} error(s)")
            return 1 if errors else 0
        rows = fs.map(fs.read_csv(session, args.csv), args.mapping, source=args.source, input_dir=args.input_dir)
        rows = rows.cache()
        (rows.where("resource IS NOT NULL").select("resourceType", "resource").write.mode("overwrite")
         .partitionBy("resourceType").text(args.out.rstrip("/") + "/resources"))
        rows.where("issues IS NOT NULL").select("file", "line", "issues").write.mode("overwrite").json(
            args.out.rstrip("/") + "/errors")
        rejected = rows.where("issues IS NOT NULL").count()
        print(f"resources written to {args.out}/resources; {rejected} row(s) rejected")
        return 1 if rejected else 0
    finally:
        if ours:
            session.stop()


if __name__ == "__main__":
    sys.exit(main())
