"""Top-k accuracy of each layer of a per-layer linear probe."""
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.registry import METRICS


@METRICS.register_module()
class MultiLayerAccuracy(BaseMetric):
    """Top-k accuracy (%) of every layer of :class:`MultiLayerLinearClsHead`.

    Reads the ``layer_scores`` the head puts in each prediction and reports
    ``<prefix>/<layer>`` for every layer, the prefix being ``layer_top<k>``
    by default (``layer_top1/conv1`` ... ``layer_top1/res5``), plus
    ``<prefix>/best`` (the best layer's accuracy).

    Args:
        topk (int): k of the top-k accuracy. Defaults to 1.
        layer_names (sequence[str], optional): the layers to report, in this
            order; defaults to every layer found in the predictions.
        collect_device (str): 'cpu' or 'gpu', for collecting results across
            ranks. Defaults to 'cpu'.
        prefix (str, optional): defaults to ``layer_top<topk>``.
    """

    def __init__(self,
                 topk: int = 1,
                 layer_names: Optional[Sequence[str]] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        if int(topk) < 1:
            raise ValueError(f'topk must be >= 1, got {topk}')
        self.topk = int(topk)
        self.layer_names = list(layer_names) if layer_names else None
        super().__init__(
            collect_device=collect_device,
            prefix=prefix or f'layer_top{self.topk}')

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep, per sample, whether each layer's top-k contains the label."""
        for sample in data_samples:
            scores = sample.get('layer_scores', None)
            if scores is None:
                raise KeyError(
                    'MultiLayerAccuracy needs predictions with layer_scores, '
                    'made by MultiLayerLinearClsHead; use Accuracy for other '
                    'heads')
            label = int(sample['gt_label'].reshape(-1)[0])
            hits = {}
            for name, score in scores.items():
                k = min(self.topk, score.numel())
                hits[name] = bool((score.topk(k).indices == label).any())
            self.results.append(hits)

    def compute_metrics(self, results: List[Dict[str, bool]]) -> dict:
        """Accuracy (%) per layer and of the best layer."""
        names = self.layer_names or list(results[0].keys())
        metrics = OrderedDict()
        for name in names:
            if name not in results[0]:
                raise KeyError(f'layer {name!r} is not in the predictions '
                               f'(layers: {list(results[0])})')
            hit = torch.tensor([r[name] for r in results], dtype=torch.float)
            metrics[name] = float(hit.mean() * 100)
        metrics['best'] = max(metrics.values())
        return metrics
