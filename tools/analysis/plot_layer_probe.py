"""Plot the per-layer linear probe's top-k accuracy, layer by layer.

    python tools/analysis/plot_layer_probe.py \
        --run PIRL work_dirs/pirl_resnet18_per-layer-linear_shapes-demo \
        --run Jigsaw \
            work_dirs/jigsaw_per-layer/20261128_120000/vis_data/scalars.json \
        [--topk 1] [--paper] [--out work_dirs/layer_probe.png]

Each ``--run LABEL PATH`` reads the ``layer_top<k>/<layer>`` metrics of
:class:`MultiLayerAccuracy` from PATH: a work dir (its newest
``*/vis_data/scalars.json``), MMEngine's ``scalars.json`` (one JSON object
per line; the last line with the metrics is used, or ``--step``), or a JSON
file holding one dict of metrics. ``--paper`` adds the paper's PIRL
ResNet-50 ImageNet numbers (conv1 6.2, res2 30.0, res3 40.1, res4 56.6,
res5 63.6) as a reference. Writes the PNG and a JSON of the values.
"""
import argparse
import glob
import json
import os
import os.path as osp
import sys
from collections import OrderedDict
from typing import Dict, List, Optional

PAPER_PIRL_R50 = OrderedDict(
    conv1=6.2, res2=30.0, res3=40.1, res4=56.6, res5=63.6)


def find_scalars(path: str) -> str:
    """``path`` itself, or the newest ``vis_data/scalars.json`` under a
    work dir."""
    if osp.isfile(path):
        return path
    if osp.isdir(path):
        runs = sorted(
            glob.glob(
                osp.join(path, '**', 'vis_data', 'scalars.json'),
                recursive=True),
            key=osp.getmtime)
        if runs:
            return runs[-1]
    raise ValueError(f'{path!r} is neither a metrics JSON file nor a work '
                     'dir containing */vis_data/scalars.json')


def read_layer_metrics(path: str,
                       topk: int = 1,
                       step: Optional[int] = None) -> Dict[str, float]:
    """``{layer: accuracy}`` in the order the metric reported them.

    Args:
        path (str): see the module docstring.
        topk (int): which ``layer_top<k>`` metrics. Defaults to 1.
        step (int, optional): the ``step`` (epoch or iteration) of
            ``scalars.json`` to read; defaults to the last one.
    """
    prefix = f'layer_top{topk}/'
    path = find_scalars(path)
    with open(path) as f:
        text = f.read()
    try:
        rows = [json.loads(text)]
        if not isinstance(rows[0], dict):
            raise ValueError
    except ValueError:  # JSON lines
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    rows = [r for r in rows if any(k.startswith(prefix) for k in r)]
    if step is not None:
        rows = [r for r in rows if r.get('step') == step]
    if not rows:
        raise ValueError(f'no {prefix}<layer> metrics in {path!r}' +
                         (f' at step {step}' if step is not None else '') +
                         ' (written by MultiLayerAccuracy during validation)')
    row = rows[-1]
    return OrderedDict((k[len(prefix):], float(v)) for k, v in row.items()
                       if k.startswith(prefix) and not k.endswith('/best'))


def plot_layers(runs: Dict[str, Dict[str, float]],
                out: str,
                topk: int = 1,
                title: str = 'Per-layer linear probe') -> None:
    """One line per run over the union of layers (in first-seen order)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    layers: List[str] = []
    for vals in runs.values():
        layers += [k for k in vals if k not in layers]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for label, vals in runs.items():
        xs = [i for i, k in enumerate(layers) if k in vals]
        ys = [vals[layers[i]] for i in xs]
        ax.plot(xs, ys, marker='o', label=label)
        for x, y in zip(xs, ys):
            ax.annotate(
                f'{y:.1f}', (x, y),
                textcoords='offset points',
                xytext=(0, 5),
                ha='center',
                fontsize=8)
    ax.set_xticks(range(len(layers)))
    ax.set_xticklabels(layers)
    ax.set_xlabel('layer')
    ax.set_ylabel(f'top-{topk} accuracy (%)')
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        '--run',
        nargs=2,
        action='append',
        default=[],
        metavar=('LABEL', 'PATH'))
    parser.add_argument('--topk', type=int, default=1)
    parser.add_argument('--step', type=int, default=None)
    parser.add_argument(
        '--paper',
        action='store_true',
        help="add the paper's PIRL ResNet-50 ImageNet curve")
    parser.add_argument('--title', default='Per-layer linear probe')
    parser.add_argument('--out', default='work_dirs/layer_probe.png')
    args = parser.parse_args(argv)
    if not args.run and not args.paper:
        parser.error('give at least one --run LABEL PATH (or --paper)')
    if args.topk < 1:
        parser.error(f'--topk must be >= 1, got {args.topk}')
    runs = OrderedDict()
    try:
        for label, path in args.run:
            runs[label] = read_layer_metrics(path, args.topk, args.step)
    except ValueError as e:
        sys.exit(f'tools/analysis/plot_layer_probe.py: {e}')
    if args.paper:
        runs['PIRL R50 ImageNet (paper)'] = OrderedDict(PAPER_PIRL_R50)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    plot_layers(runs, args.out, args.topk, args.title)
    with open(osp.splitext(args.out)[0] + '.json', 'w') as f:
        json.dump(runs, f, indent=2)
    for label, vals in runs.items():
        print(f'{label}: ' + ', '.join(f'{k} {v:.1f}'
                                       for k, v in vals.items()))
    print(f'plot: {args.out}')
    return runs


if __name__ == '__main__':
    main()
