"""PIRL (Pretext-Invariant Representation Learning) for MMPretrain.

Importing this package registers every component in MMPretrain's registries
and applies the runtime fixes the OpenMMLab stack needs on a current PyTorch
(see :mod:`pirl_plugin.utils.compat`).
"""
from .utils.compat import apply_runtime_fixes

apply_runtime_fixes()

from . import datasets, engine, evaluation, models  # noqa: E402,F401
from .version import __version__  # noqa: E402

__all__ = ["__version__", "datasets", "engine", "evaluation", "models"]
