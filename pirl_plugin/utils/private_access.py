"""The one place that reads private attributes of MMEngine, MMPretrain and
PyTorch.

Each function reads one attribute that the library does not expose
publicly, falls back to a safe default when a version lacks it, and names
the library version it was written against (MMEngine 0.10.7, MMPretrain
1.2.0, PyTorch 2.x). ``tests/test_private_access.py`` checks each against
the installed libraries, so an upgrade that renames one fails there, not in
a training run.
"""
from typing import Any, List, Tuple


def train_loop_built(runner: Any) -> bool:
    """Whether the runner's training loop has been built.

    ``Runner.train_loop`` (public) builds the loop from its config when
    called, so it cannot answer this without side effects; MMEngine keeps
    the config dict in ``Runner._train_loop`` until then.

    Args:
        runner (Runner): an MMEngine runner.

    Returns:
        bool: True once ``_train_loop`` is a :class:`BaseLoop`.
    """
    from mmengine.runner.base_loop import BaseLoop
    return isinstance(getattr(runner, '_train_loop', None), BaseLoop)


def dataloader_worker_pids(iterator: Any) -> List[int]:
    """Process ids of the workers of a data-loader iterator.

    PyTorch's ``_MultiProcessingDataLoaderIter`` keeps its worker processes
    in ``_workers``; a single-process iterator has none.

    Args:
        iterator: what ``iter(DataLoader)`` returned.

    Returns:
        list[int]: the workers' pids (empty without workers).
    """
    return [w.pid for w in getattr(iterator, '_workers', [])]


def history_buffer_statistics() -> Tuple[str, ...]:
    """Names of the statistics methods MMEngine's ``HistoryBuffer`` pickles
    (``HistoryBuffer._statistics_methods``).

    Returns:
        tuple[str]: method names (``min``, ``max``, ``current``, ...).
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    return tuple(getattr(HistoryBuffer, '_statistics_methods', ()))


def preprocessor_normalizes(preprocessor: Any) -> bool:
    """Whether an MMPretrain data preprocessor normalises its inputs
    (``_enable_normalize``; True when the attribute is absent).

    Args:
        preprocessor: e.g. a ``SelfSupDataPreprocessor``.

    Returns:
        bool
    """
    return bool(getattr(preprocessor, '_enable_normalize', True))


def preprocessor_converts_channels(preprocessor: Any) -> bool:
    """Whether an MMPretrain data preprocessor swaps BGR and RGB
    (``_channel_conversion``; False when absent).

    Args:
        preprocessor: e.g. a ``SelfSupDataPreprocessor``.

    Returns:
        bool
    """
    return bool(getattr(preprocessor, '_channel_conversion', False))


def moco_enqueue(model: Any, keys: Any) -> None:
    """Push keys into an MMPretrain ``MoCo``'s queue
    (``MoCo._dequeue_and_enqueue``), as its ``loss`` does after each step.

    Args:
        model (MoCo): the MoCo model.
        keys (Tensor): normalised key features ``(B, D)``.
    """
    model._dequeue_and_enqueue(keys)
