# PIRL, ResNet-50, ImageNet-1k, 800 epochs: the authors' run exactly, VISSL
# configs/config/pretrain/pirl/pirl_jigsaw_4node_resnet50.yaml. 4 nodes x 8
# GPUs x 32 = 1,024 images per step at lr 0.12, and every exact-VISSL
# switch on (docs/authors_recipe.md cites VISSL's source for each):
#   on each of the 4 nodes (NODE_RANK 0-3, MASTER_ADDR = node 0):
#     NNODES=4 NODE_RANK=0 MASTER_ADDR=node0 \
#       bash tools/dist_train.sh configs/pirl/pirl_resnet50_32xb32-coslr-800e_in1k.py 8
#   or with Slurm:
#     GPUS=32 GPUS_PER_NODE=8 bash tools/slurm_train.sh PARTITION pirl \
#       configs/pirl/pirl_resnet50_32xb32-coslr-800e_in1k.py work_dirs/pirl_32xb32
_base_ = ['./pirl_resnet50_8xb32-coslr-800e_in1k.py']

model = dict(
    # VISSL's MULTI_INPUT_HEAD_MAPPING: the patches, then the image through
    # the trunk (sets the BatchNorm running statistics)
    trunk_order='transform_first',
    head=dict(
        # norm_constant -1: Z from the first batch, frozen, for both terms
        frozen_z=True,
        # alias sampling: with replacement, the positive allowed, a draw
        # per loss term
        negative_sampling='vissl',
        # NCECriterion's float32 epsilon in each denominator
        eps=1.1920928955078125e-07),
    # NCEAverage's memory: uniform in [-s, s], then normalised
    memory_bank=dict(init_distribution='uniform'))

# torchvision's RandomResizedCrop on PIL images: Pillow's antialiased
# bilinear for the 224 image view and the 255 jigsaw crop (computed with
# torch, at most one level from Pillow's output)
train_pipeline = [
    _base_.train_pipeline[0],
    dict(_base_.train_pipeline[1], interpolation='pillow'),
    _base_.train_pipeline[2],
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

# lr 0.12 for 1,024 images (the authors' 0.03 per 256, auto-scaled); with
# --auto-scale-lr it is rescaled from 1,024 to the real total batch.
optim_wrapper = dict(optimizer=dict(lr=0.12))
auto_scale_lr = dict(base_batch_size=1024)

# DISTRIBUTED.BROADCAST_BUFFERS: True: DDP broadcasts rank 0's buffers at
# every forward pass. PIRL excludes the memory bank and the head's Z from
# it (PIRL._ddp_params_and_buffers_to_ignore), so only the BatchNorm
# statistics are broadcast, as in VISSL, whose bank is outside the model.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', broadcast_buffers=True)
