# The paper's transfer evaluation of a pre-trained backbone, task by task,
# for tools/eval_suite.py (Misra & van der Maaten, CVPR 2020: Tables 1-4 and
# Fig. 5). Each task names the config or tool that runs it, the data it needs
# (a key of `data_roots` and the files that must exist under it), the table
# it belongs to and, per table row, the metric key in the task's own output
# (MMEngine's vis_data/scalars.json at the last epoch or iteration, or the
# SVM tool's JSON), the factor that turns it into percent and the paper's
# PIRL and Jigsaw figures (ResNet-50, 800 epochs; None where the paper gives
# none). Add a task by adding an entry; run a subset with --tasks.
#
#   python tools/eval_suite.py CHECKPOINT --tasks det,linear,svm
data_roots = dict(
    imagenet='data/imagenet',
    places205='data/places205',
    inat18='data/inaturalist2018',
    voc='data/VOCdevkit',
)

# table name -> title, in the order they are written
tables = dict(
    detection='Detection: Faster R-CNN R50-C4, VOC07+12 trainval -> '
    'VOC07 test',
    linear='Linear classification (res5, global average pooling)',
    per_layer='ImageNet linear classification per layer (top-1)',
    semi_supervised='Semi-supervised ImageNet (fine-tuned, top-5)',
)

_cls = 'configs/benchmarks/mmpretrain/'
_imagenet_files = ['meta/train.txt', 'meta/val.txt', 'train', 'val']
tasks = dict(
    det=dict(
        kind='det',
        table='detection',
        config='configs/benchmarks/mmdetection/voc0712/'
        'faster-rcnn_r50-c4_8xb2-25k_voc0712.py',
        data='voc',
        requires=[
            'VOC2007/ImageSets/Main/trainval.txt',
            'VOC2007/ImageSets/Main/test.txt',
            'VOC2012/ImageSets/Main/trainval.txt'
        ],
        # evaluations logged at their iteration (the default is epoch 0 in
        # an iteration-based loop), so the last one is checked to be at
        # max_iters
        cfg_options={'default_hooks.logger.log_metric_by_epoch': False},
        # VOCMetric over IoU 0.50:0.05:0.95 logs their mean as mAP (the
        # paper's COCO-style AP) and AP50 ... AP95, as fractions
        metrics=dict(
            AP=dict(key='pascal_voc/mAP', scale=100, pirl=54.0, jigsaw=48.9),
            AP50=dict(
                key='pascal_voc/AP50', scale=100, pirl=80.7, jigsaw=75.1),
            AP75=dict(
                key='pascal_voc/AP75', scale=100, pirl=59.7, jigsaw=52.9))),
    linear=dict(
        kind='train',
        table='linear',
        config=_cls + 'pirl_resnet50_8xb32-linear-steplr-28e_in1k.py',
        data='imagenet',
        requires=_imagenet_files,
        # Jigsaw's best layer is res4 (45.7); at res5 it is lower
        metrics={
            'ImageNet top-1':
            dict(key='accuracy/top1', pirl=63.6, jigsaw=45.7)
        }),
    svm=dict(
        kind='svm',
        table='linear',
        config=_cls + 'pirl_resnet50_8xb32-linear-steplr-28e_in1k.py',
        data='voc',
        subdir='VOC2007',
        requires=[
            'VOC2007/ImageSets/Main/trainval.txt',
            'VOC2007/ImageSets/Main/test.txt'
        ],
        args=[],
        metrics={'VOC07 SVM mAP': dict(key='mAP', pirl=81.1, jigsaw=64.5)}),
    places205=dict(
        kind='train',
        table='linear',
        config=_cls + 'pirl_resnet50_8xb32-linear-steplr-14e_places205.py',
        data='places205',
        requires=[
            'trainvalsplit_places205/train_places205.csv',
            'trainvalsplit_places205/val_places205.csv',
            'data/vision/torralba/deeplearning/images256'
        ],
        metrics={
            'Places205 top-1':
            dict(key='accuracy/top1', pirl=49.8, jigsaw=41.2)
        }),
    inat18=dict(
        kind='train',
        table='linear',
        config=_cls + 'pirl_resnet50_8xb32-linear-steplr-84e_inat18.py',
        data='inat18',
        requires=['meta/train.txt', 'meta/val.txt'],
        metrics={
            'iNat18 top-1': dict(key='accuracy/top1', pirl=34.1, jigsaw=21.3)
        }),
    per_layer=dict(
        kind='train',
        table='per_layer',
        config=_cls + 'pirl_resnet50_per-layer-linear_in1k.py',
        data='imagenet',
        requires=_imagenet_files,
        # paper Fig. 5; Jigsaw's curve is given in the text only at res4
        metrics=dict(
            conv1=dict(key='layer_top1/conv1', pirl=6.2),
            res2=dict(key='layer_top1/res2', pirl=30.0),
            res3=dict(key='layer_top1/res3', pirl=40.1),
            res4=dict(key='layer_top1/res4', pirl=56.6, jigsaw=45.7),
            res5=dict(key='layer_top1/res5', pirl=63.6))),
    semisup_1pct=dict(
        kind='train',
        table='semi_supervised',
        config=_cls + 'pirl_resnet50_8xb32-semisup-1pct-steplr-70e_in1k.py',
        data='imagenet',
        requires=['meta/train_1pct_seed0.txt', 'meta/val.txt', 'train', 'val'],
        metrics={
            '1% labels top-5':
            dict(key='accuracy/top5', pirl=57.2, jigsaw=45.3)
        }),
    semisup_10pct=dict(
        kind='train',
        table='semi_supervised',
        config=_cls + 'pirl_resnet50_8xb32-semisup-10pct-steplr-70e_in1k.py',
        data='imagenet',
        requires=[
            'meta/train_10pct_seed0.txt', 'meta/val.txt', 'train', 'val'
        ],
        metrics={
            '10% labels top-5':
            dict(key='accuracy/top5', pirl=83.8, jigsaw=79.3)
        }),
)
