"""The config each method of a same-budget comparison
(``tools/analysis/compare_mocov2.py``) trains: what the runs share
(:class:`RunSpec`), the reference config's backbone and schedule, the
training data, the kNN monitor, and the file written for ``tools/train.py``."""
import copy
import math
import os
import os.path as osp
from dataclasses import dataclass
from typing import List, Optional, Tuple

from mmengine.config import Config

IMG_EXTS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff',
            '.webp')


def count_images(folder: str) -> int:
    """Number of image files under ``folder`` (recursively)."""
    n = 0
    for _, _, files in os.walk(folder, followlinks=True):
        n += sum(f.lower().endswith(IMG_EXTS) for f in files)
    return n


@dataclass
class RunSpec:
    """What every method of one comparison run shares.

    Args:
        data_root (str): folder with labelled ``train/`` and ``test/``;
            pre-training reads ``train/`` without labels.
        n_train (int): number of training images.
        batch_size (int): images per iteration.
        epochs (int): training epochs (each run has its own full schedule).
        img_size (int): side of the kNN monitor's resized images.
        knn_interval (int): kNN monitor every this many epochs.
        workers (int, optional): data-loader workers.
        init (str, optional): the backbones' named initialisation (a key
            of :data:`pirl_plugin.evaluation.untrained.INITS`); None keeps
            each config's.
        same_backbone (bool): give every method the reference config's
            backbone. Defaults to True.
        same_schedule (bool): give every method the reference config's
            optimiser and schedule. Defaults to True.
    """
    data_root: str
    n_train: int
    batch_size: int
    epochs: int
    img_size: int
    knn_interval: int = 4
    workers: Optional[int] = None
    init: Optional[str] = None
    same_backbone: bool = True
    same_schedule: bool = True

    @property
    def iters_per_epoch(self) -> int:
        """Iterations per epoch (the loader drops the last partial batch)."""
        return max(1, self.n_train // self.batch_size)

    @property
    def iterations(self) -> int:
        """Iterations of the whole run."""
        return self.epochs * self.iters_per_epoch

    def epochs_for(self, iterations: int) -> int:
        """Whole epochs for at least ``iterations`` iterations."""
        return max(1, math.ceil(iterations / self.iters_per_epoch))


def load_config(config: str, options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` with ``--cfg-options``-style ``options``."""
    cfg = Config.fromfile(config)
    if options:
        cfg.merge_from_dict(options)
    return cfg


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


def copy_reference(cfg: Config, name: str, reference: Config, spec: RunSpec,
                   notes: List[str]) -> None:
    """Give ``cfg`` the reference (PIRL) config's optimiser and schedule
    (``spec.same_schedule``) and backbone (``spec.same_backbone``; the
    neck's input width is set to the backbone's output width). What changed
    goes to ``notes``."""
    if spec.same_schedule:
        for key in ('optim_wrapper', 'param_scheduler', 'auto_scale_lr'):
            if key in reference:
                cfg[key] = copy.deepcopy(reference[key])
    if not spec.same_backbone:
        return
    ref_bb = reference.model.backbone
    if cfg.model.get('backbone') != ref_bb:
        notes.append(f'{name}: backbone replaced by the PIRL config\'s')
    cfg.model.backbone = copy.deepcopy(ref_bb)
    width = backbone_out_channels(ref_bb, spec.img_size)
    neck = cfg.model.get('neck')
    if neck is not None and neck.get('in_channels', width) != width:
        if neck.get('hid_channels') == neck['in_channels']:
            neck['hid_channels'] = width  # MoCo v2: hidden = input
        neck['in_channels'] = width
        notes.append(f'{name}: neck.in_channels set to {width}')


def fit_schedule(cfg: Config, epochs: int) -> None:
    """Give ``cfg`` a full schedule of ``epochs`` epochs: the epoch-based
    schedulers that run to the config's last epoch (the cosine decay) end
    at ``epochs`` (``T_max`` = their new length); a warm-up that ends
    earlier, and every iteration-based scheduler, keep their length.

    Args:
        cfg (Config): a training config with ``train_cfg.max_epochs``;
            changed in place.
        epochs (int): the new number of epochs.
    """
    old_end = (cfg.get('train_cfg') or {}).get('max_epochs')
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=epochs)
    for sched in cfg.get('param_scheduler', None) or []:
        if not sched.get('by_epoch', True):
            continue
        if old_end is not None and sched.get('end', old_end) < old_end:
            continue
        if 'end' in sched:
            sched['end'] = epochs
        if 'T_max' in sched:
            sched['T_max'] = epochs - sched.get('begin', 0)


def fit_to_data(cfg: Config, name: str, spec: RunSpec,
                notes: List[str]) -> None:
    """Point ``cfg`` at ``spec``'s training images, batch, epochs, workers
    and initialisation, and keep PIRL's negatives and MoCo's queue within
    the training images."""
    from pirl_plugin.evaluation.untrained import INITS
    fit_schedule(cfg, spec.epochs)
    if spec.init is not None:
        cfg.model.backbone.zero_init_residual = INITS[spec.init]
    loader = cfg.train_dataloader
    loader.batch_size = spec.batch_size
    loader.dataset.data_root = osp.join(spec.data_root, 'train')
    if spec.workers is not None:
        loader.num_workers = spec.workers
        loader.persistent_workers = spec.workers > 0
    n, head = spec.n_train, cfg.model.get('head', {})
    if head.get('num_negatives', 0) >= n:
        notes.append(f'{name}: num_negatives {head["num_negatives"]} -> '
                     f'{n - 1} (must be below the {n} training images)')
        head['num_negatives'] = n - 1
    if 'queue_len' in cfg.model:
        queue, batch = cfg.model.queue_len, spec.batch_size
        fixed = min(queue, max(batch, (n // batch) * batch))
        fixed = max(fixed - fixed % batch, batch)  # a multiple of the batch
        if fixed != queue:
            notes.append(f'{name}: queue_len {queue} -> {fixed} (a multiple '
                         f'of the batch, at most the {n} training images)')
            cfg.model.queue_len = fixed


def add_monitor_and_logging(cfg: Config, spec: RunSpec) -> None:
    """A kNN monitor on the labelled splits every ``spec.knn_interval``
    epochs, the last checkpoint only, a log line every epoch at least."""
    from pirl_plugin.evaluation import folder_dataloaders
    train_loader, val_loader = folder_dataloaders(spec.data_root,
                                                  spec.img_size)
    imports = list(cfg.get('custom_imports', {}).get('imports', []))
    cfg.custom_imports = dict(
        imports=imports +
        ([] if 'pirl_plugin' in imports else ['pirl_plugin']),
        allow_failed_imports=False)
    cfg.custom_hooks = [
        h for h in cfg.get('custom_hooks', []) if h['type'] != 'KNNMonitorHook'
    ] + [
        dict(
            type='KNNMonitorHook',
            interval=spec.knn_interval,
            k=20,
            train_dataloader=train_loader,
            val_dataloader=val_loader)
    ]
    cfg.default_hooks.checkpoint = dict(
        type='CheckpointHook', interval=spec.epochs, max_keep_ckpts=1)
    logger = cfg.default_hooks.get('logger', dict(type='LoggerHook'))
    logger['interval'] = min(
        int(logger.get('interval', 50)), spec.iters_per_epoch)
    cfg.default_hooks.logger = logger


def prepare_config(config: str,
                   name: str,
                   spec: RunSpec,
                   work_dir: str,
                   options: Optional[dict] = None,
                   reference: Optional[Config] = None,
                   notes: Optional[List[str]] = None) -> Tuple[str, Config]:
    """The config one method trains, written to
    ``<work_dir>/run_config.py``.

    Args:
        config (str): the method's config file.
        name (str): the method's name (for ``notes``).
        spec (RunSpec): what all methods share.
        work_dir (str): the method's work dir.
        options (dict, optional): ``--cfg-options``-style overrides,
            applied first.
        reference (Config, optional): the reference (PIRL) run's config,
            copied from as ``spec`` says.
        notes (list, optional): receives what was changed and why.

    Returns:
        tuple: the written path and the config.
    """
    notes = notes if notes is not None else []
    cfg = load_config(config, options)
    if reference is not None:
        copy_reference(cfg, name, reference, spec, notes)
    fit_to_data(cfg, name, spec, notes)
    add_monitor_and_logging(cfg, spec)
    return write_config(cfg, work_dir), cfg


def write_config(cfg: Config, work_dir: str) -> str:
    """Dump ``cfg`` to ``<work_dir>/run_config.py``; an identical existing
    file is kept untouched (so a finished run can be reused)."""
    os.makedirs(work_dir, exist_ok=True)
    path = osp.join(work_dir, 'run_config.py')
    tmp = path + '.new.py'
    cfg.dump(tmp)
    with open(tmp) as f:
        text = f.read()
    os.remove(tmp)
    if osp.exists(path):
        with open(path) as f:
            if f.read() == text:
                return path
    with open(path, 'w') as f:
        f.write(text)
    return path
