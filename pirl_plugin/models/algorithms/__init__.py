from .jigsaw_pretext import JigsawPretext
from .pirl import PIRL
from .pirl_multi import PIRLMultiTransform
from .rotation_pretext import RotationPretext

__all__ = ['PIRL', 'JigsawPretext', 'RotationPretext', 'PIRLMultiTransform']
