"""`make demo` SPVP step helpers: point the demo datasets at a category, print counts per product."""

from __future__ import annotations

import argparse
import sys

from trend.db import connect, fetch_all, table, transaction
from trend.spvp.progress import counts_per_product
from trend.spvp.viewpoints import load_category
from trend.status import SpvpStatus


def prepare(category_name: str) -> None:
    """Give wishlists and datasets without a category this one; report which datasets SPVP will map."""
    ds = connect("ds_analyzer")
    try:
        category = load_category(ds, name=category_name)
    finally:
        ds.close()
    conn = connect()
    try:
        with transaction(conn) as cur:
            cur.execute(
                f"UPDATE {table('gb_console', 'wishlist_to_groups')} SET viewpoint_category_id = %s "
                "WHERE viewpoint_category_id IS NULL",
                (category.id,),
            )
            cur.execute(
                f"UPDATE {table('ds_analyzer', 'datasets')} SET viewpoint_category_id = %s "
                "WHERE viewpoint_category_id IS NULL",
                (category.id,),
            )
            print(f"demo: {cur.rowcount} datasets use viewpoint category {category.name!r} (id {category.id})")
        rows = fetch_all(
            conn,
            f"SELECT spvp_status, COUNT(*) AS n FROM {table('gb_console', 'wishlist_dataset_histories')} "
            "GROUP BY spvp_status",
        )
        by_status = {SpvpStatus(r["spvp_status"]): int(r["n"]) for r in rows}
        if by_status and set(by_status) == {SpvpStatus.WAITING}:
            # No dataset went through analysis (that phase is not part of this checkout):
            # mark them analysed so the SPVP step has work, and say so.
            with transaction(conn) as cur:
                cur.execute(
                    f"UPDATE {table('gb_console', 'wishlist_dataset_histories')} SET spvp_status = %s "
                    "WHERE spvp_status = %s",
                    (SpvpStatus.PROCESSING, SpvpStatus.WAITING),
                )
            print(f"demo: no analysis ran; marked {by_status[SpvpStatus.WAITING]} datasets analysed (spvp_status 2)")
        else:
            print("demo: spvp_status before SPVP: " + ", ".join(f"{s.name} {n}" for s, n in sorted(by_status.items())))
    finally:
        conn.close()


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
    parser.add_argument("command", choices=["prepare", "report"])
    parser.add_argument("--category", default="synthetic-electronics")
    args = parser.parse_args(argv)
    {"prepare": prepare, "report": report}[args.command](args.category)
    return 0


if __name__ == "__main__":
    sys.exit(main())
