from .jigsaw_pretext_neck import JigsawPretextNeck
from .pirl_jigsaw_neck import PIRLJigsawNeck

__all__ = ['PIRLJigsawNeck', 'JigsawPretextNeck']
