from .knn import extract_features, knn_accuracy, weighted_knn_predict

__all__ = ['extract_features', 'knn_accuracy', 'weighted_knn_predict']
