# The path the README's quick start runs; the config itself is
# configs/pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py (PIRL, ResNet-50,
# ImageNet-1k, 800 epochs, 8 GPUs x 32 images).
_base_ = ['./pirl/pirl_resnet50_8xb32-coslr-800e_in1k.py']
