"""Classification benchmarks of frozen (or fine-tuned) PIRL backbones.

Registers :class:`ResNetWithStem` and :class:`MultiLayerLinearClsHead`
(MODELS), :class:`MultiLayerAccuracy` (METRICS) and :class:`KNNMonitorHook`
(HOOKS) in MMPretrain's registries, and holds the array-level maths of the
VOC07 SVM benchmark (:mod:`.svm`), the semi-supervised label subsets
(:mod:`.subsets`) and the frozen-feature extraction (:mod:`.features`).
"""
from .features import (DEFAULT_POOL_SIZES, LAYER_NAMES,
                       backbone_from_config, build_feature_backbone,
                       extract_dataloader_features, load_backbone_checkpoint,
                       pool_feature, preprocessor_from_config,
                       preprocessor_from_model)
from .knn import knn_accuracies
from .knn_monitor_hook import KNNMonitorHook
from .metrics import MultiLayerAccuracy
from .multi_layer_head import MultiLayerLinearClsHead
from .resnet_with_stem import ResNetWithStem
from .subsets import (class_balanced_subset, read_ann_file,
                      scan_image_folder, write_ann_file)
from .svm import (average_precision, format_ap_table, svm_benchmark,
                  train_class_svm, voc07_targets)

__all__ = [
    'DEFAULT_POOL_SIZES', 'LAYER_NAMES', 'KNNMonitorHook',
    'MultiLayerAccuracy', 'MultiLayerLinearClsHead', 'ResNetWithStem',
    'average_precision', 'backbone_from_config', 'build_feature_backbone',
    'class_balanced_subset', 'extract_dataloader_features',
    'format_ap_table', 'knn_accuracies', 'load_backbone_checkpoint',
    'pool_feature', 'preprocessor_from_config', 'preprocessor_from_model',
    'read_ann_file', 'scan_image_folder', 'svm_benchmark', 'train_class_svm',
    'voc07_targets', 'write_ann_file'
]
