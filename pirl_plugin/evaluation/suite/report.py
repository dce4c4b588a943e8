"""The suite's report: one table per paper table (our figure, the paper's
PIRL and Jigsaw figures, and ours minus PIRL) as ``eval_suite.json``,
``eval_suite.md`` and ``eval_suite.png``."""
import json
import os.path as osp
from typing import Dict, List, Optional

from .spec import Suite, Task

HEADER = ('', 'ours', 'PIRL (paper)', 'Jigsaw (paper)', 'ours - PIRL')


def _diff(ours: Optional[float], paper: Optional[float]) -> Optional[float]:
    return None if ours is None or paper is None else round(ours - paper, 2)


def build_tables(suite: Suite, tasks: List[Task],
                 results: Dict[str, dict]) -> List[dict]:
    """The rows of every table that has a selected task.

    Returns:
        list[dict]: ``name``, ``title`` and ``rows`` (``row``, ``task``,
        ``key``, ``ours``, ``pirl``, ``jigsaw``, ``diff``, ``status``).
    """
    tables = []
    for name, title in suite.tables.items():
        rows = []
        for task in (t for t in tasks if t.table == name):
            result = results.get(task.name, dict(status='not run'))
            figures = result.get('metrics') or {}
            for m in task.metrics:
                ours = figures.get(m.name)
                rows.append(
                    dict(
                        row=m.name,
                        task=task.name,
                        key=m.key,
                        ours=None if ours is None else round(ours, 2),
                        pirl=m.pirl,
                        jigsaw=m.jigsaw,
                        diff=_diff(ours, m.pirl),
                        status=result['status']))
        if rows:
            tables.append(dict(name=name, title=title, rows=rows))
    return tables


def _cell(value: Optional[float], signed: bool = False) -> str:
    if value is None:
        return '-'
    return f'{value:+.1f}' if signed else f'{value:.1f}'


def to_markdown(tables: List[dict], results: Dict[str, dict],
                header: str) -> str:
    """The tables and the tasks' status as Markdown."""
    lines = [header, '']
    for table in tables:
        lines += [f'### {table["title"]}', '']
        lines.append('| ' + ' | '.join(HEADER) + ' |')
        lines.append('|' + '---|' * len(HEADER))
        for r in table['rows']:
            ours = _cell(r['ours']) if r['status'] == 'done' else r['status']
            lines.append(f'| {r["row"]} | {ours} | {_cell(r["pirl"])} | '
                         f'{_cell(r["jigsaw"])} | '
                         f'{_cell(r["diff"], signed=True)} |')
        lines.append('')
    lines += ['| task | status | metric source / reason |', '|---|---|---|']
    for name, r in results.items():
        note = r.get('reason') or r.get('source') or ''
        if r.get('log') and r['status'] != 'done':
            note += f' (log: {r["log"]})'
        lines.append(f'| {name} | {r["status"]} | {note or "-"} |')
    return '\n'.join(lines) + '\n'


def plot_tables(tables: List[dict], path: str) -> None:
    """One bar chart per table: ours, paper PIRL, paper Jigsaw."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    fig, axes = plt.subplots(
        1,
        max(len(tables), 1),
        figsize=(4.2 * max(len(tables), 1), 3.6),
        squeeze=False)
    for ax, table in zip(axes[0], tables):
        rows = table['rows']
        x = np.arange(len(rows))
        for i, (col, label) in enumerate([('ours', 'ours'),
                                          ('pirl', 'PIRL (paper)'),
                                          ('jigsaw', 'Jigsaw (paper)')]):
            values = [np.nan if r[col] is None else r[col] for r in rows]
            ax.bar(x + (i - 1) * 0.27, values, 0.27, label=label)
        ax.set_xticks(
            x, [r['row'] for r in rows], rotation=30, ha='right', fontsize=7)
        ax.set_title(table['title'], fontsize=7)
        ax.set_ylabel('%')
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(suite: Suite, tasks: List[Task], results: Dict[str, dict],
                 arch, checkpoint: str, work_dir: str) -> List[str]:
    """Write ``eval_suite.json``, ``.md`` and ``.png`` into ``work_dir``.

    Returns:
        list[str]: the files written.
    """
    tables = build_tables(suite, tasks, results)
    header = (f'## PIRL evaluation of `{checkpoint}` '
              f'(ResNet-{arch.depth}, stem {arch.stem_channels}, width '
              f'{arch.base_channels})')
    out = osp.join(work_dir, 'eval_suite')
    with open(out + '.json', 'w') as f:
        json.dump(
            dict(
                checkpoint=osp.abspath(checkpoint),
                backbone=vars(arch),
                tables=tables,
                tasks=results),
            f,
            indent=2)
    with open(out + '.md', 'w') as f:
        f.write(to_markdown(tables, results, header))
    plot_tables(tables, out + '.png')
    return [out + '.json', out + '.md', out + '.png']
