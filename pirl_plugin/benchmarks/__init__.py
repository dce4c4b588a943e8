"""Deprecated: ``import pirl_plugin`` registers every component.

Kept only so that saved configs listing
``custom_imports=dict(imports=['pirl_plugin.benchmarks'])`` still load;
importing it warns (``FutureWarning``). The components live in the folder
of their registry: ``ResNetWithStem`` in :mod:`pirl_plugin.models.
backbones`, ``MultiLayerLinearClsHead`` in :mod:`pirl_plugin.models.heads`,
``MultiLayerAccuracy`` in :mod:`pirl_plugin.evaluation.metrics`,
``KNNMonitorHook`` in :mod:`pirl_plugin.engine.hooks`, the feature
extraction, kNN, SVM and subsets in :mod:`pirl_plugin.evaluation`.
"""
import warnings

import pirl_plugin  # noqa: F401  registers the components

warnings.warn(
    'pirl_plugin.benchmarks is deprecated: `import pirl_plugin` (or '
    "custom_imports=dict(imports=['pirl_plugin'])) registers every "
    'component; import them from pirl_plugin.evaluation, '
    'pirl_plugin.models and pirl_plugin.engine',
    FutureWarning,
    stacklevel=2)


def __getattr__(name: str):
    """The names this module used to re-export, from where they live."""
    from pirl_plugin import evaluation
    from pirl_plugin.engine import hooks
    from pirl_plugin.models import backbones, heads
    for module in (evaluation, hooks, backbones, heads):
        if name in getattr(module, '__all__', ()):
            return getattr(module, name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
