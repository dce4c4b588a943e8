"""Compare PIRL with MMPretrain's MoCo v2 (and random initialisation) on
your own images, at the same budget.

Both methods are pre-trained with ``tools/train.py`` (one subprocess each,
as a user would run them) on the images of ``<data-root>/train`` (labels
are not used for training), with

- the same backbone: the PIRL config's ``model.backbone`` is copied into
  the other configs and their neck's input width is set to its output
  width (``--keep-backbones`` turns this off);
- the same batch size, optimiser, learning-rate schedule and number of
  epochs, hence the same number of iterations: the PIRL config's
  ``optim_wrapper``, ``param_scheduler`` and ``train_cfg`` are copied into
  the other configs (``--keep-schedules`` turns this off), ``--epochs`` /
  ``--iters`` / ``--batch-size`` override them for all;
- a kNN monitor (``KNNMonitorHook``: weighted kNN, k=20, on the labelled
  ``train`` / ``test`` splits) every ``--knn-interval`` epochs, the curves
  of the plot.

Then the frozen, pooled last-stage backbone features of every trained
model and of the PIRL backbone at its random initialisation are probed in
this process by the project's one evaluation path
(``pirl_plugin.evaluation.knn_evaluate_config``, the kNN monitor's, so
each final kNN figure is the last point of its curve): weighted kNN (k=20,
cosine similarity, NPID vote with temperature 0.07) and a linear probe
(scikit-learn logistic regression, C=1, on the standardised features of
``train``), both scored on ``test``. ``<data-root>`` must hold
labelled splits ``train/<class>/<image>`` and ``test/<class>/<image>``
(e.g. ``pirl_plugin.datasets.digits.make_digits_dataset`` or
``pirl_plugin.datasets.synthetic.make_shapes_dataset``).

Collapse is reported from the final checkpoints: the mean pairwise cosine
similarity between DIFFERENT entries of PIRL's memory bank (and of MoCo's
queue), ``(M |mean|^2 - 1) / (M - 1)`` for M unit rows, and between the
test images' backbone features; plus the last logged ``bank_feat_sim``
(each new feature against its own previous bank entry, an alignment
measure, not a collapse measure) and ``bank_pairwise_sim`` when the
memory-bank hook logs it.

    python tools/analysis/compare_mocov2.py --data-root data/digits \\
        --pirl-config \\
            configs/pirl/pirl_resnet18w16_1xb64-coslr-32e_digits.py \\
        --mocov2-config \\
            configs/mocov2/mocov2_resnet18w16_1xb64-coslr-32e_digits.py \\
        --extra jigsaw=configs/jigsaw/\\
jigsaw_resnet18_1xb64-coslr-20e_shapes-demo.py \\
        --cfg-options-extra \\
            train_dataloader.dataset.pipeline.1.jigsaw_crop_size=48 \\
            train_dataloader.dataset.pipeline.1.patch_size=14 \\
        --workers 0 --threads 1 --work-dir work_dirs/compare_digits

(``data/digits`` from ``make_digits_dataset('data/digits')``; the
``--cfg-options-extra`` give the Jigsaw baseline the preset's 48-px crop and
14-px patches; docs/small_data.md has the measured tables).

Writes ``<work-dir>/compare_result.{json,md,png}`` (``--png`` another
copy of the plot) and, per method, ``<work-dir>/<name>/`` with the config
it trained (``run_config.py``), the training log (``train.log``) and the
checkpoints. ``--tiny`` is a smoke test (1 epoch, batch 8, no loader
workers) for CI.
"""
import argparse
import copy
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(osp.dirname(HERE))
TRAIN_SCRIPT = osp.join(REPO, 'tools', 'train.py')
IMG_EXTS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff',
            '.webp')
DEFAULT_PIRL = osp.join(REPO, 'configs', 'pirl',
                        'pirl_resnet18w16_1xb64-coslr-20e_shapes-demo.py')
DEFAULT_MOCOV2 = osp.join(REPO, 'configs', 'mocov2',
                          'mocov2_resnet18w16_1xb64-coslr-20e_shapes-demo.py')
