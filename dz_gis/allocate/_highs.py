"""A mixed-integer program held as sparse arrays and solved by HiGHS (highspy).

The siting models are built here column block by column block and row block by row block
(COO triplets), then passed to HiGHS in one call: no modelling layer in between (PuLP, the
route spopt takes, spends most of a large model's time building Python objects).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from .._errors import DzGisError

__all__ = ["LpRelaxation", "Milp", "MilpResult"]


@dataclass
class MilpResult:
    """What HiGHS found: the values of every column, the objective, and how sure it is."""

    x: np.ndarray  #: value of every column
    objective: float  #: objective value of ``x`` (in the model's own sense)
    bound: float  #: the best bound HiGHS proved
    mip_gap: float  #: relative gap between them (0 when optimal)
    status: str  #: ``"optimal"``, ``"time_limit"`` or ``"node_limit"`` (best found, with its gap)
    solve_s: float  #: seconds spent in HiGHS


@dataclass
class LpRelaxation:
    """The linear relaxation of a :class:`Milp` (integrality dropped), solved."""

    x: np.ndarray  #: value of every column
    row_dual: np.ndarray  #: dual value of every row (how the objective moves per unit of the row's bound)
    objective: float


@dataclass
class Milp:
    """Columns and rows of a MILP, added in blocks; ``minimize`` or maximize its cost."""

    minimize: bool = True
    cost: list[np.ndarray] = field(default_factory=list)
    lower: list[np.ndarray] = field(default_factory=list)
    upper: list[np.ndarray] = field(default_factory=list)
    integer: list[np.ndarray] = field(default_factory=list)
    row_lower: list[np.ndarray] = field(default_factory=list)
    row_upper: list[np.ndarray] = field(default_factory=list)
    triplets: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    n_cols: int = 0
    n_rows: int = 0
    options: dict[str, object] = field(default_factory=dict)  #: HiGHS options for this model

    def add_columns(
        self, cost: np.ndarray, lower: float | np.ndarray, upper: float | np.ndarray, *, integer: bool
    ) -> int:
        """Add ``len(cost)`` columns; returns the index of the first."""
        cost = np.asarray(cost, dtype=float)
        n = len(cost)
        self.cost.append(cost)
        self.lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        self.integer.append(np.full(n, integer))
        first = self.n_cols
        self.n_cols += n
        return first

    def add_rows(
        self,
        rows: np.ndarray,
        cols: np.ndarray,
        values: np.ndarray | float,
        lower: float | np.ndarray,
        upper: float | np.ndarray,
        n: int,
    ) -> int:
        """Add ``n`` rows ``lower ≤ Σ value·x[col] ≤ upper``; ``rows`` count from 0 within the block."""
        rows = np.asarray(rows, dtype=np.int64)
        cols = np.asarray(cols, dtype=np.int64)
        vals = np.broadcast_to(np.asarray(values, dtype=float), rows.shape)
        self.triplets.append((rows + self.n_rows, cols, vals))
        self.row_lower.append(np.broadcast_to(np.asarray(lower, dtype=float), (n,)).copy())
        self.row_upper.append(np.broadcast_to(np.asarray(upper, dtype=float), (n,)).copy())
        first = self.n_rows
        self.n_rows += n
        return first

    def solve(self, *, time_limit: float | None = None, start: np.ndarray | None = None) -> MilpResult | None:
        """Solve to proven optimality (relative gap 0), or until ``time_limit`` seconds.

        Returns None when the model is infeasible; a time limit with no solution found raises.
        HiGHS 1.16 can report the optimum found in its presolved space yet hand back the warm
        start's values: a solution whose cost is not the reported objective is solved again
        without the start (never returned).
        """
        highspy = _highspy()
        result = self._run(highspy, time_limit, start)
        if result is not None and start is not None and not self._consistent(result):
            result = self._run(highspy, time_limit, None)
        if result is not None and not self._consistent(result):  # pragma: no cover - a solver fault
            raise DzGisError("the solver returned a solution whose cost is not its objective; please report this.")
        return result

    def relaxation(self) -> LpRelaxation | None:
        """Solve the linear relaxation (every column continuous); None when it is not solved to optimality."""
        highspy = _highspy()
        h = _new_highs(highspy)
        h.setOptionValue("output_flag", False)
        for name, value in self.options.items():
            if not name.startswith("mip_"):
                h.setOptionValue(name, value)
        lp = self._lp(highspy)
        lp.integrality_ = []
        h.passModel(lp)
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        solution = h.getSolution()
        return LpRelaxation(
            x=np.asarray(solution.col_value, dtype=float),
            row_dual=np.asarray(solution.row_dual, dtype=float),
            objective=float(h.getInfo().objective_function_value),
        )

    def _consistent(self, result: MilpResult) -> bool:
        cost = float(np.concatenate(self.cost) @ result.x) if self.cost else 0.0
        return abs(cost - result.objective) <= 1e-6 * max(1.0, abs(result.objective))

    def _run(self, highspy, time_limit: float | None, start: np.ndarray | None) -> MilpResult | None:
        h = _new_highs(highspy)
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", 0.0)
        if time_limit is not None:
            h.setOptionValue("time_limit", float(time_limit))
        for name, value in self.options.items():
            h.setOptionValue(name, value)
        h.passModel(self._lp(highspy))
        if start is not None:
            solution = highspy.HighsSolution()
            solution.col_value = np.asarray(start, dtype=float).tolist()
            h.setSolution(solution)
        began = time.perf_counter()
        h.run()
        spent = time.perf_counter() - began
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        info = h.getInfo()
        feasible = info.primal_solution_status == 2  # kSolutionStatusFeasible
        if status == highspy.HighsModelStatus.kOptimal:
            label = "optimal"
        elif status == highspy.HighsModelStatus.kTimeLimit and feasible:
            label = "time_limit"
        elif status == highspy.HighsModelStatus.kSolutionLimit and feasible:
            label = "node_limit"  # only where the model sets mip_max_nodes itself (a heuristic's sub-model)
        else:
            raise DzGisError(
                f"the solver stopped without a solution: {h.modelStatusToString(status)}. "
                "Give it more time (time_limit=...) or make the problem smaller (fewer candidates)."
            )
        x = np.asarray(h.getSolution().col_value, dtype=float)
        return MilpResult(
            x=x,
            objective=float(info.objective_function_value),
            bound=float(info.mip_dual_bound),
            mip_gap=0.0 if label == "optimal" else float(info.mip_gap),
            status=label,
            solve_s=spent,
        )

    def _lp(self, highspy):
        cost = np.concatenate(self.cost) if self.cost else np.empty(0)
        rows, cols, vals = (np.concatenate(part) for part in zip(*self.triplets, strict=True))
        matrix = sp.csc_matrix((vals, (rows, cols)), shape=(self.n_rows, self.n_cols))
        lp = highspy.HighsLp()
        lp.num_col_ = self.n_cols
        lp.num_row_ = self.n_rows
        lp.col_cost_ = cost
        lp.col_lower_ = np.concatenate(self.lower)
        lp.col_upper_ = np.concatenate(self.upper)
        lp.row_lower_ = np.concatenate(self.row_lower)
        lp.row_upper_ = np.concatenate(self.row_upper)
        lp.sense_ = highspy.ObjSense.kMinimize if self.minimize else highspy.ObjSense.kMaximize
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr
        lp.a_matrix_.index_ = matrix.indices
        lp.a_matrix_.value_ = matrix.data
        integrality = np.concatenate(self.integer)
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in integrality
        ]
        return lp


def _highspy():
    try:
        import highspy
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("Siting needs the HiGHS solver: pip install highspy") from exc
    return highspy


_banner_shown = False


def _new_highs(highspy):
    """A HiGHS instance; the copyright banner HiGHS prints on its first start is kept off the terminal.

    Hand-written because highspy has no switch for it: the banner is printed by the C++
    constructor, before any option can be set, straight to file descriptor 1.
    """
    global _banner_shown
    if _banner_shown:
        return highspy.Highs()
    _banner_shown = True
    with _quiet_stdout():
        return highspy.Highs()


@contextmanager
def _quiet_stdout() -> Iterator[None]:
    """File descriptor 1 pointed at the null device for the block (also under Jupyter, which forwards fd 1)."""
    try:
        sys.stdout.flush()
    except (AttributeError, OSError, ValueError):  # pragma: no cover - a closed stream
        pass
    fd = 1
    try:
        saved = os.dup(fd)
    except OSError:  # pragma: no cover - no fd 1 at all
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
