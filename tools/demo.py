"""The embedded demo: generate the shapes dataset, pre-train PIRL on it with
``tools/train.py`` (a kNN monitor on the labelled splits runs every few
epochs), then compare the kNN and linear-probe accuracies of the frozen
features with those of the same backbone untrained: at the standard init
(``zero_init_residual=False``, as torchvision, VISSL and MoCo v2 build a
ResNet; the reference) and, when the config starts from it, at
MMPretrain's zero-init residual, and plot the loss, the kNN curve and the
final accuracies.

    python tools/demo.py  [--epochs N] [--work-dir DIR] [--config CFG]
                          [--cfg-options KEY=VALUE ...]

Writes ``<work-dir>/demo_result.{png,json}`` and the config it trained,
``<work-dir>/demo_run_config.py``.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

from mmengine.config import Config, DictAction

from pirl_plugin.evaluation import folder_dataloaders, knn_evaluate_config
from pirl_plugin.evaluation.comparison_report import (UNTRAINED_STYLE,
                                                      probe_bars,
                                                      untrained_lines)
from pirl_plugin.evaluation.probe import view_size
from pirl_plugin.evaluation.untrained import (INIT_LABELS, untrained_inits,
                                              with_init)
from pirl_plugin.utils.run_logs import read_run_logs

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(HERE)
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'pirl',
                          'pirl_resnet18w16_1xb64-coslr-20e_shapes-demo.py')


def plot(rows, knn, pirl: dict, untrained: dict, backbone: str,
         out: str) -> None:
    """Loss curves, the kNN curve with the untrained networks' lines, and
    the final bars (``untrained``: init -> :func:`final_eval`)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(15, 4.4))
    if rows:
        it = [r['iter'] for r in rows]
        ax0.plot(it, [r['loss'] for r in rows], label='total loss')
        for key, lab in (('loss_transform', 'lambda * L(m_I, g(v_It))'),
                         ('loss_image', '(1 - lambda) * L(m_I, f(v_I))')):
            if key in rows[0]:
                ax0.plot(it, [r[key] for r in rows], label=lab, alpha=0.8)
        ax0.set_xlabel('iteration')
        ax0.set_ylabel('loss')
        ax0.set_title('PIRL pre-training loss')
        ax0.legend()
    if knn:
        ax1.plot([r['epoch'] for r in knn], [r['knn_top1'] for r in knn],
                 'o-',
                 label='PIRL (kNN monitor during training)')
    untrained_lines(ax1, untrained, 'knn_top1')
    ax1.set_xlabel('epoch')
    ax1.set_ylabel('kNN top-1 (%)')
    ax1.set_ylim(0, 100)
    ax1.set_title('kNN accuracy during pre-training')
    ax1.legend(loc='lower right', fontsize=8)
    series = [(f'untrained, {INIT_LABELS[init].split(" (")[0]}', res,
               UNTRAINED_STYLE[init]['color'])
              for init, res in untrained.items()]
    probe_bars(ax2, series + [('PIRL', pirl, '#1f77b4')],
               f'Frozen {backbone} features')
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def run_config(config: str,
               data_root: str,
               work_dir: str,
               epochs,
               knn_interval: int,
               options=None):
    """Write the config actually trained: ``config`` on the demo's training
    images, with a kNN monitor on its labelled train/test splits so the
    plot can show the accuracy during training.

    Returns:
        tuple: the written file's path and the config.
    """
    cfg = Config.fromfile(config)
    cfg.train_dataloader.dataset.data_root = osp.join(data_root, 'train')
    if options:
        cfg.merge_from_dict(options)
    if epochs:
        cfg.train_cfg.max_epochs = epochs
        for sched in cfg.param_scheduler:
            if 'T_max' in sched:
                sched['T_max'] = sched['end'] = epochs
    loaders = folder_dataloaders(data_root, view_size(cfg))
    cfg.custom_hooks = list(cfg.custom_hooks) + [
        dict(
            type='KNNMonitorHook',
            interval=knn_interval,
            k=20,
            train_dataloader=loaders[0],
            val_dataloader=loaders[1])
    ]
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, 'demo_run_config.py')
    cfg.dump(path)
    return path, cfg


def final_eval(cfg, checkpoint, init=None) -> dict:
    """kNN (k=20) and linear-probe top-1 of the frozen backbone of
    ``checkpoint`` (None: the untrained network, at the named ``init`` of
    :mod:`pirl_plugin.evaluation.untrained` if given), computed as the kNN
    monitor computes its curve (the same dataloaders and
    :func:`pirl_plugin.evaluation.knn_evaluate`), so the final bar equals the
    curve's last point for the last checkpoint."""
    hook = next(h for h in cfg.custom_hooks if h['type'] == 'KNNMonitorHook')
    model = cfg.model if init is None else with_init(cfg.model, init)
    res = knn_evaluate_config(
        model,
        checkpoint,
        hook['train_dataloader'],
        hook['val_dataloader'],
        ks=(hook['k'], ),
        temperature=hook.get('temperature', 0.07),
        seed=int(cfg.get('randomness', {}).get('seed', 0)),
        linear=True)
    out = dict(
        knn_top1=res['knn_top1'][hook['k']], linear_top1=res['linear_top1'])
    if init is not None:
        out.update(init=init, init_label=INIT_LABELS[init])
    return out


