from .pirl import PIRL

__all__ = ['PIRL']
