"""CLI: ``python -m trend.spvp.load_viewpoints FILE`` creates/updates a viewpoint category."""

from __future__ import annotations

import argparse
import sys

from trend.db import connect
from trend.spvp.viewpoints import ViewpointFileError, read_file, save_category


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", help="YAML or JSON viewpoint file")
    args = parser.parse_args(argv)
    try:
        category = read_file(args.file)
    except ViewpointFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    conn = connect("ds_analyzer")
    try:
        category_id = save_category(conn, category)
    finally:
        conn.close()
    print(f"viewpoint category {category.name!r} id={category_id}: {len(category.viewpoints)} viewpoints")
    return 0


if __name__ == "__main__":
    sys.exit(main())
