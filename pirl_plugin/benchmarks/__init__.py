"""Kept for configs and saved run configs that list
``custom_imports=dict(imports=['pirl_plugin.benchmarks'])``.

``import pirl_plugin`` registers everything; the components live in the
folder of their registry: ``ResNetWithStem`` in
:mod:`pirl_plugin.models.backbones`, ``MultiLayerLinearClsHead`` in
:mod:`pirl_plugin.models.heads`, ``MultiLayerAccuracy`` in
:mod:`pirl_plugin.evaluation.metrics`, ``KNNMonitorHook`` in
:mod:`pirl_plugin.engine.hooks`, and the feature extraction, kNN, SVM and
subsets in :mod:`pirl_plugin.evaluation`.
"""
from pirl_plugin.engine.hooks import KNNMonitorHook
from pirl_plugin.evaluation import *  # noqa: F401,F403
from pirl_plugin.evaluation import __all__ as _evaluation_all
from pirl_plugin.models.backbones import ResNetWithStem
from pirl_plugin.models.heads import MultiLayerLinearClsHead

__all__ = list(_evaluation_all) + [
    'KNNMonitorHook', 'MultiLayerLinearClsHead', 'ResNetWithStem'
]
