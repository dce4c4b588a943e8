"""Plot the kNN-monitor curves of several training runs in one PNG.

Each run's ``knn_monitor.json`` (written by ``KNNMonitorHook`` into the
newest ``<work_dir>/<timestamp>/`` folder) gives one line of kNN top-1
against the iteration; ``--reference`` adds horizontal lines (e.g. the
untrained network's accuracy)::

    python tools/analysis/plot_knn_curves.py \
        'weights frozen=work_dirs/dip/bn_stats_only' \
        'trained=work_dirs/dip/base' \
        --reference 'untrained, standard init=83.3' \
        --out docs/figures/early_knn_digits_seed0.png
"""
import argparse
import os
import os.path as osp
import sys


def label_value(text: str, what: str):
    """Split ``'LABEL=VALUE'`` (the label may hold spaces and commas)."""
    label, sep, value = text.rpartition('=')
    if not sep or not label or not value:
        sys.exit(f'{what} {text!r}: expected LABEL=VALUE')
    return label, value


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('runs', nargs='+', metavar='LABEL=WORK_DIR')
    p.add_argument(
        '--reference',
        action='append',
        default=[],
        metavar='LABEL=ACCURACY',
        help='a horizontal line; repeatable')
    p.add_argument('--out', required=True, help='the PNG to write')
    p.add_argument('--title', default='kNN top-1 during pre-training')
    return p.parse_args(argv)


def read_curves(runs):
    """[(label, iterations, accuracies)] of each ``LABEL=WORK_DIR``."""
    from pirl_plugin.utils.run_logs import read_run_logs
    curves = []
    for item in runs:
        label, work_dir = label_value(item, 'run')
        _, knn = read_run_logs(work_dir)
        if not knn:
            sys.exit(f'{work_dir}: no knn_monitor.json in its newest run; '
                     'train it with KNNMonitorHook in custom_hooks')
        curves.append(
            (label, [r['iter'] for r in knn], [r['knn_top1'] for r in knn]))
    return curves


def plot(curves, references, out: str, title: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for label, its, acc in curves:
        ax.plot(its, acc, 'o-', markersize=3, label=label)
    for (label, value), style in zip(references, ('--', ':', '-.') * 3):
        ax.axhline(value, color='k', linestyle=style, label=label)
    ax.set_xlabel('iteration')
    ax.set_ylabel('kNN top-1 (%), k=20')
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv=None) -> None:
    args = parse_args(argv)
    references = []
    for item in args.reference:
        label, value = label_value(item, '--reference')
        try:
            references.append((label, float(value)))
        except ValueError:
            sys.exit(f'--reference {item!r}: {value!r} is not a number')
    plot(read_curves(args.runs), references, args.out, args.title)
    print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
