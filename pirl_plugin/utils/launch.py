"""What the launchers (``tools/train.py``, ``tools/det_train.py``,
``tools/det_test.py``) share: MMPretrain's ``tools/train.py`` command-line
options and their merging into a config (distributed runs on CPU-only
machines: :mod:`pirl_plugin.utils.cpu_distributed`); the evaluation tools'
``--out`` and ``--cfg-options``."""
import argparse
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

import torch
from mmengine.config import Config, DictAction

from .cpu_distributed import setup_cpu_distributed


def add_train_args(parser: argparse.ArgumentParser,
                   helps: Optional[Dict[str, str]] = None) -> None:
    """Add the training options of MMPretrain's ``tools/train.py``:
    ``--work-dir``, ``--resume``, ``--amp``, ``--no-validate``,
    ``--auto-scale-lr``, ``--no-pin-memory``, ``--no-persistent-workers``.

    Args:
        parser (ArgumentParser): the launcher's parser.
        helps (dict[str, str], optional): help texts to use instead of the
            default ones, by option (e.g. ``{'--auto-scale-lr': ...}``).
    """
    helps = helps or {}
    options = [
        ('--work-dir', dict(help='the dir to save logs and models')),
        ('--resume',
         dict(
             nargs='?',
             type=str,
             const='auto',
             help='If specify checkpoint path, resume from it, while if not '
             'specify, try to auto resume from the latest checkpoint '
             'in the work directory.')),
        ('--amp',
         dict(
             action='store_true',
             help='enable automatic-mixed-precision training')),
        ('--no-validate',
         dict(
             action='store_true',
             help='Whether not to evaluate the checkpoint during training')),
        ('--auto-scale-lr',
         dict(
             action='store_true',
             help='whether to auto scale the learning rate according to '
             'the actual batch size and the original batch size.')),
        ('--no-pin-memory',
         dict(
             action='store_true',
             help='whether to disable the pin_memory option in '
             'dataloaders.')),
        ('--no-persistent-workers',
         dict(
             action='store_true',
             help='whether to disable the persistent_workers option in '
             'dataloaders.')),
    ]
    for name, kwargs in options:
        kwargs['help'] = helps.get(name, kwargs['help'])
        parser.add_argument(name, **kwargs)


def add_launcher_args(parser: argparse.ArgumentParser,
                      cfg_options_help: Optional[str] = None) -> None:
    """Add ``--cfg-options``, ``--launcher`` and ``--local_rank`` (as in
    MMPretrain's ``tools/train.py``; parse with :func:`parse_launcher_args`).

    Args:
        parser (ArgumentParser): the launcher's parser.
        cfg_options_help (str, optional): help text of ``--cfg-options``
            instead of the default one.
    """
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help=cfg_options_help
        or 'override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0) or
    # --local_rank
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def add_result_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--out`` (a JSON result file) and ``--cfg-options``, as the
    evaluation tools take them."""
    parser.add_argument('--out', default=None, help='write a JSON result')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value (as in tools/train.py)')


def write_result(result: dict, out: Optional[str]) -> dict:
    """Write ``result`` as indented JSON to ``out`` (its folder created),
    if ``out`` is given.

    Args:
        result (dict): a JSON-serialisable result.
        out (str, optional): the file, or None to write nothing.

    Returns:
        dict: ``result``.
    """
    if out:
        os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
        with open(out, 'w') as f:
            json.dump(result, f, indent=2)
    return result


def parse_launcher_args(
        parser: argparse.ArgumentParser,
        argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse ``argv`` (default: ``sys.argv[1:]``) and export ``LOCAL_RANK``
    from ``--local_rank`` unless the launcher already set it.

    Args:
        parser (ArgumentParser): a parser with :func:`add_launcher_args`.
        argv (list[str], optional): the arguments.

    Returns:
        Namespace: the parsed arguments.
    """
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def disable_persistent_workers_without_workers(
    cfg: Config,
    fields: Sequence[str] = ('train_dataloader', 'val_dataloader',
                             'test_dataloader')
) -> None:
    """Set ``persistent_workers=False`` in the data loaders that load in the
    main process (``num_workers=0``).

    PyTorch refuses ``persistent_workers=True`` without workers, and
    MMPretrain's ``tools/train.py`` turns it on for every loader; a config
    run with ``--cfg-options train_dataloader.num_workers=0`` would
    otherwise stop with ``persistent_workers option needs num_workers > 0``.
    :meth:`pirl_plugin.engine.PIRLRunner.from_cfg` applies it to every
    config that selects the plugin's runner; the detection tools, which
    build MMEngine's runner, call it themselves.

    Args:
        cfg (Config): the config, changed in place.
        fields (Sequence[str]): the data-loader entries to look at.
    """
    for field in fields:
        loader = cfg.get(field, None)
        if loader is not None and loader.get('num_workers', 0) == 0:
            loader['persistent_workers'] = False


def set_work_dir(cfg: Config, work_dir, config: str) -> None:
    """``cfg.work_dir``: ``work_dir`` (the command line) if given, else the
    config's, else ``./work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge the command-line arguments into the config (as MMPretrain's
    ``tools/train.py`` does, but ``--cfg-options`` first so that the flags
    apply to the overridden values), and set up a distributed launch on a
    CPU-only machine.

    Args:
        cfg (Config): the loaded config.
        args (Namespace): options of :func:`add_train_args` and
            :func:`add_launcher_args`, and ``config``.

    Returns:
        Config: ``cfg``, changed in place.
    """
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    cfg.launcher = args.launcher

    set_work_dir(cfg, args.work_dir, args.config)

    if args.amp:
        _use_amp(cfg)
    _apply_resume(cfg, args.resume)
    if args.auto_scale_lr:
        if cfg.get('auto_scale_lr') is None:
            raise ValueError(f'--auto-scale-lr needs `auto_scale_lr = dict('
                             f'base_batch_size=...)` in {args.config}')
        cfg.auto_scale_lr.enable = True
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        _apply_dataloader_flags(cfg, field, args)

    if args.launcher != 'none' and not torch.cuda.is_available():
        setup_cpu_distributed(cfg, args.launcher)
    return cfg


def _use_amp(cfg: Config) -> None:
    """Switch ``cfg.optim_wrapper`` to ``AmpOptimWrapper`` (``--amp``).

    Args:
        cfg (Config): the config, changed in place.
    """
    optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    assert optim_wrapper in ['OptimWrapper', 'AmpOptimWrapper'], \
        '`--amp` is not supported custom optimizer wrapper type ' \
        f'`{optim_wrapper}.'
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


def _apply_resume(cfg: Config, resume: Optional[str]) -> None:
    """Set ``cfg.resume`` and ``cfg.load_from`` from ``--resume``.

    Args:
        cfg (Config): the config, changed in place.
        resume (str, optional): ``'auto'``, a checkpoint path, or None.
    """
    if resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif resume is not None:
        cfg.resume = True
        cfg.load_from = resume


def _apply_dataloader_flags(cfg: Config, field: str,
                            args: argparse.Namespace) -> None:
    """Apply ``--no-pin-memory`` and ``--no-persistent-workers`` to the
    dataloader config ``cfg[field]``, if the config has one.

    Args:
        cfg (Config): the config, changed in place.
        field (str): e.g. ``'train_dataloader'``.
        args (Namespace): the parsed command line.
    """
    if cfg.get(field, None) is None:
        return
    dataloader_cfg = cfg[field]
    if args.no_pin_memory:
        dataloader_cfg['pin_memory'] = False
    if args.no_persistent_workers:
        dataloader_cfg['persistent_workers'] = False
