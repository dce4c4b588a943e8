"""Figures that stay true: a committed JSON of measured probe results and
the markdown table generated from it (the README's small-data table).

``tools/analysis/compare_mocov2.py --record FILE --dataset NAME`` adds the
rows it measured to ``FILE``; ``tools/analysis/results_table.py FILE
--update README.md`` rewrites the table between the markers
``<!-- results-table:begin -->`` and ``<!-- results-table:end -->``, and a
test checks that the README's table is the one the JSON gives.

Each row: ``dataset``, ``method``, ``init`` (a key of
:data:`pirl_plugin.evaluation.untrained.INITS`), ``seed``,
``iterations`` (None for an untrained network), ``knn_top1``,
``linear_top1``, ``source`` (the command that measured it, or where an
older figure comes from) and, for a measured row, ``measured`` (the
date).
"""
import json
import os.path as osp
import re
import time
from collections import OrderedDict
from typing import List

from .untrained import INIT_LABELS

BEGIN, END = '<!-- results-table:begin -->', '<!-- results-table:end -->'
KEYS = ('dataset', 'method', 'init', 'iterations', 'seed')


def load_rows(path: str) -> List[dict]:
    """The rows of a results JSON (empty when the file does not exist)."""
    if not osp.exists(path):
        return []
    with open(path) as f:
        return json.load(f)['rows']


def save_rows(path: str, rows: List[dict]) -> None:
    """Write ``rows`` sorted by dataset, method, init, budget and seed."""
    rows = sorted(rows, key=lambda r: tuple(str(r[k]) for k in KEYS))
    with open(path, 'w') as f:
        json.dump(dict(rows=rows), f, indent=1)
        f.write('\n')


def merge_rows(rows: List[dict], new: List[dict]) -> List[dict]:
    """``rows`` with ``new`` added; a new row replaces the one with the
    same dataset, method, init, iterations and seed."""
    keys = {tuple(r[k] for k in KEYS) for r in new}
    return [r for r in rows if tuple(r[k] for k in KEYS) not in keys] + new


def _row(result: dict, dataset: str, method: str, init: str, iterations,
         probe: dict) -> dict:
    """One results row: ``probe``'s kNN / linear top-1 of a comparison
    ``result`` (its seed and command)."""
    return dict(
        dataset=dataset,
        method=method,
        init=init,
        seed=result['seed'],
        iterations=iterations,
        knn_top1=round(probe['knn_top1'], 4),
        linear_top1=round(probe['linear_top1'], 4),
        source=result['command'],
        measured=time.strftime('%Y-%m-%d'))


def rows_from_result(result: dict, dataset: str) -> List[dict]:
    """The rows of one ``compare_result.json`` (one budget, one seed)."""
    out = []
    for name, row in result['methods'].items():
        untrained = row.get('checkpoint') is None
        out.append(
            _row(result, dataset, 'untrained' if untrained else name,
                 row.get('init') or 'config',
                 None if untrained else row['iterations'], row))
    return out


def rows_from_budget_result(result: dict, dataset: str) -> List[dict]:
    """The rows of one ``budget_curves.json`` (several budgets, one seed):
    one per trained method, init and budget, and the untrained networks."""
    return [
        _row(result, dataset, 'untrained', init, None, row)
        for init, row in result['untrained'].items()
    ] + [
        _row(result, dataset, run['method'], run['init'], run['iterations'],
             run) for run in result['runs']
    ]


def _cell(values: List[float]) -> str:
    text = ' / '.join(f'{v:.1f}' for v in values)
    if len(values) > 1:
        text += f' (mean {sum(values) / len(values):.1f})'
    return text


def _source(row: dict) -> str:
    if 'measured' in row:  # a command's output: the command is in the JSON
        return f'measured {row["measured"]} (`{row["source"].split()[0]}`)'
    return row['source']


def _order(row: dict) -> tuple:
    methods = ('pirl', 'mocov2', 'jigsaw')
    rank = methods.index(row['method']) if row['method'] in methods else (
        len(methods) + (row['method'] == 'untrained'))
    return (row['dataset'], rank, row['method'], row['init'] != 'standard',
            row['init'], row['iterations'] or 0, row['seed'])


def render_table(rows: List[dict]) -> str:
    """One markdown line per dataset, method, init and budget: kNN and
    linear top-1
    per seed (and their mean), the seeds and the sources (a measured row's
    full command is in the JSON)."""
    groups: 'OrderedDict[tuple, List[dict]]' = OrderedDict()
    for r in sorted(rows, key=_order):
        key = (r['dataset'], r['method'], r['init'], r['iterations'])
        groups.setdefault(key, []).append(r)
    lines = [
        '| data | method | init | iterations | seeds | kNN top-1 | '
        'linear top-1 | source |', '|---|---|---|---|---|---|---|---|'
    ]
    for (dataset, method, init, its), group in groups.items():
        sources = '; '.join(OrderedDict.fromkeys(map(_source, group)))
        lines.append(
            f'| {dataset} | {method} | {INIT_LABELS.get(init, init)} '
            f'| {"-" if its is None else its} '
            f'| {", ".join(str(r["seed"]) for r in group)} '
            f'| {_cell([r["knn_top1"] for r in group])} '
            f'| {_cell([r["linear_top1"] for r in group])} | {sources} |')
    return '\n'.join(lines) + '\n'


def table_in(text: str) -> str:
    """The table between :data:`BEGIN` and :data:`END` in ``text``."""
    match = re.search(
        re.escape(BEGIN) + r'\n(.*?)' + re.escape(END), text, re.S)
    if match is None:
        raise ValueError(f'no {BEGIN} ... {END} block found')
    return match.group(1)


def replace_table(text: str, table: str) -> str:
    """``text`` with the table between the markers replaced by ``table``."""
    old = table_in(text)
    return text.replace(BEGIN + '\n' + old + END, BEGIN + '\n' + table + END)
