from .loading import ImageDecodeError, RobustLoadImageFromFile, decode_image
from .photometric import PIRLColorJitter, color_jitter_batch
from .pirl_transforms import PIRLJigsawTransform
from .pretext_transforms import JigsawPretextTransform
from .rotation import (PIRLJigsawRotationTransform, PIRLRotationTransform,
                       rotate_image)

__all__ = [
    'ImageDecodeError', 'PIRLColorJitter', 'PIRLJigsawTransform',
    'RobustLoadImageFromFile', 'color_jitter_batch', 'decode_image',
    'JigsawPretextTransform', 'PIRLRotationTransform',
    'PIRLJigsawRotationTransform', 'rotate_image'
]
