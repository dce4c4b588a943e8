from .multi_layer_accuracy import MultiLayerAccuracy

__all__ = ['MultiLayerAccuracy']
