"""Budget curves: where a pre-training method starts to beat an untrained
network.

A budget curve is the final probe accuracy of separate runs, one per
budget (iterations), each with its own full schedule. The crossing point
of a method is the smallest budget at which it beats the untrained
reference, read off the curve.
"""
from typing import Dict, List, Optional, Sequence


def crossing_point(budgets: Sequence[float], values: Sequence[float],
                   reference: float) -> dict:
    """The smallest budget at which ``values`` rises above ``reference``.

    The first measured budget whose value is above the reference is
    found; when an earlier budget was at or below it, the crossing is
    interpolated linearly in iterations between the two.

    Args:
        budgets (sequence[float]): increasing budgets (iterations).
        values (sequence[float]): the accuracy at each budget.
        reference (float): the untrained network's accuracy.

    Returns:
        dict: ``iterations`` (float, or None when not reached) and
        ``status``: ``'interpolated'``, ``'at or below the smallest
        budget'`` (already above at the first budget) or ``'not reached'``
        (never above, up to the largest budget).
    """
    if len(budgets) != len(values) or not budgets:
        raise ValueError(f'need one value per budget, got {len(budgets)} '
                         f'budgets and {len(values)} values')
    if any(b >= a for a, b in zip(budgets[1:], budgets[:-1])):
        raise ValueError(f'budgets must increase, got {list(budgets)}')
    for i, (budget, value) in enumerate(zip(budgets, values)):
        if value > reference:
            if i == 0:
                return dict(
                    iterations=float(budget),
                    status='at or below the smallest budget')
            b0, v0 = budgets[i - 1], values[i - 1]
            frac = (reference - v0) / (value - v0)
            return dict(
                iterations=float(b0 + frac * (budget - b0)),
                status='interpolated')
    return dict(iterations=None, status='not reached')


def crossing_points(runs: List[dict],
                    untrained: Dict[str, dict],
                    reference: str = 'standard') -> dict:
    """:func:`crossing_point` of every method and initialisation of a
    budget sweep, on kNN and on linear top-1, against the untrained network
    at the ``reference`` initialisation.

    Args:
        runs (list[dict]): one row per run with ``method``, ``init``,
            ``iterations``, ``knn_top1`` and ``linear_top1``.
        untrained (dict): init -> the untrained network's ``knn_top1`` and
            ``linear_top1``.
        reference (str): the init of the reference network. Defaults to
            ``'standard'``.

    Returns:
        dict: ``{method: {init: {'knn': ..., 'linear': ...}}}``.
    """
    ref = untrained[reference]
    out: Dict[str, dict] = {}
    for method, init in sorted({(r['method'], r['init']) for r in runs}):
        rows = sorted(
            (r for r in runs if r['method'] == method and r['init'] == init),
            key=lambda r: r['iterations'])
        budgets = [r['iterations'] for r in rows]
        out.setdefault(method, {})[init] = {
            probe: crossing_point(budgets, [r[key] for r in rows], ref[key])
            for probe, key in (('knn', 'knn_top1'), ('linear', 'linear_top1'))
        }
    return out


def format_crossing(point: dict) -> str:
    """A crossing point as a table cell: ``'1,530'``, ``'<= 600'`` or
    ``'not reached'``."""
    its: Optional[float] = point['iterations']
    if its is None:
        return 'not reached'
    if point['status'] != 'interpolated':
        return f'<= {its:,.0f}'
    return f'{its:,.0f}'