def quiet_init_logs() -> None:
    """Keep MMEngine's weight-initialisation report out of the output.

    ``BaseModule.init_weights`` reports every parameter ("The value is the
    same before and after calling `init_weights` ...") at INFO on the
    current MMLogger, on the console when no log file is open: about 76
    lines after the demo's results for each model the evaluation builds.
    A current logger at WARNING (MMEngine's loggers are looked up as "the
    latest created") keeps warnings and errors and drops that report; the
    training run keeps its own logger and log file.
    """
    from mmengine.logging import MMLogger
    MMLogger.get_instance('pirl_demo', log_level='WARNING')


def parse_args(argv=None) -> argparse.Namespace:
    """The command line of the demo."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--config', default=DEFAULT_CONFIG)
    parser.add_argument(
        '--data-root', default=osp.join(REPO, 'data', 'pirl_demo'))
    parser.add_argument(
        '--work-dir', default=osp.join(REPO, 'work_dirs', 'pirl_demo'))
    parser.add_argument(
        '--epochs',
        type=int,
        default=None,
        help='override the config\'s number of epochs')
    parser.add_argument(
        '--knn-interval',
        type=int,
        default=3,
        help='kNN monitor every N epochs during training')
    parser.add_argument('--train-per-class', type=int, default=200)
    parser.add_argument('--test-per-class', type=int, default=50)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as in '
        'tools/train.py')
    return parser.parse_args(argv)


def pretrain(config: str, work_dir: str) -> str:
    """Pre-train with ``tools/train.py`` in a subprocess.

    Args:
        config (str): the written config file.
        work_dir (str): the run's work directory.

    Returns:
        str: the last checkpoint's path.
    """
    cmd = [
        sys.executable,
        osp.join(HERE, 'train.py'), config, '--work-dir', work_dir
    ]
    print('[demo] pre-training:', ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def backbone_name(cfg) -> str:
    """``ResNet-<depth>``, with the width when it is not 64."""
    bb = cfg.model.backbone
    backbone = f'ResNet-{bb.get("depth", "?")}'
    if bb.get('base_channels', 64) != 64:
        backbone += f' (width {bb["base_channels"]})'
    return backbone


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    from pirl_plugin.datasets.synthetic import make_shapes_dataset
    counts = make_shapes_dataset(args.data_root, args.train_per_class,
                                 args.test_per_class)
    print(f'[demo] dataset {args.data_root}: {counts}', flush=True)
    config, cfg = run_config(args.config, args.data_root, args.work_dir,
                             args.epochs, args.knn_interval, args.cfg_options)
    ckpt = pretrain(config, args.work_dir)
    t_train = time.time() - t0

    quiet_init_logs()
    pirl = final_eval(cfg, ckpt)
    untrained = {
        init: final_eval(cfg, None, init)
        for init in untrained_inits(cfg.model)
    }
    rows, knn = read_run_logs(args.work_dir)
    png = osp.join(args.work_dir, 'demo_result.png')
    plot(rows, knn, pirl, untrained, backbone_name(cfg), png)
    result = dict(
        pirl=pirl,
        untrained_standard_init=untrained['standard'],
        untrained_zero_init=untrained.get('zero_init'),
        knn_during_training=knn,
        checkpoint=ckpt,
        config=config,
        train_seconds=round(t_train, 1),
        total_seconds=round(time.time() - t0, 1))
    with open(osp.join(args.work_dir, 'demo_result.json'), 'w') as f:
        json.dump(result, f, indent=2)
    report(pirl, untrained)
    print(f'[demo] plot: {png}   total time {result["total_seconds"]:.0f} s')


def report(pirl: dict, untrained: dict) -> None:
    """Print PIRL against each untrained network; warn when it is not above
    the standard-init one (the reference)."""
    for key, name in (('knn_top1', 'kNN top-1 (k=20)'),
                      ('linear_top1', 'linear-probe top-1')):
        print(f'[demo] {name} on the held-out test split: PIRL '
              f'{pirl[key]:.2f}%')
        for res in untrained.values():
            print(f'[demo]     untrained, {res["init_label"]}: '
                  f'{res[key]:.2f}%  (PIRL {pirl[key] - res[key]:+.2f} '
                  'points)')
    ref = untrained['standard']
    if pirl['knn_top1'] <= ref['knn_top1']:
        print('[demo] WARNING: PIRL did not beat the untrained network at '
              'the standard init on kNN')


if __name__ == '__main__':
    main()
