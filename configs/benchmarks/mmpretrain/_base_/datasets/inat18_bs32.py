# iNaturalist 2018 (8142 species) through MMPretrain's `CustomDataset`.
# Download train_val2018.tar.gz, train2018.json and val2018.json from
# https://github.com/visipedia/inat_comp/tree/master/2018 and unpack as
#   data/inaturalist2018/train_val2018/<kingdom>/<category_id>/*.jpg
#   data/inaturalist2018/train2018.json  data/inaturalist2018/val2018.json
# then write the annotation files once:
#   python tools/dataset_converters/make_inat18_ann_files.py \
#     data/inaturalist2018
# which creates data/inaturalist2018/meta/{train,val}.txt
# ("train_val2018/.../x.jpg category_id" lines).
_base_ = ['classification_224px_bs32.py']

dataset_type = 'CustomDataset'
data_root = 'data/inaturalist2018'
train_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file='meta/train.txt'))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type, data_root=data_root, ann_file='meta/val.txt'))
test_dataloader = val_dataloader
