"""Training throughput of two models trained alternately in one process,
data loading included (``tools/benchmarks/vs_mocov2.py``: PIRL against
MMPretrain's MoCo v2; ``docs/benchmarks.md`` explains the method)."""
import copy
import logging
import math
import os
import os.path as osp
import signal
import time
from typing import Callable, List, Optional

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.runner import Runner
from mmpretrain.registry import MODELS
from torch import nn

from .benchmarking import make_jpegs, pirl_jitter, replace_jitter
from .private_access import dataloader_worker_pids


def mocov2_model_config() -> str:
    """MMPretrain's MoCo v2 config file (installed with its wheel)."""
    import mmpretrain
    path = osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'configs', 'mocov2',
        'mocov2_resnet50_8xb32-coslr-200e_in1k.py')
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'MMPretrain\'s MoCo v2 config not found at {path}; is '
            'mmpretrain 1.2.0 installed from its wheel?')
    return path


def _walk(obj, fn):
    """Apply ``fn`` to every transform dict of a (nested) pipeline."""
    if isinstance(obj, dict):
        obj = {k: _walk(v, fn) for k, v in obj.items()}
        return fn(obj) if 'type' in obj else obj
    if isinstance(obj, list):
        return [_walk(v, fn) for v in obj]
    return obj


def pirl_config(s: dict, model_file: str) -> dict:
    """PIRL model and pipeline at size ``s``.

    Args:
        s (dict): the size: ``depth``, ``num_negatives``, ``bank_size``,
            ``img_size``, ``jigsaw_crop``, ``patch_size`` and ``pirl_data``
            (the dataset config whose ``train_pipeline`` is used).
        model_file (str): the PIRL model config (``model``).

    Returns:
        dict: ``model`` and ``pipeline`` configs.
    """
    model = copy.deepcopy(Config.fromfile(model_file).model.to_dict())
    width = 2048 if s['depth'] >= 50 else 512
    model['backbone']['depth'] = s['depth']
    model['neck']['in_channels'] = width
    model['transform_neck']['in_channels'] = width
    model['head']['num_negatives'] = s['num_negatives']
    model['memory_bank']['num_samples'] = s['bank_size']
    pipeline = Config.fromfile(s['pirl_data']).to_dict()['train_pipeline']

    def size(t):
        if t['type'] == 'PIRLJigsawTransform':
            t.update(
                img_size=s['img_size'],
                jigsaw_crop_size=s['jigsaw_crop'],
                patch_size=s['patch_size'])
        return t

    return dict(model=model, pipeline=_walk(pipeline, size))


def mocov2_config(s: dict) -> dict:
    """MMPretrain's MoCo v2 model and pipeline at size ``s``, its
    ``ColorJitter`` replaced by ``PIRLColorJitter`` with the same
    parameters and probability (mmcv's hue jitter overflows under numpy 2).

    Args:
        s (dict): the size: ``depth``, ``queue_len``, ``moco_size``.

    Returns:
        dict: ``model`` and ``pipeline`` configs.
    """
    cfg = Config.fromfile(mocov2_model_config())
    model = copy.deepcopy(cfg.model.to_dict())
    width = 2048 if s['depth'] >= 50 else 512
    model['backbone']['depth'] = s['depth']
    # the R50 config's neck is 2048 -> 2048 -> 128: hidden = input width
    model['neck']['in_channels'] = width
    model['neck']['hid_channels'] = width
    model['queue_len'] = s['queue_len']
    # MMEngine's Runner puts the top-level data_preprocessor into the model
    model.setdefault('data_preprocessor',
                     copy.deepcopy(cfg.data_preprocessor.to_dict()))
    pipeline = copy.deepcopy(cfg.to_dict()['train_pipeline'])
    # numpy 2: mmcv's adjust_hue overflows -> this project's jitter with
    # MMPretrain's parameters and probability
    pipeline = replace_jitter(pipeline, pirl_jitter)

    def size(t):
        if t['type'] == 'RandomResizedCrop':
            t['scale'] = s['moco_size']
        return t

    return dict(model=model, pipeline=_walk(pipeline, size))


def optim_config(schedule_file: str) -> dict:
    """The ``optim_wrapper`` of a schedule config."""
    return copy.deepcopy(
        Config.fromfile(schedule_file).optim_wrapper.to_dict())


