"""The README/docs error-code table, generated from trend.status.ErrorCode (one place for each fact).

`python -m trend.analyzer.docs` prints it; tests check docs/analyzer.md carries exactly this table.
"""

from __future__ import annotations

from trend.status import ErrorCode

_GROUPS = {1: "input / data", 2: "model / LLM", 3: "storage / infra"}


def error_code_table() -> str:
    lines = ["| code | name | group | meaning |", "|---:|---|---|---|"]
    for code in ErrorCode:
        lines.append(f"| {code.value} | `{code.name}` | {_GROUPS[code.value // 1000]} | {code.description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(error_code_table())
