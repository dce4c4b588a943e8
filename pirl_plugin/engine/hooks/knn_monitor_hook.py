"""Monitor representation quality during pre-training with a kNN probe."""
import copy
import json
import os.path as osp
from typing import Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS, MODELS
from mmpretrain.utils import get_ori_model

from pirl_plugin.evaluation import knn_evaluate, preprocessor_from_model
from ...utils.config_errors import ConfigValueError


@HOOKS.register_module()
class KNNMonitorHook(Hook):
    """Log the weighted kNN top-1 of the backbone every ``interval`` epochs.

    The backbone's last output is global-average-pooled and L2-normalised
    for every image of a labelled ``train_dataloader`` (the kNN memory) and
    ``val_dataloader`` (the queries); each query is classified by the NPID
    weighted vote of its ``k`` nearest memory features
    (:func:`pirl_plugin.evaluation.knn_evaluate`, the computation of
    ``tools/knn_eval.py`` and of the demo's final result). The accuracy is
    logged as ``knn_top1`` (``runner.message_hub`` scalar
    ``train/knn_top1``, so it also appears in the training log lines and the
    visualizer backends that follow, plus one logger line when computed).
    Rank 0 also appends one JSON line per evaluation (``epoch``, ``iter``
    and the accuracies) to ``knn_monitor.json`` in the run's log folder, the
    curve a plot reads.

    Distributed training: every rank extracts the features of its shard
    (the dataloaders should use ``DefaultSampler``), the shards are
    all-gathered, and every rank computes the same accuracy. The backbone
    runs outside the DDP wrapper, in eval mode and without gradients, so no
    collective other than the gather is involved. All ranks must run the
    hook with the same settings.

    Without both dataloaders the hook does nothing (it says so once).

    Args:
        train_dataloader (dict, optional): dataloader config of the labelled
            memory set, with a deterministic test pipeline (e.g.
            ``ResizeEdge`` + ``CenterCrop`` + ``PackInputs``). A missing
            ``sampler`` defaults to ``DefaultSampler(shuffle=False)``.
        val_dataloader (dict, optional): dataloader config of the queries.
        interval (int): run every ``interval`` epochs (or iterations when
            ``by_epoch=False``), and after the last epoch. Defaults to 1.
        by_epoch (bool): count ``interval`` in epochs. Defaults to True.
        k (int | sequence[int]): neighbours; the first value is logged as
            ``knn_top1``, others as ``knn_top1_k<k>``. Defaults to 20.
        temperature (float): vote temperature. Defaults to 0.07.
        data_preprocessor (dict, optional): single-view preprocessor config;
            defaults to a ``ClsDataPreprocessor`` with the normalisation of
            the model's data preprocessor.
    """

    priority = 'LOW'

    def __init__(self,
                 train_dataloader: Optional[dict] = None,
                 val_dataloader: Optional[dict] = None,
                 interval: int = 1,
                 by_epoch: bool = True,
                 k: Sequence[int] = 20,
                 temperature: float = 0.07,
                 data_preprocessor: Optional[dict] = None) -> None:
        if int(interval) < 1:
            raise ConfigValueError(
                f'KNNMonitorHook interval must be >= 1, got {interval}',
                'interval')
        ks = [k] if isinstance(k, int) else list(k)
        if not ks or any(int(v) < 1 for v in ks):
            raise ConfigValueError(f'KNNMonitorHook k must be >= 1, got {k}',
                                   'k')
        if temperature <= 0:
            raise ConfigValueError(
                f'KNNMonitorHook temperature must be > 0, got {temperature}',
                'temperature')
        self.train_dataloader_cfg = train_dataloader
        self.val_dataloader_cfg = val_dataloader
        self.interval = int(interval)
        self.by_epoch = by_epoch
        self.ks = [int(v) for v in ks]
        self.temperature = temperature
        self.data_preprocessor_cfg = data_preprocessor
        self.enabled = train_dataloader is not None and \
            val_dataloader is not None
        self._loaders = None
        self._preprocessor = None

    def before_train(self, runner) -> None:
        if not self.enabled:
            runner.logger.info(
                'KNNMonitorHook: no train_dataloader/val_dataloader '
                'configured, so the kNN monitor is off')

    def after_train_epoch(self, runner) -> None:
        if self.enabled and self.by_epoch and (self.every_n_epochs(
                runner, self.interval) or self.is_last_train_epoch(runner)):
            self.evaluate(runner)

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if self.enabled and not self.by_epoch and self.every_n_train_iters(
                runner, self.interval):
            self.evaluate(runner)

    def _build(self, runner, model) -> None:
        loaders = []
        for cfg in (self.train_dataloader_cfg, self.val_dataloader_cfg):
            cfg = copy.deepcopy(dict(cfg))
            cfg.setdefault('sampler',
                           dict(type='DefaultSampler', shuffle=False))
            loaders.append(runner.build_dataloader(cfg, seed=runner.seed))
        self._loaders = loaders
        if self.data_preprocessor_cfg is not None:
            self._preprocessor = MODELS.build(self.data_preprocessor_cfg)
        else:
            self._preprocessor = preprocessor_from_model(model)

    def evaluate(self, runner) -> dict:
        """Extract the features and log the kNN accuracy.

        Returns:
            dict: ``{k: top-1 %}``.
        """
        model = get_ori_model(runner.model)
        backbone = getattr(model, 'backbone', None)
        if backbone is None:
            raise TypeError(
                'KNNMonitorHook needs a model with a `backbone`, but the '
                f'model is {type(model).__name__}; remove KNNMonitorHook '
                'from custom_hooks')
        if self._loaders is None:
            self._build(runner, model)
        res = knn_evaluate(
            backbone,
            self._preprocessor,
            *self._loaders,
            ks=self.ks,
            temperature=self.temperature,
            gather=True)
        train, val, accs = res['train'], res['val'], res['accs']
        row = dict(
            epoch=runner.epoch + 1 if self.by_epoch else runner.epoch,
            iter=runner.iter + 1)
        for i, (k, acc) in enumerate(accs.items()):
            key = 'knn_top1' if i == 0 else f'knn_top1_k{k}'
            runner.message_hub.update_scalar(f'train/{key}', acc)
            row[key] = float(acc)
        if is_main_process():
            with open(osp.join(runner.log_dir, 'knn_monitor.json'), 'a') as f:
                f.write(json.dumps(row) + '\n')
        when = (f'epoch {runner.epoch + 1}'
                if self.by_epoch else f'iter {runner.iter + 1}')
        runner.logger.info(
            f'KNNMonitorHook ({when}): knn_top1: {accs[self.ks[0]]:.2f} '
            f'(k={self.ks[0]}, {len(train["sample_idx"])} train / '
            f'{len(val["sample_idx"])} val images)' +
            ''.join(f', k={k}: {a:.2f}' for k, a in list(accs.items())[1:]))
        return accs
