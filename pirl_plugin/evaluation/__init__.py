"""Evaluation of frozen PIRL backbones: the one feature extractor
(:mod:`.features`), the one kNN (:mod:`.knn`), the linear probe
(:mod:`.linear_probe`), the array-level maths of the VOC07 SVM (:mod:`.svm`)
and of the semi-supervised subsets (:mod:`.subsets`), the invariance
analysis (:mod:`.invariance`) and the registered metrics
(:mod:`.metrics`)."""
from .features import (DEFAULT_POOL_SIZES, LAYER_NAMES, backbone_from_config,
                       build_feature_backbone, check_layers,
                       extract_dataloader_features, pool_feature,
                       preprocessor_from_config, preprocessor_from_model)
from .knn import (extract_features, folder_dataloaders, knn_accuracies,
                  knn_accuracy, knn_evaluate, knn_evaluate_config,
                  weighted_knn_predict)
from .linear_probe import linear_probe_accuracy
from .metrics import *  # noqa: F401,F403
from .metrics import MultiLayerAccuracy
from .subsets import (class_balanced_subset, read_ann_file, scan_image_folder,
                      write_ann_file)
from .svm import (average_precision, format_ap_table, svm_benchmark,
                  train_class_svm, voc07_targets)

__all__ = [
    'DEFAULT_POOL_SIZES', 'LAYER_NAMES', 'MultiLayerAccuracy',
    'average_precision', 'backbone_from_config', 'build_feature_backbone',
    'check_layers', 'class_balanced_subset', 'extract_dataloader_features',
    'extract_features', 'folder_dataloaders', 'format_ap_table',
    'knn_accuracies', 'knn_accuracy', 'knn_evaluate', 'knn_evaluate_config',
    'linear_probe_accuracy', 'pool_feature', 'preprocessor_from_config',
    'preprocessor_from_model', 'read_ann_file', 'scan_image_folder',
    'svm_benchmark', 'train_class_svm', 'voc07_targets',
    'weighted_knn_predict', 'write_ann_file'
]
