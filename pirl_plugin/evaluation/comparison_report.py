"""Tables and plots of a same-budget comparison and of its budget curves
(``tools/analysis/compare_mocov2.py``). The untrained network at the
standard init is the reference line of every plot; the zero-init one is
drawn beside it when present."""
import math

from .budget_curves import format_crossing
from .untrained import INIT_LABELS

COLORS = dict(pirl='#1f77b4', mocov2='#d62728', jigsaw='#2ca02c')
OTHER_COLORS = ('#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22')
UNTRAINED_STYLE = dict(
    standard=dict(color='#444444', ls='-', lw=1.8),
    zero_init=dict(color='#999999', ls=':', lw=1.5))
INIT_LINES = dict(standard='-', zero_init='--')


def _fmt(v, spec='.1f') -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return '-'
    return format(v, spec)


def _colors(names) -> dict:
    others = iter(OTHER_COLORS)
    return {n: COLORS.get(n) or next(others, '#333333') for n in names}


def row_label(name: str, row: dict) -> str:
    """A method's name, or the untrained network's with its init."""
    if 'init_label' in row and row.get('checkpoint') is None:
        return f'untrained, {row["init_label"]}'
    return name


def markdown_table(result: dict) -> str:
    """The one-budget comparison as a markdown table."""
    b = result['budget']
    lines = [
        f'Data: `{result["data_root"]}` ({result["n_train"]} train / '
        f'{result["n_test"]} test images, {result["n_classes"]} classes); '
        f'budget: batch {b["batch_size"]}, {b["epochs"]} epochs = '
        f'{b["iterations"]} iterations; seed {result["seed"]}; probe: '
        f'{result["img_size"]} px, pooled last-stage features, weighted kNN '
        '(k=20) and logistic regression.', '',
        '| method | kNN top-1 | linear top-1 | bank / queue pairwise sim '
        '| bank_feat_sim (log) | test-feature pairwise sim | train s |',
        '|---|---|---|---|---|---|---|'
    ]
    for name, r in result['methods'].items():
        neg = r.get('bank_pairwise_sim', r.get('queue_pairwise_sim'))
        lines.append(f'| {row_label(name, r)} | {_fmt(r["knn_top1"])} '
                     f'| {_fmt(r["linear_top1"])} | {_fmt(neg, ".3f")} '
                     f'| {_fmt(r.get("bank_feat_sim"), ".3f")} '
                     f'| {_fmt(r.get("feat_pairwise_sim"), ".3f")} '
                     f'| {_fmt(r.get("train_seconds"), ".0f")} |')
    return '\n'.join(lines) + '\n'


def untrained_lines(ax, untrained: dict, key: str) -> None:
    """Horizontal lines of the untrained networks (init -> probe row) at
    their ``key`` accuracy, in the style of their init."""
    for init, row in untrained.items():
        ax.axhline(
            row[key],
            label=f'untrained, {INIT_LABELS[init]}: {row[key]:.1f}',
            **UNTRAINED_STYLE[init])


def _focus(ax, values) -> None:
    """y range of ``values`` (the trained runs and the standard-init
    line), so that a far-off zero-init line does not flatten the curves;
    a horizontal line left outside keeps its value in the legend, marked
    "(off the axis)"."""
    lo, hi = min(values), max(values)
    pad = max(2.0, 0.1 * (hi - lo))
    ax.set_ylim(max(0.0, lo - pad), min(100.0, hi + pad))
    bottom, top = ax.get_ylim()
    for line in ax.lines:
        y = line.get_ydata()
        if len(set(y)) == 1 and not bottom <= y[0] <= top:
            line.set_label(f'{line.get_label()} (off the axis)')


def _legend_below(ax) -> None:
    """The axes' legend under it, clear of the curves."""
    ax.legend(
        fontsize=7, loc='upper center', bbox_to_anchor=(0.5, -0.14), ncol=2)


def probe_bars(ax, series: list, title: str) -> None:
    """Grouped kNN and linear-probe bars, one ``(label, row, color)`` of
    ``series`` per model, with their values written above."""
    width = 0.8 / max(1, len(series))
    for i, (label, row, color) in enumerate(series):
        vals = [row['knn_top1'], row['linear_top1']]
        xs = [j - 0.4 + width * (i + 0.5) for j in range(2)]
        bars = ax.bar(xs, vals, width, label=label, color=color)
        for bar, v in zip(bars, vals):
            ax.text(
                bar.get_x() + bar.get_width() / 2,
                v + 1,
                f'{v:.1f}',
                ha='center',
                fontsize=7)
    ax.set_xticks([0, 1])
    ax.set_xticklabels(['kNN (k=20)', 'linear probe'])
    ax.set_ylim(0, 125)  # room above 100 for the legend
    ax.set_yticks(range(0, 101, 20))
    ax.set_ylabel('top-1 on the test split (%)')
    ax.set_title(title)
    ax.legend(loc='upper center', fontsize=7, ncol=2)


