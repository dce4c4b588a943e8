"""The embedded demo: generate the shapes dataset, pre-train PIRL on it with
``tools/train.py`` (a kNN monitor on the labelled splits runs every few
epochs), then compare the kNN and linear-probe accuracies of the frozen
features with those of the same backbone at its random initialisation, and
plot the loss, the kNN curve and the final accuracies.

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
from pirl_plugin.utils.run_logs import read_run_logs

HERE = osp.dirname(osp.abspath(__file__))
REPO = osp.dirname(HERE)
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'pirl',
                          'pirl_resnet18w16_1xb64-coslr-20e_shapes-demo.py')


def plot(rows, knn, pirl: dict, rand: dict, backbone: str, out: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(15, 4))
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
        ax1.plot(
            [0] + [r['epoch'] for r in knn],
            [rand['knn_top1']] + [r['knn_top1'] for r in knn],
            'o-',
            label='PIRL (kNN monitor during training)')
    ax1.axhline(
        rand['knn_top1'], color='#999999', ls='--', label='random init')
    ax1.set_xlabel('epoch')
    ax1.set_ylabel('kNN top-1 (%)')
    ax1.set_ylim(0, 100)
    ax1.set_title('kNN accuracy during pre-training')
    ax1.legend(loc='lower right')
    x = range(2)
    width = 0.38
    series = ((rand, 'random init', '#999999'), (pirl, 'PIRL', '#1f77b4'))
    for off, (res, name, color) in zip((-width / 2, width / 2), series):
        vals = [res['knn_top1'], res['linear_top1']]
        bars = ax2.bar([i + off for i in x],
                       vals,
                       width,
                       label=name,
                       color=color)
        for b, v in zip(bars, vals):
            ax2.text(
                b.get_x() + b.get_width() / 2, v + 1, f'{v:.1f}', ha='center')
    ax2.set_xticks(list(x))
    ax2.set_xticklabels(['kNN (k=20)', 'linear probe'])
    ax2.set_ylim(0, 100)
    ax2.set_ylabel('top-1 on the test split (%)')
    ax2.set_title(f'Frozen {backbone} features')
    ax2.legend(loc='upper left')
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def eval_size(cfg) -> int:
    """The image-view size of the config's PIRL transform (default 64)."""
    for t in cfg.train_dataloader.dataset.get('pipeline', []):
        if 'img_size' in t:
            return int(t['img_size'])
    return 64


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
    loaders = folder_dataloaders(data_root, eval_size(cfg))
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


def final_eval(cfg, checkpoint) -> dict:
    """kNN (k=20) and linear-probe top-1 of the frozen backbone of
    ``checkpoint`` (None: the random initialisation), computed as the kNN
    monitor computes its curve (the same dataloaders and
    :func:`pirl_plugin.evaluation.knn_evaluate`), so the final bar equals the
    curve's last point for the last checkpoint."""
    hook = next(h for h in cfg.custom_hooks if h['type'] == 'KNNMonitorHook')
    res = knn_evaluate_config(
        cfg.model,
        checkpoint,
        hook['train_dataloader'],
        hook['val_dataloader'],
        ks=(hook['k'], ),
        temperature=hook.get('temperature', 0.07),
        linear=True)
    return dict(
        knn_top1=res['knn_top1'][hook['k']], linear_top1=res['linear_top1'])


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


def main(argv=None):
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
    args = parser.parse_args(argv)

    t0 = time.time()
    from pirl_plugin.datasets.synthetic import make_shapes_dataset
    counts = make_shapes_dataset(args.data_root, args.train_per_class,
                                 args.test_per_class)
    print(f'[demo] dataset {args.data_root}: {counts}', flush=True)

    config, cfg = run_config(args.config, args.data_root, args.work_dir,
                             args.epochs, args.knn_interval, args.cfg_options)
    cmd = [
        sys.executable,
        osp.join(HERE, 'train.py'), config, '--work-dir', args.work_dir
    ]
    print('[demo] pre-training:', ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    ckpt_file = osp.join(args.work_dir, 'last_checkpoint')
    with open(ckpt_file) as f:
        ckpt = f.read().strip()
    t_train = time.time() - t0

    quiet_init_logs()
    bb = cfg.model.backbone
    backbone = f'ResNet-{bb.get("depth", "?")}'
    if bb.get('base_channels', 64) != 64:
        backbone += f' (width {bb["base_channels"]})'
    pirl, rand = (final_eval(cfg, c) for c in (ckpt, None))
    rows, knn = read_run_logs(args.work_dir)
    png = osp.join(args.work_dir, 'demo_result.png')
    plot(rows, knn, pirl, rand, backbone, png)
    result = dict(
        pirl=pirl,
        random_init=rand,
        knn_during_training=knn,
        checkpoint=ckpt,
        config=config,
        train_seconds=round(t_train, 1),
        total_seconds=round(time.time() - t0, 1))
    with open(osp.join(args.work_dir, 'demo_result.json'), 'w') as f:
        json.dump(result, f, indent=2)
    for key, name in (('knn_top1', 'kNN top-1 (k=20)'),
                      ('linear_top1', 'linear-probe top-1')):
        print(f'[demo] {name} on the held-out test split: PIRL '
              f'{pirl[key]:.2f}%  vs  random init {rand[key]:.2f}%  '
              f'({pirl[key] - rand[key]:+.2f} points)')
    print(f'[demo] plot: {png}   total time {result["total_seconds"]:.0f} s')
    if pirl['knn_top1'] <= rand['knn_top1']:
        print('[demo] WARNING: PIRL did not beat the random initialisation')


if __name__ == '__main__':
    main()
