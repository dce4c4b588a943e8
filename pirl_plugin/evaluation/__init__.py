"""Evaluation of frozen PIRL backbones: the one feature extractor
(:mod:`.features`) and the frozen backbone it runs (:mod:`.frozen_backbone`),
the one kNN (:mod:`.knn`) and its run from configs (:mod:`.knn_config`), the
linear probe (:mod:`.linear_probe`), the probes of a labelled folder
(:mod:`.probe`) and the untrained baseline they are compared with
(:mod:`.untrained`), budget curves (:mod:`.budget_curves`), the array-level
maths of the VOC07 SVM (:mod:`.svm`) and of the semi-supervised subsets
(:mod:`.subsets`), the invariance analysis (:mod:`.invariance`) and the
registered metrics (:mod:`.metrics`)."""
from .budget_curves import crossing_point, crossing_points
from .features import (DEFAULT_POOL_SIZES, LAYER_NAMES, check_layers,
                       extract_dataloader_features, pool_feature)
from .frozen_backbone import (backbone_from_config, build_feature_backbone,
                              preprocessor_from_config,
                              preprocessor_from_model)
from .knn import (extract_features, knn_accuracies, knn_accuracy, knn_evaluate,
                  weighted_knn_predict)
from .knn_config import folder_dataloaders, knn_evaluate_config
from .linear_probe import linear_probe_accuracy
from .metrics import *  # noqa: F401,F403
from .metrics import MultiLayerAccuracy
from .probe import FolderProber, mean_pairwise_cosine, view_size
from .subsets import (class_balanced_subset, read_ann_file, scan_image_folder,
                      write_ann_file)
from .svm import (average_precision, format_ap_table, svm_benchmark,
                  train_class_svm, voc07_targets)
from .untrained import INITS, backbone_init, untrained_inits, with_init

__all__ = [
    'DEFAULT_POOL_SIZES', 'FolderProber', 'INITS', 'LAYER_NAMES',
    'MultiLayerAccuracy', 'average_precision', 'backbone_from_config',
    'backbone_init', 'build_feature_backbone', 'check_layers',
    'class_balanced_subset', 'crossing_point', 'crossing_points',
    'extract_dataloader_features', 'extract_features', 'folder_dataloaders',
    'format_ap_table', 'knn_accuracies', 'knn_accuracy', 'knn_evaluate',
    'knn_evaluate_config', 'linear_probe_accuracy', 'mean_pairwise_cosine',
    'pool_feature', 'preprocessor_from_config', 'preprocessor_from_model',
    'read_ann_file', 'scan_image_folder', 'svm_benchmark', 'train_class_svm',
    'untrained_inits', 'view_size', 'voc07_targets', 'weighted_knn_predict',
    'with_init', 'write_ann_file'
]