COLORS = dict(pirl='#1f77b4', mocov2='#d62728', random='#999999')


# --------------------------------------------------------------------------
# configs
# --------------------------------------------------------------------------
def count_images(folder: str) -> int:
    """Number of image files under ``folder`` (recursively)."""
    n = 0
    for _, _, files in os.walk(folder, followlinks=True):
        n += sum(f.lower().endswith(IMG_EXTS) for f in files)
    return n


def eval_size(cfg) -> int:
    """The image-view size of a PIRL config's view transform (else 64)."""
    for t in cfg.train_dataloader.dataset.get('pipeline', []):
        if 'img_size' in t:
            return int(t['img_size'])
    return 64


def backbone_out_channels(backbone_cfg: dict, size: int = 64) -> int:
    """Channels of the backbone's last output (one dummy forward)."""
    import torch
    from mmpretrain.registry import MODELS
    net = MODELS.build(copy.deepcopy(backbone_cfg))
    net.eval()
    with torch.no_grad():
        out = net(torch.zeros(1, 3, size, size))
    out = out[-1] if isinstance(out, (tuple, list)) else out
    return int(out.shape[1])


def _set_epochs(cfg, epochs: int) -> None:
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs)
    for sched in cfg.get('param_scheduler', None) or []:
        if 'T_max' in sched:
            sched['T_max'] = epochs
        if 'end' in sched and sched.get('by_epoch', True):
            sched['end'] = epochs


def prepare_config(config: str,
                   name: str,
                   data_root: str,
                   work_dir: str,
                   n_train: int,
                   batch_size: int,
                   epochs: int,
                   img_size: int,
                   knn_interval: int,
                   options: Optional[dict] = None,
                   reference=None,
                   keep_backbone: bool = False,
                   keep_schedule: bool = False,
                   workers: Optional[int] = None,
                   notes: Optional[List[str]] = None):
    """The config one method trains, written to ``<work_dir>/run_config.py``.

    Args:
        config (str): the method's config file.
        name (str): the method's name (for messages).
        data_root (str): the folder with ``train/`` and ``test/``.
        work_dir (str): the method's work dir.
        n_train (int): number of training images.
        batch_size (int): images per iteration.
        epochs (int): training epochs.
        img_size (int): side of the kNN monitor's resized images.
        knn_interval (int): kNN monitor every this many epochs.
        options (dict, optional): ``--cfg-options`` style overrides, applied
            first.
        reference (Config, optional): the PIRL run's config: its backbone
            and schedule are copied unless ``keep_*``.
        keep_backbone (bool): keep the config's own backbone.
        keep_schedule (bool): keep the config's own optimiser / schedule.
        workers (int, optional): data-loader workers.
        notes (list, optional): receives what was changed and why.

    Returns:
        tuple: the written path and the config.
    """
    from mmengine.config import Config
    notes = notes if notes is not None else []
    cfg = Config.fromfile(config)
    if options:
        cfg.merge_from_dict(options)
    if reference is not None and not keep_schedule:
        for key in ('optim_wrapper', 'param_scheduler', 'auto_scale_lr'):
            if key in reference:
                cfg[key] = copy.deepcopy(reference[key])
    if reference is not None and not keep_backbone:
        ref_bb = reference.model.backbone
        if cfg.model.get('backbone') != ref_bb:
            notes.append(f'{name}: backbone replaced by the PIRL config\'s')
        cfg.model.backbone = copy.deepcopy(ref_bb)
        width = backbone_out_channels(ref_bb, img_size)
        neck = cfg.model.get('neck')
        if neck is not None and 'in_channels' in neck and \
                neck['in_channels'] != width:
            if neck.get('hid_channels') == neck['in_channels']:
                neck['hid_channels'] = width  # MoCo v2: hidden = input
            neck['in_channels'] = width
            notes.append(f'{name}: neck.in_channels set to {width}')
    _set_epochs(cfg, epochs)
    loader = cfg.train_dataloader
    loader.batch_size = batch_size
    loader.dataset.data_root = osp.join(data_root, 'train')
    if workers is not None:
        loader.num_workers = workers
        loader.persistent_workers = workers > 0
    head = cfg.model.get('head', {})
    if 'num_negatives' in head and head['num_negatives'] >= n_train:
        notes.append(f'{name}: num_negatives {head["num_negatives"]} -> '
                     f'{n_train - 1} (must be below the {n_train} training '
                     'images)')
        head['num_negatives'] = n_train - 1
    if 'queue_len' in cfg.model:
        queue = cfg.model.queue_len
        cap = max(batch_size, (n_train // batch_size) * batch_size)
        fixed = min(queue, cap)
        fixed -= fixed % batch_size  # MoCo needs a multiple of the batch
        fixed = max(fixed, batch_size)
        if fixed != queue:
            notes.append(f'{name}: queue_len {queue} -> {fixed} (a multiple '
                         f'of the batch, at most the {n_train} training '
                         'images)')
            cfg.model.queue_len = fixed
    # keep the last checkpoint only; log every epoch at least
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=epochs, max_keep_ckpts=1)
    iters_per_epoch = max(1, n_train // batch_size)
    logger = cfg.default_hooks.get('logger', dict(type='LoggerHook'))
    logger['interval'] = min(int(logger.get('interval', 50)), iters_per_epoch)
    cfg.default_hooks.logger = logger
    from pirl_plugin.evaluation import folder_dataloaders
    loaders = folder_dataloaders(data_root, img_size)
    imports = list(
        cfg.get('custom_imports', {}).get('imports', ['pirl_plugin']))
    if 'pirl_plugin.benchmarks' not in imports:
        imports.append('pirl_plugin.benchmarks')
    cfg.custom_imports = dict(imports=imports, allow_failed_imports=False)
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', []) if h['type'] != 'KNNMonitorHook'
    ] + [
        dict(
            type='KNNMonitorHook',
            interval=knn_interval,
            k=20,
            train_dataloader=loaders[0],
            val_dataloader=loaders[1])
    ]
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, 'run_config.py')
    tmp = path + '.new.py'
    cfg.dump(tmp)
    with open(tmp) as f:
        text = f.read()
    os.remove(tmp)
    if osp.exists(path):
        with open(path) as f:
            if f.read() == text:  # unchanged: keep the file (and --reuse)
                return path, cfg
    with open(path, 'w') as f:
        f.write(text)
    return path, cfg


