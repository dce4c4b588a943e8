"""Helpers shared by the speed benchmarks of ``tools/benchmarks/``: a PIRL
model and its optimiser for timing, synthetic inputs, one training step,
a synchronised timer, ImageNet-size JPEGs and a jitter rewrite for
MMPretrain's MoCo v2 pipeline."""
import copy
import glob
import os
import os.path as osp
import time
from typing import Callable, List, Tuple

import numpy as np
import torch


def build_pirl(config: str,
               depth: int,
               bank_size: int,
               num_neg: int,
               loss_type: str,
               shared: bool,
               device: str,
               amp: bool = False,
               channels_last: bool = False):
    """The PIRL of ``config`` at ``depth`` with a bank of ``bank_size``, on
    ``device``, and its optimiser wrapper (``AmpOptimWrapper`` with ``amp``,
    as ``tools/train.py --amp`` builds it).

    Args:
        config (str): a PIRL config, e.g.
            ``configs/pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py``.
        depth (int): ResNet depth.
        bank_size (int): memory bank entries.
        num_neg (int): negatives per sample.
        loss_type (str): ``model.head.loss_type``.
        shared (bool): ``model.head.shared_negatives``.
        device (str): where to put the model.
        amp (bool): mixed precision. Defaults to False.
        channels_last (bool): channels-last memory format. Defaults to False.

    Returns:
        tuple: the model (train mode) and its optimiser wrapper.
    """
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(config)
    m = copy.deepcopy(cfg.model)
    m.channels_last = channels_last
    m.backbone.depth = depth
    width = 2048 if depth >= 50 else 512
    m.neck.in_channels = width
    m.transform_neck.in_channels = width
    m.memory_bank.num_samples = bank_size
    m.head.num_negatives = num_neg
    m.head.loss_type = loss_type
    m.head.shared_negatives = shared
    model = MODELS.build(m).to(device)
    model.train()
    optim_cfg = copy.deepcopy(cfg.optim_wrapper)
    if amp:
        optim_cfg.type = 'AmpOptimWrapper'
    optim = build_optim_wrapper(model, optim_cfg)
    return model, optim


def pirl_step_settings(args, shared: bool) -> dict:
    """The settings of a timed PIRL step, as the benchmark tools report
    them.

    Args:
        args (Namespace): ``depth``, ``batch``, ``num_negatives``,
            ``bank_size`` and ``loss_type`` of a benchmark's command line.
        shared (bool): one draw of negatives per batch.

    Returns:
        dict: the settings, keyed as in the tools' JSON results.
    """
    return dict(
        depth=args.depth,
        batch=args.batch,
        num_negatives=args.num_negatives,
        bank_size=args.bank_size,
        loss_type=args.loss_type,
        shared_negatives=shared)


def make_inputs(batch: int,
                img: int,
                patch: int,
                bank_size: int,
                device: str,
                seed: int = 0) -> Tuple[list, list]:
    """Random image views and nine jigsaw patches per image, with data
    samples of distinct bank indices.

    Returns:
        tuple: the ten input tensors and the data samples.
    """
    from mmpretrain.structures import DataSample
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randn(batch, 3, img, img, generator=g).to(device)]
    inputs += [
        torch.randn(batch, 3, patch, patch, generator=g).to(device)
        for _ in range(9)
    ]
    idx = torch.randperm(bank_size, generator=g)[:batch].tolist()
    samples = [DataSample(metainfo=dict(sample_idx=i)) for i in idx]
    return inputs, samples


def pirl_step(model, optim, inputs: list, samples: list) -> None:
    """One PIRL training step on in-memory inputs, bank commit included."""
    with optim.optim_context(model):
        losses = model.loss(inputs, samples)
    loss, _ = model.parse_losses(losses)
    optim.update_params(loss)
    model.memory_bank.commit()  # what BankUpdateHook does after the step


def backbone_step(model, inputs: list) -> None:
    """Forward and backward of the backbone alone on the same inputs (the
    baseline of a PIRL step), with a trivial loss."""
    views = torch.stack(list(inputs[1:]), dim=1).flatten(0, 1)
    loss = sum(
        model.backbone(x)[-1].mean(dim=(2, 3)).sum()
        for x in (inputs[0], views))
    loss.backward()
    model.zero_grad(set_to_none=True)


def timed(fn: Callable[[], object], sync: Callable[[], object]) -> float:
    """Seconds ``fn()`` takes, between two calls of ``sync`` (e.g.
    ``torch.cuda.synchronize``)."""
    sync()
    t = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - t


def make_jpegs(folder: str, num: int, seed: int = 0) -> List[str]:
    """``num`` JPEGs of ImageNet-like sizes (shorter side 333-500, quality
    90, smooth random content) in ``folder``, reusing those present.

    Returns:
        list[str]: the files, sorted.
    """
    import cv2
    os.makedirs(folder, exist_ok=True)
    files = sorted(glob.glob(osp.join(folder, '*.JPEG')))
    if len(files) >= num:
        return files[:num]
    rng = np.random.default_rng(seed)
    for i in range(len(files), num):
        short = int(rng.integers(333, 501))
        long_ = int(short * rng.uniform(1.0, 1.5))
        h, w = (short, long_) if rng.random() < 0.7 else (long_, short)
        # smooth colour fields + noise: JPEG sizes like natural photos
        low = rng.integers(
            0, 256, (h // 32 + 2, w // 32 + 2, 3), dtype=np.uint8)
        img = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
        img = np.clip(img + rng.normal(0, 12, img.shape), 0,
                      255).astype(np.uint8)
        cv2.imwrite(
            osp.join(folder, f'img_{i:05d}.JPEG'), img,
            [cv2.IMWRITE_JPEG_QUALITY, 90])
    return sorted(glob.glob(osp.join(folder, '*.JPEG')))[:num]


def pirl_jitter(jitter: dict, prob: float) -> dict:
    """``PIRLColorJitter`` with the parameters of an MMPretrain
    ``ColorJitter`` config applied with probability ``prob`` (its grey
    scale stays a separate transform). For :func:`replace_jitter`."""
    return dict(
        type='PIRLColorJitter',
        brightness=jitter['brightness'],
        contrast=jitter['contrast'],
        saturation=jitter['saturation'],
        hue=jitter['hue'],
        prob=prob,
        gray_prob=0.0)


def replace_jitter(pipeline: list, fn: Callable[[dict, float], dict]) -> list:
    """A copy of ``pipeline`` in which every ``RandomApply`` holding a
    ``ColorJitter`` is replaced by ``fn(jitter_cfg, prob)``."""
    pipeline = copy.deepcopy(pipeline)

    def walk(obj):
        if isinstance(obj, dict):
            if obj.get('type') == 'RandomApply' and any(
                    t.get('type') == 'ColorJitter' for t in obj['transforms']):
                jit = [
                    t for t in obj['transforms']
                    if t.get('type') == 'ColorJitter'
                ][0]
                return fn(jit, obj['prob'])
            return {k: walk(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    return walk(pipeline)
