"""Runtime fixes for the OpenMMLab stack on a current PyTorch.

They are applied once, when :mod:`pirl_plugin` is imported. Only what no
MMEngine extension point covers is here (see :func:`apply_runtime_fixes`);
the plugin's other run-time behaviour lives in registered components:
atomic checkpoint writes in the ``'atomic_local'`` file backend
(:mod:`pirl_plugin.utils.atomic_file_backend`) that
:class:`pirl_plugin.engine.PIRLRunner` selects, the run checks and the
orderly stop in the runner and the hooks of :mod:`pirl_plugin.engine`.
"""
import pickle
from typing import Any, List

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

    from .private_access import history_buffer_statistics
    allowed = set(_DEFAULT_STATISTICS) | set(history_buffer_statistics())
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
    safe = [
        HistoryBuffer, _reconstruct, scalar, np.ndarray, np.dtype,
        (_history_buffer_getattr, 'builtins.getattr'),
        (_history_buffer_getattr, '__builtin__.getattr')
    ]
    # The concrete dtype classes (np.dtypes.Float64DType, ...) a pickled
    # numpy array or scalar refers to.
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        safe += [
            getattr(dtypes, name) for name in dir(dtypes) if
            name.endswith('DType') and isinstance(getattr(dtypes, name), type)
        ]
    return safe


def apply_runtime_fixes() -> None:
    """Apply every runtime fix once (idempotent).

    The one fix: allowlist the classes of MMEngine checkpoints for
    ``torch.load(weights_only=True)`` (see
    :func:`mmengine_checkpoint_safe_globals`). No MMEngine extension point
    covers it: ``mmengine.runner.checkpoint`` calls ``torch.load`` itself,
    with no ``weights_only`` or allowlist argument reaching it from the
    runner, a hook or the config (``load_from``, ``--resume``,
    ``init_cfg=dict(type='Pretrained')`` all go through it), and replacing
    the registered local loader of ``CheckpointLoader`` would be a global
    override as well. PyTorch's own extension point for this,
    ``torch.serialization.add_safe_globals``, is process-wide, so it is
    applied on import rather than by a component that only some entry
    points build.
    """
    global _APPLIED
    if _APPLIED:
        return
    add_safe_globals = getattr(torch.serialization, 'add_safe_globals', None)
    if add_safe_globals is not None:  # torch >= 2.4
        add_safe_globals(mmengine_checkpoint_safe_globals())
    _APPLIED = True