# --------------------------------------------------------------------------
# training and logs
# --------------------------------------------------------------------------
def _last_checkpoint(work_dir: str) -> Optional[str]:
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.exists(marker):
        return None
    with open(marker) as f:
        ckpt = f.read().strip()
    return ckpt if osp.isfile(ckpt) else None


def train(config_path: str,
          work_dir: str,
          reuse: bool = False,
          threads: Optional[int] = None) -> dict:
    """Run ``tools/train.py`` on ``config_path``; output in
    ``<work_dir>/train.log``.

    Returns:
        dict: ``checkpoint``, ``train_seconds``, ``reused``.
    """
    stamp = osp.join(work_dir, 'trained_config.py')
    if reuse and osp.exists(stamp) and _last_checkpoint(work_dir):
        with open(stamp) as a, open(config_path) as b:
            if a.read() == b.read():
                with open(osp.join(work_dir, 'train_seconds.txt')) as f:
                    secs = float(f.read())
                return dict(
                    checkpoint=_last_checkpoint(work_dir),
                    train_seconds=secs,
                    reused=True)
    cmd = [sys.executable, TRAIN_SCRIPT, config_path, '--work-dir', work_dir]
    print('[compare] ' + ' '.join(cmd), flush=True)
    t0 = time.time()
    log = osp.join(work_dir, 'train.log')
    env = dict(os.environ)
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with open(log, 'w') as f:
        proc = subprocess.run(
            cmd, stdout=f, stderr=subprocess.STDOUT, cwd=REPO, env=env)
    secs = time.time() - t0
    if proc.returncode != 0:
        with open(log) as f:
            tail = f.read()[-4000:]
        raise RuntimeError(f'training failed ({" ".join(cmd)}), the end of '
                           f'{log}:\n{tail}')
    ckpt = _last_checkpoint(work_dir)
    if ckpt is None:
        raise RuntimeError(f'no checkpoint in {work_dir} after training')
    with open(config_path) as a, open(stamp, 'w') as b:
        b.write(a.read())
    with open(osp.join(work_dir, 'train_seconds.txt'), 'w') as f:
        f.write(f'{secs:.1f}')
    return dict(checkpoint=ckpt, train_seconds=secs, reused=False)


