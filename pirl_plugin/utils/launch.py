"""What the launchers (``tools/train.py``, ``tools/det_train.py``,
``tools/det_test.py``) share: merging MMPretrain's ``tools/train.py``
arguments into a config, and distributed runs on CPU-only machines."""
import os
import os.path as osp

import torch
from mmengine.config import Config, ConfigDict


def set_work_dir(cfg: Config, work_dir, config: str) -> None:
    """``cfg.work_dir``: ``work_dir`` (the command line) if given, else the
    config's, else ``./work_dirs/<config name>``."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])


def merge_args(cfg: Config, args) -> Config:
    """Merge the command-line arguments into the config."""
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    cfg.launcher = args.launcher

    set_work_dir(cfg, args.work_dir, args.config)

    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        assert optim_wrapper in ['OptimWrapper', 'AmpOptimWrapper'], \
            '`--amp` is not supported custom optimizer wrapper type ' \
            f'`{optim_wrapper}.'
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.auto_scale_lr:
        if cfg.get('auto_scale_lr') is None:
            raise ValueError(
                f'--auto-scale-lr needs `auto_scale_lr = dict('
                f'base_batch_size=...)` in {args.config}')
        cfg.auto_scale_lr.enable = True

    def set_default_dataloader_cfg(cfg, field):
        if cfg.get(field, None) is None:
            return
        dataloader_cfg = cfg[field]
        if args.no_pin_memory:
            dataloader_cfg['pin_memory'] = False
        if args.no_persistent_workers:
            dataloader_cfg['persistent_workers'] = False
        if dataloader_cfg.get('num_workers', 0) == 0:
            dataloader_cfg['persistent_workers'] = False

    set_default_dataloader_cfg(cfg, 'train_dataloader')
    set_default_dataloader_cfg(cfg, 'val_dataloader')
    set_default_dataloader_cfg(cfg, 'test_dataloader')

    if args.launcher != 'none' and not torch.cuda.is_available():
        setup_cpu_distributed(cfg, args.launcher)
    return cfg


def setup_cpu_distributed(cfg: Config, launcher: str) -> None:
    """Run a distributed launch on CPU-only machines (CI, laptops).

    MMEngine's ``init_dist`` calls ``torch.cuda.set_device`` and wraps the
    model with ``device_ids=[local_rank]``, both of which fail without a GPU.
    Here the process group is initialised with gloo from the launcher's
    environment (MMEngine then skips its own ``init_dist``), and DDP gets
    ``device_ids=None``.
    """
    import torch.distributed as torch_dist
    cfg.setdefault('env_cfg', ConfigDict())
    cfg.env_cfg.setdefault('dist_cfg', ConfigDict())
    cfg.env_cfg.dist_cfg.backend = 'gloo'
    cfg.setdefault('model_wrapper_cfg',
                   ConfigDict(type='MMDistributedDataParallel',
                              broadcast_buffers=False))
    cfg.model_wrapper_cfg.device_ids = None
    if torch_dist.is_initialized():
        return
    if launcher == 'slurm':
        import subprocess
        nodes = os.environ['SLURM_NODELIST']
        host = subprocess.getoutput(
            f'scontrol show hostname {nodes} | head -n1')
        os.environ.setdefault('MASTER_ADDR', host)
        os.environ.setdefault('MASTER_PORT', '29500')
        os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
        os.environ['RANK'] = os.environ['SLURM_PROCID']
        os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')
    elif launcher != 'pytorch':
        raise ValueError(f'--launcher {launcher} needs a GPU; on CPU use '
                         'tools/dist_train.sh (pytorch) or slurm')
    torch_dist.init_process_group(backend='gloo')


def shutdown_distributed() -> None:
    """Leave the process group cleanly at the end of a successful run.

    Without it each rank exits while gloo's background threads may still be
    serving a peer's last collective; a rank then dies with ``terminate
    called without an active exception`` (SIGABRT) after its work is done,
    and torchrun reports the whole job as failed. A barrier first lets every
    rank finish before any group is torn down.
    """
    import torch.distributed as torch_dist
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
