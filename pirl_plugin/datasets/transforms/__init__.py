from .color_jitter import PIRLColorJitter
from .loading import ImageDecodeError, RobustLoadImageFromFile, decode_image
from .photometric import augment_views
from .pirl_transforms import PIRLJigsawTransform
from .pretext_transforms import JigsawPretextTransform
from .rotation import (PIRLJigsawRotationTransform, PIRLRotationTransform,
                       rotate_image)
from .view_augmentation import RECIPES, ViewAugmentation

__all__ = [
    'ImageDecodeError', 'PIRLColorJitter', 'PIRLJigsawTransform',
    'RobustLoadImageFromFile', 'augment_views', 'decode_image', 'RECIPES',
    'ViewAugmentation', 'JigsawPretextTransform', 'PIRLRotationTransform',
    'PIRLJigsawRotationTransform', 'rotate_image'
]