def read_logs(work_dir: str) -> dict:
    """The kNN monitor's curve and the last logged scalars of the newest
    run in ``work_dir``."""
    from pirl_plugin.utils.run_logs import read_run_logs
    rows, knn = read_run_logs(work_dir)
    last: Dict[str, float] = {}
    for row in rows:
        last.update(row)
    return dict(knn_curve=knn, last_scalars=last)


def mean_pairwise_cosine(rows) -> float:
    """Mean cosine similarity between different rows: ``(M |mean|^2 - 1)
    / (M - 1)`` of the L2-normalised rows (1 when all rows are equal)."""
    import torch
    x = torch.as_tensor(rows).double()
    x = torch.nn.functional.normalize(x, dim=1)
    m = x.shape[0]
    if m < 2:
        return float('nan')
    mean_sq = float(x.mean(0).pow(2).sum())
    return (m * mean_sq - 1.0) / (m - 1.0)


def checkpoint_negatives_stats(checkpoint: str) -> dict:
    """Collapse statistics of PIRL's bank / MoCo's queue in a checkpoint."""
    from pirl_plugin.utils.checkpoints import load_checkpoint
    state = load_checkpoint(checkpoint)
    state = state.get('state_dict', state)
    out = {}
    for key, val in state.items():
        if key.endswith('memory_bank.bank') and val.dim() == 2:
            out['bank_pairwise_sim'] = mean_pairwise_cosine(val)
        elif key.split('.')[-1] == 'queue' and val.dim() == 2:
            out['queue_pairwise_sim'] = mean_pairwise_cosine(val.T)
    return out


# --------------------------------------------------------------------------
# probing: the project's one evaluation path (the kNN monitor's, the kNN
# tool's and the demo's), so a final bar is the last point of its curve
# --------------------------------------------------------------------------
class Prober:
    """Frozen-feature kNN and linear probe on ``<data_root>/{train,test}``
    by :func:`pirl_plugin.evaluation.knn_evaluate_config`: the images
    resized to ``img_size`` by the kNN monitor's pipeline
    (:func:`pirl_plugin.evaluation.folder_dataloaders`), pooled res5
    features, weighted kNN and scikit-learn's logistic regression on the
    same features.
    """

    def __init__(self,
                 data_root: str,
                 img_size: int,
                 k: int = 20,
                 temperature: float = 0.07,
                 seed: int = 0) -> None:
        from pirl_plugin.evaluation import folder_dataloaders
        self.loaders = folder_dataloaders(data_root, img_size)
        self.classes = sorted(
            d for d in os.listdir(osp.join(data_root, 'train'))
            if osp.isdir(osp.join(data_root, 'train', d)))
        self.k, self.temperature, self.seed = k, temperature, seed

    def probe(self, cfg, checkpoint: Optional[str]) -> dict:
        """kNN top-1, linear top-1 (%) and the mean pairwise cosine
        similarity of the test features of ``cfg.model``'s backbone loaded
        from ``checkpoint`` (None: its seeded random initialisation)."""
        from pirl_plugin.evaluation import knn_evaluate_config
        res = knn_evaluate_config(
            cfg.model,
            checkpoint,
            *self.loaders,
            ks=(self.k, ),
            temperature=self.temperature,
            seed=self.seed,
            linear=True,
            return_features=True)
        return dict(
            knn_top1=float(res['knn_top1'][self.k]),
            linear_top1=float(res['linear_top1']),
            feat_pairwise_sim=mean_pairwise_cosine(res['val_feats']))


