from .resnet_with_stem import ResNetWithStem

__all__ = ['ResNetWithStem']
