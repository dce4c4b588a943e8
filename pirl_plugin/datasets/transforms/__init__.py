from .photometric import PIRLColorJitter, color_jitter_batch
from .pirl_transforms import PIRLJigsawTransform

__all__ = ['PIRLColorJitter', 'PIRLJigsawTransform', 'color_jitter_batch']
