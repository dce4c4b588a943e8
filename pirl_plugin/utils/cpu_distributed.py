"""Distributed runs on CPU-only machines: a gloo process group from the
launcher's environment, and a clean exit from it."""
import os

from mmengine.config import Config, ConfigDict


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
    cfg.setdefault(
        'model_wrapper_cfg',
        ConfigDict(type='MMDistributedDataParallel', broadcast_buffers=False))
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
