"""A gremlite connection with Amazon Neptune's Gremlin semantics, for tests and local runs.

Neptune differs from TinkerGraph (and gremlite) where it hurts this service:

* a vertex ``property(k, v)`` without a cardinality uses **set** cardinality: it adds ``v`` to
  the values of ``k`` (``has(k, x)`` then matches any value, ``values(k)`` returns them all,
  ``by(k)`` / ``elementMap()`` the first one);
* ``property(single, k, v)`` removes every value of ``k`` and sets ``v``;
* ``Cardinality.list`` is not supported;
* there are no sessions: **each request is its own transaction**, committed when the
  traversal finishes and rolled back if it raises.

This connection rewrites every ``property`` step into one that applies those rules, and commits
(or rolls back) after each submitted traversal. Everything else is gremlite.
"""

from __future__ import annotations

import gremlite.querytools as qt
from gremlin_python.driver.remote_connection import RemoteTraversal
from gremlin_python.process.traversal import Bytecode, Cardinality
from gremlin_python.structure import graph
from gremlite import SQLiteConnection
from gremlite.errors import BadStepArgs, UnsupportedUsage
from gremlite.steps import Property, all_known_initial_producer_steps, bytecode_to_producer_chain

NEPTUNE_PROPERTY_STEP = "neptuneEmulation:property"


class NeptuneProperty(Property):
    """``property()`` as Neptune runs it: set cardinality unless one is named, no list."""

    def build(self, ss) -> None:
        self.explicit = len(self.base_step.args) == 3
        if self.explicit and self.base_step.args[0] is Cardinality.list_:
            raise BadStepArgs(self.build_err_msg("Neptune does not support list cardinality"))
        super().build(ss)

    def side_effect(self) -> None:
        r = self.in_r
        element = r.last_object
        if isinstance(element, graph.Edge):
            if self.explicit and self.card is not Cardinality.single:
                raise UnsupportedUsage("edge properties are single-valued")
            card = Cardinality.single
        elif self.explicit and self.card is Cardinality.single:
            self._replace_all(r, element)
            return
        else:
            card = self.card if self.explicit else Cardinality.set_
        r.set_property(element, self.prop_name, self.prop_value, cardinality=card)

    def _replace_all(self, r, vertex) -> None:
        """Neptune's single: every existing value of the key goes, the new one stays."""
        existing = r.get_properties(vertex, prop_names=[self.prop_name]).get(self.prop_name, [])
        if len(existing) == 1 and existing[0].value == self.prop_value:
            return
        for prop in existing:
            qt.completely_remove_vertex_property(self.con, prop.id)
        qt.create_vertex_property(self.con, vertex.id, self.prop_name, self.prop_value)


all_known_initial_producer_steps.setdefault(NEPTUNE_PROPERTY_STEP, NeptuneProperty)


def _rewrite(bytecode: Bytecode) -> Bytecode:
    out = Bytecode()
    out.source_instructions = list(bytecode.source_instructions)
    for step in bytecode.step_instructions:
        name, args = step[0], [_rewrite(a) if isinstance(a, Bytecode) else a for a in step[1:]]
        out.step_instructions.append([NEPTUNE_PROPERTY_STEP if name == "property" else name, *args])
    return out


class NeptuneSemanticsConnection(SQLiteConnection):
    """Each submitted traversal runs to the end and commits, or rolls back if it raises."""

    def submit(self, bytecode: Bytecode) -> RemoteTraversal:
        try:
            producer = bytecode_to_producer_chain(self.config, self.con, _rewrite(bytecode))
            traversers = []
            while True:  # Producer.__next__ yields traversers; its __iter__ yields internal results
                try:
                    traversers.append(next(producer))
                except StopIteration:
                    break
        except BaseException:
            self.con.rollback()
            raise
        self.con.commit()
        return RemoteTraversal(iter(traversers))

    def commit(self) -> None:  # Neptune has no manual transactions
        pass

    def rollback(self) -> None:
        pass
