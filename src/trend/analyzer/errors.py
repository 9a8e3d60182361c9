"""The one exception type the job handles: a failure with a documented ErrorCode."""

from __future__ import annotations

from trend.status import ErrorCode


class AnalysisError(RuntimeError):
    """Analysis of a dataset failed with a code from trend.status.ErrorCode."""

    def __init__(self, code: ErrorCode, message: str, dataset_id: int | None = None):
        self.code = ErrorCode(code)
        self.dataset_id = dataset_id
        prefix = f"dataset {dataset_id}: " if dataset_id is not None else ""
        super().__init__(f"{prefix}[{self.code.value} {self.code.name}] {message}")
        self.detail = message


class InjectedFailure(RuntimeError):
    """Raised by a configured fail point (tests and drills only)."""
