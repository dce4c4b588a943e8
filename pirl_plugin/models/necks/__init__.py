from .jigsaw_pretext_neck import JigsawPretextNeck
from .pirl_jigsaw_neck import PIRLJigsawNeck
from .pirl_mlp_neck import PIRLMLPNeck

__all__ = ['PIRLJigsawNeck', 'PIRLMLPNeck', 'JigsawPretextNeck']