# --------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------
def _fmt(v, spec='.1f') -> str:
    return '-' if v is None or (isinstance(v, float) and math.isnan(v)) \
        else format(v, spec)


def markdown_table(result: dict) -> str:
    b = result['budget']
    lines = [
        f'Data: `{result["data_root"]}` ({result["n_train"]} train / '
        f'{result["n_test"]} test images, {result["n_classes"]} classes); '
        f'budget: batch {b["batch_size"]}, {b["epochs"]} epochs = '
        f'{b["iterations"]} iterations; probe: {result["img_size"]} px, '
        'pooled last-stage features, weighted kNN (k=20) and logistic '
        'regression.', '',
        '| method | kNN top-1 | linear top-1 | bank / queue pairwise sim '
        '| bank_feat_sim (log) | test-feature pairwise sim | train s |',
        '|---|---|---|---|---|---|---|'
    ]
    for name, r in result['methods'].items():
        neg = r.get('bank_pairwise_sim', r.get('queue_pairwise_sim'))
        lines.append(
            f'| {name} | {_fmt(r["knn_top1"])} | {_fmt(r["linear_top1"])} '
            f'| {_fmt(neg, ".3f")} | {_fmt(r.get("bank_feat_sim"), ".3f")} '
            f'| {_fmt(r.get("feat_pairwise_sim"), ".3f")} '
            f'| {_fmt(r.get("train_seconds"), ".0f")} |')
    return '\n'.join(lines) + '\n'


def plot(result: dict, out: str, title: str = '') -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.2))
    methods = result['methods']
    others = iter(['#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf'])
    colors = {n: COLORS.get(n) or next(others, '#333333') for n in methods}
    per_epoch = result['budget']['iters_per_epoch']
    for name, r in methods.items():
        curve = r.get('knn_curve') or []
        if curve:
            # x: iterations done when the monitor ran (end of that epoch)
            ax0.plot([c['epoch'] * per_epoch for c in curve],
                     [c['knn_top1'] for c in curve],
                     'o-',
                     color=colors[name],
                     alpha=0.85,
                     label=f'{name} (kNN monitor)')
    if 'random' in methods:
        ax0.axhline(
            methods['random']['knn_top1'],
            color=colors['random'],
            ls='--',
            label='random init')
    ax0.set_xlim(0, max(1, result['budget']['iterations']) * 1.05)
    ax0.set_xlabel('iteration')
    ax0.set_ylabel('kNN top-1 (%), k=20')
    ax0.set_ylim(0, 100)
    ax0.set_title('kNN accuracy during pre-training')
    ax0.legend(loc='lower right')
    names = list(methods)
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        vals = [methods[name]['knn_top1'], methods[name]['linear_top1']]
        xs = [j - 0.4 + width * (i + 0.5) for j in range(2)]
        bars = ax1.bar(xs, vals, width, label=name, color=colors[name])
        for bar, v in zip(bars, vals):
            ax1.text(
                bar.get_x() + bar.get_width() / 2,
                v + 1,
                f'{v:.1f}',
                ha='center',
                fontsize=8)
    ax1.set_xticks([0, 1])
    ax1.set_xticklabels(['kNN (k=20)', 'linear probe'])
    ax1.set_ylim(0, 118)  # room above 100 for the legend
    ax1.set_yticks(range(0, 101, 20))
    ax1.set_ylabel('top-1 on the test split (%)')
    b = result['budget']
    ax1.set_title(f'frozen features, {b["iterations"]} iterations of '
                  f'{b["batch_size"]}')
    ax1.legend(loc='upper center', fontsize=8, ncol=max(1, len(names)))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------
