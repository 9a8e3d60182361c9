"""Catalog graph: category trees with history in a Gremlin graph, recomputed race-safely.

See docs/catalog_graph.md. Modules: model (labels, modes, ids, errors), store (connections),
operations (truth writes), rules (pure engine), snapshot (reads), recompute (conditional writes),
history (as-of reads), messages + sqs (queue), dynamo (config + CategoryNode table),
consistency (drift check), demo.
"""
