"""`make demo` SPVP step: print viewpoint counts per product and each dataset's spvp_status."""

from __future__ import annotations

import argparse
import sys

from trend.db import connect, fetch_all, table
from trend.spvp.progress import counts_per_product
from trend.spvp.viewpoints import load_category
from trend.status import SpvpStatus


def report(category_name: str) -> None:
    ds = connect("ds_analyzer")
    try:
        category = load_category(ds, name=category_name)
        rows = counts_per_product(ds, category.id)
    finally:
        ds.close()
    names = [v.name for v in category.viewpoints]
    table_rows: dict[str, dict[str, int]] = {}
    for r in rows:
        table_rows.setdefault(r["mall_product_id"], {})[r["name"]] = int(r["sentences"])
    print(f"\n--- SPVP: sentences per viewpoint and product (category {category.name!r}) ---")
    print(f"  {'product':<14}" + "".join(f"{n[:10]:>11}" for n in names))
    for product, counts in sorted(table_rows.items()):
        print(f"  {product:<14}" + "".join(f"{counts.get(n, 0):>11}" for n in names))
    print("  last_object_id: " + ", ".join(f"{v.ordinal}={v.last_object_id}" for v in category.viewpoints))
    conn = connect()
    try:
        for h in fetch_all(
            conn,
            f"SELECT dataset_id, spvp_status, spvp_error FROM "
            f"{table('gb_console', 'wishlist_dataset_histories')} ORDER BY dataset_id",
        ):
            error = f" ({h['spvp_error']})" if h["spvp_error"] else ""
            print(f"  dataset {h['dataset_id']}: spvp_status {SpvpStatus(h['spvp_status']).name}{error}")
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m trend_dev.spvp_demo")
    parser.add_argument("command", choices=["report"])
    parser.add_argument("--category", default="synthetic-electronics")
    args = parser.parse_args(argv)
    report(args.category)
    return 0


if __name__ == "__main__":
    sys.exit(main())
