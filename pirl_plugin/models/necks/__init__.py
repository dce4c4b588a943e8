from .pirl_jigsaw_neck import PIRLJigsawNeck

__all__ = ['PIRLJigsawNeck']
