from .multi_layer_head import MultiLayerLinearClsHead
from .multi_nce_head import MultiNCEHead
from .nce_head import NCEHead

__all__ = ['NCEHead', 'MultiNCEHead', 'MultiLayerLinearClsHead']
