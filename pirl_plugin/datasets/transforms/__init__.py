from .loading import ImageDecodeError, RobustLoadImageFromFile, decode_image
from .photometric import (RECIPES, PIRLColorJitter, ViewAugmentation,
                          augment_views)
from .pirl_transforms import PIRLJigsawTransform
from .pretext_transforms import JigsawPretextTransform
from .rotation import (PIRLJigsawRotationTransform, PIRLRotationTransform,
                       rotate_image)

__all__ = [
    'ImageDecodeError', 'PIRLColorJitter', 'PIRLJigsawTransform',
    'RobustLoadImageFromFile', 'augment_views', 'decode_image', 'RECIPES',
    'ViewAugmentation', 'JigsawPretextTransform', 'PIRLRotationTransform',
    'PIRLJigsawRotationTransform', 'rotate_image'
]
