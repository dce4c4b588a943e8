"""Count the undecodable images that the data loaders skipped."""
import glob
import os
import os.path as osp
from collections import Counter
from typing import Dict, Iterator, List, Tuple

from mmengine import dist
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from ...datasets.transforms.loading import RobustLoadImageFromFile


def iter_pipeline_transforms(dataset) -> Iterator[object]:
    """Every transform of a dataset's pipeline, through dataset wrappers
    (``RepeatDataset``, ``ConcatDataset``, ``ClassBalancedDataset``, ...)."""
    seen = set()
    stack = [dataset]
    while stack:
        ds = stack.pop()
        if id(ds) in seen:
            continue
        seen.add(id(ds))
        pipeline = getattr(ds, 'pipeline', None)
        for t in getattr(pipeline, 'transforms', None) or []:
            yield t
            # RandomChoice / RandomApply style containers
            for inner in getattr(t, 'transforms', None) or []:
                yield inner
        if getattr(ds, 'dataset', None) is not None:
            stack.append(ds.dataset)
        stack.extend(getattr(ds, 'datasets', None) or [])


def read_skip_lists(folder: str, prefix: str) -> List[Tuple[str, str]]:
    """The ``(path, reason)`` entries written by the processes whose list
    files start with ``prefix`` (one rank and its data-loader workers)."""
    entries = []
    for name in sorted(glob.glob(osp.join(folder, f'{prefix}-*.tsv'))):
        with open(name) as f:
            for line in f:
                path, _, reason = line.rstrip('\n').partition('\t')
                if path:
                    entries.append((path, reason))
    return entries


@HOOKS.register_module()
class SkippedImagesHook(Hook):
    """Collect and report the files that ``RobustLoadImageFromFile(
    skip_bad_images=True)`` skipped.

    The loaders run in data-loader worker processes, so a counter in the
    loader object would stay in the workers. In ``before_run`` the hook
    points every :class:`RobustLoadImageFromFile` of the training pipeline
    at ``<log_dir>/skipped_images/``; each process (main or worker, of any
    rank) appends the files it skips to its own list there. After every
    training epoch the hook counts the entries of all ranks and logs
    ``SkippedImagesHook: ... undecodable images skipped so far``; after the
    run it logs the final summary and writes ``skipped_images.txt`` (one
    line per file: times skipped, path, reason) into the log folder. With
    no skipping loader in the pipeline the hook does nothing.
    """

    priority = 'LOW'

    def __init__(self) -> None:
        self.folder = None
        self.enabled = False

    def before_run(self, runner) -> None:
        try:
            dataset = runner.train_dataloader.dataset
        except Exception:  # noqa: BLE001  no training dataloader
            return
        loaders = [
            t for t in iter_pipeline_transforms(dataset)
            if isinstance(t, RobustLoadImageFromFile)
        ]
        if not loaders:
            return
        self.enabled = any(t.skip_bad_images for t in loaders)
        self.folder = osp.join(runner.log_dir, 'skipped_images')
        os.makedirs(self.folder, exist_ok=True)
        for t in loaders:
            t.skip_log_dir = self.folder
            t.skip_log_prefix = f'rank{dist.get_rank()}'

    def _collect(self) -> Dict[str, Tuple[int, str]]:
        """``{path: (times skipped, reason)}`` over all ranks (collective)."""
        local = read_skip_lists(self.folder, f'rank{dist.get_rank()}')
        if dist.get_world_size() > 1:
            parts = dist.all_gather_object(local)
            local = [e for part in parts for e in part]
        counts = Counter(path for path, _ in local)
        reasons = dict(local)
        return {p: (n, reasons[p]) for p, n in counts.items()}

    @staticmethod
    def _summary(skipped: Dict[str, Tuple[int, str]]) -> str:
        times = sum(n for n, _ in skipped.values())
        return (f'{len(skipped)} undecodable image(s) skipped '
                f'({times} time(s) in total)')

    def after_train_epoch(self, runner) -> None:
        if not self.enabled:
            return
        skipped = self._collect()
        msg = f'SkippedImagesHook: {self._summary(skipped)} so far'
        if skipped:
            msg += f', listed in {self.folder}'
        runner.logger.info(msg)

    def after_run(self, runner) -> None:
        if not self.enabled:
            return
        skipped = self._collect()
        report = osp.join(runner.log_dir, 'skipped_images.txt')
        if dist.get_rank() == 0:
            with open(report, 'w') as f:
                for path, (n, reason) in sorted(skipped.items()):
                    f.write(f'{n}\t{path}\t{reason}\n')
        msg = (f'SkippedImagesHook: summary: {self._summary(skipped)} during '
               f'training; list: {report}')
        if skipped:
            msg += ('. Replace or delete these files (the run used other '
                    'images in their place).')
            runner.logger.warning(msg)
        else:
            runner.logger.info(msg)
