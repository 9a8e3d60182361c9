"""CLI: ``python -m trend.spvp.load_viewpoints FILE [--assign-wishlist ID ...]``.

Creates/updates a viewpoint category from a YAML/JSON file (``make load-viewpoints``) and,
with ``--assign-wishlist``, makes it the category of those wishlists: dataset_create copies
it into their datasets, spvp_batch maps their sentences to it. Every wishlist is checked
before anything is written, so a wrong id changes nothing.
"""

from __future__ import annotations

import argparse
import sys

from trend.datasets import UnknownWishlist
from trend.db import connect
from trend.spvp.viewpoints import (
    ViewpointFileError,
    assign_to_wishlist,
    check_wishlist,
    read_file,
    save_category,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", help="YAML or JSON viewpoint file")
    parser.add_argument(
        "--assign-wishlist",
        type=int,
        action="append",
        default=[],
        metavar="ID",
        help="make this the viewpoint category of wishlist ID (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        category = read_file(args.file)
    except ViewpointFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    conn = connect("ds_analyzer")
    try:
        for wishlist_id in args.assign_wishlist:
            check_wishlist(conn, wishlist_id)
        category_id = save_category(conn, category)
        print(f"viewpoint category {category.name!r} id={category_id}: {len(category.viewpoints)} viewpoints")
        for wishlist_id in args.assign_wishlist:
            done = assign_to_wishlist(conn, wishlist_id, category_id)
            print(
                f"wishlist {wishlist_id}: {done.groups} group(s) now use category id={category_id}"
                f"; {done.datasets} existing dataset(s) without a category got it"
            )
    except UnknownWishlist as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
