"""MMDetection modules; imported by the detection configs that need them
(``custom_imports``), not by ``pirl_plugin`` itself, so that MMDetection
stays optional."""
from .wide_res_layer import WideResLayer

__all__ = ['WideResLayer']