def plot_comparison(result: dict, out: str, title: str = '') -> None:
    """kNN-monitor curves and final bars of a one-budget comparison."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(13, 4.6))
    methods = result['methods']
    colors = _colors([n for n in methods if n not in result['untrained']])
    colors.update({
        n: UNTRAINED_STYLE[methods[n]['init']]['color']
        for n in result['untrained']
    })
    per_epoch = result['budget']['iters_per_epoch']
    for name, r in methods.items():
        curve = r.get('knn_curve') or []
        if curve:  # x: iterations done when the monitor ran
            ax0.plot([c['epoch'] * per_epoch for c in curve],
                     [c['knn_top1'] for c in curve],
                     'o-',
                     color=colors[name],
                     alpha=0.85,
                     label=f'{name} (kNN monitor)')
    untrained_lines(
        ax0, {methods[n]['init']: methods[n]
              for n in result['untrained']}, 'knn_top1')
    ax0.set_xlim(0, max(1, result['budget']['iterations']) * 1.05)
    ax0.set_xlabel('iteration')
    ax0.set_ylabel('kNN top-1 (%), k=20')
    ax0.set_ylim(0, 100)
    ax0.set_title('kNN accuracy during pre-training')
    ax0.legend(loc='lower right', fontsize=7)
    b = result['budget']
    series = [(row_label(n, r), r, colors[n]) for n, r in methods.items()]
    probe_bars(
        ax1, series, f'frozen features, {b["iterations"]} iterations of '
        f'{b["batch_size"]}')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def budget_markdown(result: dict) -> str:
    """Final kNN / linear top-1 per method, init and budget, and each
    method's crossing point, as a markdown table."""
    budgets = result['budgets']
    head = ' | '.join(f'{b:,} it.' for b in budgets)
    lines = [
        f'kNN / linear top-1 (%), `{result["data_root"]}`, seed '
        f'{result["seed"]}; crossing: the smallest budget (iterations) '
        'above the untrained network at the standard init.', '',
        f'| method | init | {head} | crossing kNN | crossing linear |',
        '|---|---|' + '---|' * len(budgets) + '---|---|'
    ]
    for init, row in result['untrained'].items():
        cells = f'{_fmt(row["knn_top1"])} / {_fmt(row["linear_top1"])}'
        lines.append(f'| untrained | {INIT_LABELS[init]} | ' +
                     ' | '.join([cells] * len(budgets)) + ' | - | - |')
    runs = result['runs']
    for method, init in sorted({(r['method'], r['init']) for r in runs}):
        cells = []
        for budget in budgets:
            run = next(
                (r
                 for r in runs if (r['method'], r['init'],
                                   r['iterations']) == (method, init, budget)),
                None)
            cells.append('-' if run is None else f'{_fmt(run["knn_top1"])} / '
                         f'{_fmt(run["linear_top1"])}')
        # no crossing point when the sweep did not probe the untrained net
        cross = result['crossing'].get(method, {}).get(init)
        crossing = (f'{format_crossing(cross["knn"])} | '
                    f'{format_crossing(cross["linear"])}'
                    if cross else '- | -')
        lines.append(f'| {method} | {INIT_LABELS[init]} | ' +
                     ' | '.join(cells) + f' | {crossing} |')
    return '\n'.join(lines) + '\n'


def plot_budget_curves(result: dict, out: str, title: str = '') -> None:
    """Final kNN and linear top-1 against the budget (one line per method
    and init), the untrained lines, and the kNN-monitor curves of the
    longest runs: one PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(17, 6))
    runs = result['runs']
    colors = _colors(sorted({r['method'] for r in runs}))
    for ax, key, name in ((axes[0], 'knn_top1', 'kNN top-1 (%), k=20'),
                          (axes[1], 'linear_top1', 'linear top-1 (%)')):
        for method, init in sorted({(r['method'], r['init']) for r in runs}):
            rows = sorted(
                (r
                 for r in runs if (r['method'], r['init']) == (method, init)),
                key=lambda r: r['iterations'])
            ax.plot([r['iterations'] for r in rows], [r[key] for r in rows],
                    'o' + INIT_LINES[init],
                    color=colors[method],
                    label=f'{method}, {init}')
        untrained_lines(ax, result['untrained'], key)
        _focus(ax, [r[key] for r in runs] + [
            u[key] for i, u in result['untrained'].items() if i == 'standard'
        ])
        ax.set_xscale('log', base=2)
        ax.set_xticks(result['budgets'])
        ax.set_xticklabels([f'{b:,}' for b in result['budgets']])
        ax.minorticks_off()
        ax.set_xlabel('budget (iterations, each a full schedule)')
        ax.set_ylabel(name)
        ax.set_title(f'final {name.split(" (")[0]} after pre-training')
        _legend_below(ax)
    ax = axes[2]
    for curve in result['longest_knn_curves']:
        pts = curve['curve']
        # x: iterations done when the monitor ran (end of that epoch)
        ax.plot([p['epoch'] * result['iters_per_epoch'] for p in pts],
                [p['knn_top1'] for p in pts],
                INIT_LINES[curve['init']],
                color=colors[curve['method']],
                label=f'{curve["method"]}, {curve["init"]}')
    untrained_lines(ax, result['untrained'], 'knn_top1')
    _focus(ax, [
        p['knn_top1'] for c in result['longest_knn_curves'] for p in c['curve']
    ] + [
        u['knn_top1']
        for i, u in result['untrained'].items() if i == 'standard'
    ])
    ax.set_xlabel('iteration')
    ax.set_ylabel('kNN top-1 (%), k=20')
    ax.set_title(f'kNN monitor, longest runs ({max(result["budgets"]):,} '
                 'iterations)')
    _legend_below(ax)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100, bbox_inches='tight')
    plt.close(fig)
