# Places205 (MMPretrain `Places205` dataset). Download the resized images
# (imagesPlaces205_resize.tar) and the split files (trainvalsplit_places205)
# from http://places.csail.mit.edu and unpack them as
#   data/places205/data/vision/torralba/deeplearning/images256/a/abbey/*.jpg
#   data/places205/trainvalsplit_places205/train_places205.csv
#   data/places205/trainvalsplit_places205/val_places205.csv
# (the .csv files already have "relative/path.jpg label" lines).
_base_ = ['classification_224px_bs32.py']

dataset_type = 'Places205'
data_root = 'data/places205'
data_prefix = 'data/vision/torralba/deeplearning/images256'
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='trainvalsplit_places205/train_places205.csv'))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        data_prefix=data_prefix,
        ann_file='trainvalsplit_places205/val_places205.csv'))
test_dataloader = val_dataloader