def make_images(s: dict, data_dir: str) -> str:
    """The JPEG folder both loaders read (created unless present).

    Args:
        s (dict): the size: ``images`` (``'imagenet'`` for ImageNet-size
            JPEGs, else the shapes dataset of ``image_px`` pixels) and
            ``num_images``.
        data_dir (str): where the folders are made.

    Returns:
        str: the folder of images.
    """
    if s['images'] == 'imagenet':
        folder = osp.join(data_dir, 'imagenet_size')
        make_jpegs(folder, s['num_images'])
        return folder
    from pirl_plugin.datasets.synthetic import CLASSES, make_shapes_dataset
    per_class = math.ceil(s['num_images'] / len(CLASSES))
    folder = osp.join(data_dir, f'shapes{s["image_px"]}_{per_class}')
    make_shapes_dataset(folder, per_class, 0, s['image_px'], seed=0)
    return osp.join(folder, 'train')


class Trainee:
    """What a runner holds for one model: the model, its optimiser wrapper
    and an iterator over its own data loader."""

    def __init__(self,
                 name: str,
                 model: nn.Module,
                 optim,
                 loader,
                 after_step: Optional[Callable] = None) -> None:
        self.name = name
        self.model = model
        self.optim = optim
        self.loader = loader
        self.it = iter(loader)
        self.after_step = after_step or (lambda: None)
        self.pids = dataloader_worker_pids(self.it)
        self.stopped = False
        self.total: List[float] = []
        self.data_wait: List[float] = []
        self.step: List[float] = []

    def signal_workers(self, stop: bool) -> None:
        """Stop (SIGSTOP) or resume (SIGCONT) the loader's workers."""
        if stop == self.stopped or not self.pids:
            return
        sig = signal.SIGSTOP if stop else signal.SIGCONT
        for pid in self.pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        self.stopped = stop

    def iteration(self, record: bool) -> None:
        """One training iteration: the next batch, ``train_step`` and the
        after-step work; its times are kept when ``record``."""
        t0 = time.perf_counter()
        data = next(self.it)
        t1 = time.perf_counter()
        self.model.train_step(data, self.optim)
        self.after_step()
        t2 = time.perf_counter()
        if record:
            self.total.append(t2 - t0)
            self.data_wait.append(t1 - t0)
            self.step.append(t2 - t1)


def build_trainee(name: str, cfg: dict, optim_cfg: dict, s: dict, folder: str,
                  workers: int, seed: int) -> Trainee:
    """A model built from ``cfg['model']`` with its optimiser and a loader
    of ``folder`` through ``cfg['pipeline']`` (infinite shuffled sampler,
    ``s['batch']`` images, built by MMEngine's ``Runner.build_dataloader``).
    A model with a memory bank commits it after each step, as
    ``BankUpdateHook`` does in training.
    """
    torch.manual_seed(seed)
    # quiet: init_weights logs every parameter, and the optimiser
    # constructor warns once per parameter of MoCo's momentum encoder
    # ("skipped since its requires_grad=False")
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        model = MODELS.build(cfg['model'])
        model.init_weights()
        optim = build_optim_wrapper(model, copy.deepcopy(optim_cfg))
    finally:
        logger.setLevel(level)
    model.train()
    loader = Runner.build_dataloader(
        dict(
            batch_size=s['batch'],
            num_workers=workers,
            persistent_workers=workers > 0,
            pin_memory=False,
            drop_last=True,
            sampler=dict(type='InfiniteSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
            dataset=dict(
                type='CustomDataset',
                data_root=folder,
                with_label=False,
                pipeline=cfg['pipeline'])),
        seed=seed)
    after = None
    if hasattr(model, 'memory_bank'):
        after = model.memory_bank.commit  # BankUpdateHook.after_train_iter
    return Trainee(name, model, optim, loader, after)


def alternate(pirl: Trainee, moco: Trainee, warmup: int, iters: int,
              isolate: bool) -> None:
    """Train the two alternately, the order swapped every round; the last
    ``iters`` rounds are recorded. With ``isolate`` the workers of the
    model not being timed are stopped."""
    for i in range(warmup + iters):
        order = (pirl, moco) if i % 2 == 0 else (moco, pirl)
        for t in order:
            other = moco if t is pirl else pirl
            if isolate:
                other.signal_workers(stop=True)
                t.signal_workers(stop=False)
            t.iteration(record=i >= warmup)
        print(
            f'[vs_mocov2] iteration {i + 1}/{warmup + iters}' +
            ('' if i >= warmup else ' (warm-up)') + ': PIRL '
            f'{pirl.total[-1] if i >= warmup else float("nan"):.3f} s, '
            f'MoCo v2 '
            f'{moco.total[-1] if i >= warmup else float("nan"):.3f} s',
            flush=True)
