"""``qdrant-stats``: a table of collections, from the exporter or from Qdrant directly.

    qdrant-stats --exporter http://localhost:9999
    QDRANT_API_KEY=... qdrant-stats --qdrant https://xyz.cloud.qdrant.io:6333

The API key is read from the environment, never from the command line.
"""

from __future__ import annotations

import argparse
import os
import sys

from python_exporter import ExporterClient
from qdrant_cloud_client import QdrantClient
from qdrant_models import Collection, QdrantStatsError


def table(collections: list[Collection]) -> str:
    header = ("COLLECTION", "STATUS", "POINTS", "INDEXED", "SEGMENTS", "OPTIMIZER")
    rows = [
        (
            c.name,
            c.status.value,
            "-" if c.points is None else str(c.points),
            "-" if c.indexed_vectors is None else str(c.indexed_vectors),
            "-" if c.segments is None else str(c.segments),
            {True: "ok", False: "error", None: "-"}[c.optimizer_ok],
        )
        for c in collections
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [header, *rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qdrant-stats", description="Print a table of Qdrant's collections.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--exporter", metavar="URL", help="qdrant-exporter's base URL, e.g. http://localhost:9999")
    source.add_argument("--qdrant", metavar="URL", help="Qdrant's REST URL; the key comes from QDRANT_API_KEY")
    parser.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS")
    args = parser.parse_args(argv)
    try:
        if args.exporter:
            with ExporterClient(args.exporter, timeout=args.timeout) as exporter:
                metrics = exporter.scrape()
                if not metrics.up():
                    print(f"qdrant-stats: the exporter at {args.exporter} cannot reach Qdrant (qdrant_up 0)", file=sys.stderr)
                    return 1
                collections = metrics.collections()
        else:
            with QdrantClient(args.qdrant, api_key=os.environ.get("QDRANT_API_KEY"), timeout=args.timeout) as qdrant:
                collections = qdrant.collections()
    except QdrantStatsError as error:
        print(f"qdrant-stats: {error}", file=sys.stderr)
        return 1
    print(table(collections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