def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        '--data-root',
        required=True,
        help='folder with labelled train/<class>/ and '
        'test/<class>/ images')
    p.add_argument('--pirl-config', default=DEFAULT_PIRL)
    p.add_argument('--mocov2-config', default=DEFAULT_MOCOV2)
    p.add_argument(
        '--extra',
        action='append',
        default=[],
        metavar='NAME=CONFIG',
        help='another method trained the same way (e.g. '
        'jigsaw=configs/jigsaw/jigsaw_resnet18_1xb64-coslr-20e_'
        'shapes-demo.py); repeatable')
    p.add_argument(
        '--methods',
        default='pirl,mocov2,random',
        help='comma-separated subset of pirl, mocov2, random and '
        'the --extra names (default: pirl,mocov2,random + '
        'extras)')
    p.add_argument(
        '--work-dir', default=osp.join(REPO, 'work_dirs', 'compare_mocov2'))
    p.add_argument(
        '--epochs',
        type=int,
        default=None,
        help='epochs for every method (default: the PIRL '
        'config\'s)')
    p.add_argument(
        '--iters',
        type=int,
        default=None,
        help='at least this many iterations for every method '
        '(rounded up to whole epochs)')
    p.add_argument(
        '--batch-size',
        type=int,
        default=None,
        help='images per iteration for every method (default: '
        'the PIRL config\'s)')
    p.add_argument(
        '--workers',
        type=int,
        default=None,
        help='data-loader workers per method')
    p.add_argument(
        '--threads',
        type=int,
        default=None,
        help='OMP/MKL threads of each training process (on a '
        'shared or small machine 1 avoids oversubscription)')
    p.add_argument(
        '--knn-interval',
        type=int,
        default=4,
        help='kNN monitor every N epochs (and after the last)')
    p.add_argument(
        '--keep-backbones',
        action='store_true',
        help='do not copy the PIRL backbone into the others')
    p.add_argument(
        '--keep-schedules',
        action='store_true',
        help='do not copy the PIRL optimiser / lr schedule into '
        'the others')
    p.add_argument('--cfg-options-pirl', nargs='+', action=DictAction)
    p.add_argument('--cfg-options-mocov2', nargs='+', action=DictAction)
    p.add_argument(
        '--cfg-options-extra',
        nargs='+',
        action=DictAction,
        help='applied to every --extra config')
    p.add_argument(
        '--reuse',
        action='store_true',
        help='skip the training of a method whose work dir holds '
        'a finished run of the identical config')
    p.add_argument('--png', default=None, help='another copy of the plot')
    p.add_argument('--title', default='')
    p.add_argument(
        '--tiny',
        action='store_true',
        help='smoke test: 1 epoch (unless --epochs), batch 8, no '
        'loader workers')
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    t_start = time.time()
    from mmengine.config import Config

    import pirl_plugin  # noqa: F401  registers the components
    import pirl_plugin.benchmarks  # noqa: F401  KNNMonitorHook
    data_root = osp.abspath(args.data_root)
    for split in ('train', 'test'):
        if not osp.isdir(osp.join(data_root, split)):
            raise SystemExit(f'{data_root} has no {split}/ folder: the tool '
                             'needs labelled train/<class>/ and '
                             'test/<class>/ splits')
    n_train = count_images(osp.join(data_root, 'train'))
    n_test = count_images(osp.join(data_root, 'test'))
    extras = {}
    for item in args.extra:
        if '=' not in item:
            raise SystemExit(f'--extra needs NAME=CONFIG, got {item!r}')
        name, path = item.split('=', 1)
        if name in ('pirl', 'mocov2', 'random'):
            raise SystemExit(f'--extra name {name!r} is reserved')
        extras[name] = path
    methods = [m.strip() for m in args.methods.split(',') if m.strip()]
    methods += [n for n in extras if n not in methods]
    unknown = set(methods) - {'pirl', 'mocov2', 'random'} - set(extras)
    if unknown:
        raise SystemExit(f'unknown methods {sorted(unknown)}')

    pirl_ref = Config.fromfile(args.pirl_config)
    if args.cfg_options_pirl:
        pirl_ref.merge_from_dict(args.cfg_options_pirl)
    img_size = eval_size(pirl_ref)
    batch = args.batch_size or (8 if args.tiny else
                                pirl_ref.train_dataloader.batch_size)
    workers = 0 if args.tiny and args.workers is None else args.workers
    iters_per_epoch = n_train // batch  # drop_last
    if iters_per_epoch < 1:
        raise SystemExit(f'{n_train} training images are fewer than the '
                         f'batch of {batch}: pass a smaller --batch-size')
    if args.iters:
        epochs = math.ceil(args.iters / iters_per_epoch)
    elif args.epochs:
        epochs = args.epochs
    elif args.tiny:
        epochs = 1
    else:
        epochs = int(pirl_ref.train_cfg.max_epochs)
    budget = dict(
        batch_size=batch,
        epochs=epochs,
        iters_per_epoch=iters_per_epoch,
        iterations=epochs * iters_per_epoch)
    print(
        f'[compare] {data_root}: {n_train} train / {n_test} test images; '
        f'budget {budget}',
        flush=True)

    notes: List[str] = []
    configs = dict(
        pirl=(args.pirl_config, args.cfg_options_pirl),
        mocov2=(args.mocov2_config, args.cfg_options_mocov2))
    configs.update({n: (p, args.cfg_options_extra) for n, p in extras.items()})
    prepared = {}
    for name in ['pirl'] + [m for m in methods if m not in ('pirl', 'random')]:
        config, options = configs[name]
        prepared[name] = prepare_config(
            config,
            name,
            data_root,
            osp.join(args.work_dir, name),
            n_train,
            batch,
            epochs,
            img_size,
            args.knn_interval,
            options,
            reference=None if name == 'pirl' else prepared['pirl'][1],
            keep_backbone=args.keep_backbones,
            keep_schedule=args.keep_schedules,
            workers=workers,
            notes=notes)
    for note in notes:
        print('[compare] note: ' + note, flush=True)

    # quiet the model-building messages of the probes (init_weights)
    from mmengine.logging import MMLogger
    MMLogger.get_instance('compare_mocov2', log_level='WARNING')
    prober = Prober(data_root, img_size)
    results = {}
    for name in methods:
        if name == 'random':
            res = prober.probe(prepared['pirl'][1], None)
            res.update(
                config=osp.relpath(args.pirl_config, REPO), checkpoint=None)
        else:
            path, cfg = prepared[name]
            run = train(path, osp.join(args.work_dir, name), args.reuse,
                        args.threads)
            res = prober.probe(cfg, run['checkpoint'])
            logs = read_logs(osp.join(args.work_dir, name))
            res.update(checkpoint_negatives_stats(run['checkpoint']))
            last = logs['last_scalars']
            for key in ('bank_feat_sim', 'bank_pairwise_sim', 'loss'):
                if key in last:
                    res[key + (
                        '_log' if key == 'bank_pairwise_sim' else '')] = float(
                            last[key])
            res.update(
                config=configs[name][0],
                run_config=path,
                checkpoint=run['checkpoint'],
                train_seconds=round(run['train_seconds'], 1),
                reused=run['reused'],
                knn_curve=logs['knn_curve'])
        results[name] = res
        print(
            f'[compare] {name}: kNN {res["knn_top1"]:.2f}  linear '
            f'{res["linear_top1"]:.2f}',
            flush=True)

    result = dict(
        data_root=data_root,
        n_train=n_train,
        n_test=n_test,
        n_classes=len(prober.classes),
        img_size=img_size,
        budget=budget,
        methods=results,
        notes=notes,
        command=' '.join([osp.relpath(__file__, REPO)] +
                         (argv if argv is not None else sys.argv[1:])),
        total_seconds=round(time.time() - t_start, 1))
    os.makedirs(args.work_dir, exist_ok=True)
    table = markdown_table(result)
    with open(osp.join(args.work_dir, 'compare_result.json'), 'w') as f:
        json.dump(result, f, indent=2)
    with open(osp.join(args.work_dir, 'compare_result.md'), 'w') as f:
        f.write(table)
    png = osp.join(args.work_dir, 'compare_result.png')
    plot(result, png, args.title)
    if args.png:
        os.makedirs(osp.dirname(osp.abspath(args.png)), exist_ok=True)
        plot(result, args.png, args.title)
    print(table)
    print(
        f'[compare] wrote {png} and compare_result.{{json,md}}; total '
        f'{result["total_seconds"]:.0f} s',
        flush=True)
    return result


if __name__ == '__main__':
    main()
