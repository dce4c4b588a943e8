"""Runtime fixes for the OpenMMLab stack on a current PyTorch.

They are applied once, when :mod:`pirl_plugin` is imported.
"""
import os
import os.path as osp
import pickle
from typing import Any, List, Optional

import torch

_APPLIED = False
_DEFAULT_STATISTICS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """A ``getattr`` restricted to HistoryBuffer's statistics methods.

    ``HistoryBuffer.__getstate__`` pickles its statistics methods, which
    pickle protocol 2 writes as ``getattr(HistoryBuffer, 'min')`` and so on.
    Allowlisting the builtin ``getattr`` would let a checkpoint walk from any
    allowed object to arbitrary globals; this stand-in is registered under
    the name ``getattr`` instead and resolves only those methods.
    """
    from mmengine.logging.history_buffer import HistoryBuffer
    allowed = set(_DEFAULT_STATISTICS) | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({obj!r}, {name!r}) while loading a checkpoint: '
        'only the statistics methods of mmengine HistoryBuffer are allowed')


def mmengine_checkpoint_safe_globals() -> List[type]:
    """The classes an MMEngine checkpoint pickles besides tensors and dicts.

    mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; since torch
    2.6 that defaults to ``True`` and the restricted unpickler refuses the
    message hub's :class:`HistoryBuffer` and the numpy arrays and scalars it
    holds (``--resume`` and ``load_from`` then fail with ``Unsupported global:
    mmengine.logging.history_buffer.HistoryBuffer``). We allowlist exactly
    these classes instead of switching ``weights_only`` off, so loading a
    checkpoint still never runs arbitrary pickled code.

    Returns:
        list: classes and functions to pass to
        :func:`torch.serialization.add_safe_globals`.
    """
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    try:  # numpy >= 2
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    safe = [HistoryBuffer, _reconstruct, scalar, np.ndarray, np.dtype,
            (_history_buffer_getattr, 'builtins.getattr'),
            (_history_buffer_getattr, '__builtin__.getattr')]
    # The concrete dtype classes (np.dtypes.Float64DType, ...) a pickled
    # numpy array or scalar refers to.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        safe += [
            getattr(dtypes, name) for name in dir(dtypes)
            if name.endswith('DType') and isinstance(getattr(dtypes, name), type)
        ]
    return safe


def atomic_save_checkpoint(checkpoint: dict, filename: str,
                           file_client_args: Optional[dict] = None,
                           backend_args: Optional[dict] = None) -> None:
    """MMEngine's ``save_checkpoint``, writing local files atomically.

    MMEngine 0.10.7 opens the destination with ``'wb'`` and writes into it,
    so a job killed while a checkpoint is written (SIGTERM/SIGKILL from a
    scheduler, a full disk) leaves a truncated ``epoch_N.pth`` under the
    final name. Here a local checkpoint is written to
    ``<filename>.tmp-<pid>``, flushed to disk and renamed over the final
    name (``os.replace`` is atomic on POSIX), so a checkpoint file is either
    complete or absent. Remote paths (``s3://`` ...) and custom backends go
    through MMEngine's own writer.
    """
    if (file_client_args is not None or backend_args is not None
            or '://' in str(filename)):
        return _ORIGINAL_SAVE_CHECKPOINT(checkpoint, filename,
                                         file_client_args=file_client_args,
                                         backend_args=backend_args)
    filename = str(filename)
    folder = osp.dirname(osp.abspath(filename))
    os.makedirs(folder, exist_ok=True)
    tmp = f'{filename}.tmp-{os.getpid()}'
    try:
        with open(tmp, 'wb') as f:
            torch.save(checkpoint, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:  # noqa: B036  incl. KeyboardInterrupt/SystemExit
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    try:  # make the rename itself durable
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:
        pass


_ORIGINAL_SAVE_CHECKPOINT = None


def _patch_atomic_checkpoints() -> None:
    global _ORIGINAL_SAVE_CHECKPOINT
    from mmengine.runner import checkpoint as mm_ckpt
    from mmengine.runner import runner as mm_runner
    if _ORIGINAL_SAVE_CHECKPOINT is None:
        _ORIGINAL_SAVE_CHECKPOINT = mm_ckpt.save_checkpoint
    # Runner.save_checkpoint calls the name imported into runner.py.
    mm_runner.save_checkpoint = atomic_save_checkpoint


def apply_runtime_fixes() -> None:
    """Apply every runtime fix once (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:  # torch >= 2.4
        add_safe_globals(mmengine_checkpoint_safe_globals())
    _patch_atomic_checkpoints()
    _APPLIED = True
