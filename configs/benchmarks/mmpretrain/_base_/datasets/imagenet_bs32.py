# ImageNet-1k for linear probes and fine-tuning (MMPretrain layout):
#   data/imagenet/train/<wnid>/*.JPEG   data/imagenet/val/<wnid>/*.JPEG
#   data/imagenet/meta/{train,val}.txt  ("relative/path.JPEG label" lines,
#   optional: without them the class folders are scanned)
_base_ = ['classification_224px_bs32.py']

dataset_type = 'ImageNet'
data_root = 'data/imagenet'
train_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='train'))
val_dataloader = dict(
    dataset=dict(type=dataset_type, data_root=data_root, split='val'))
test_dataloader = val_dataloader
