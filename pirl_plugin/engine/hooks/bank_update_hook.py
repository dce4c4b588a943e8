"""Keep the PIRL memory bank in step with training."""
from typing import Optional

from mmengine import dist
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS

from .utils import checkpoint_due, get_memory_bank, train_dataset_len


@HOOKS.register_module()
class BankUpdateHook(Hook):
    """Size the memory bank, commit its updates and make it ready for
    checkpoints. Required by PIRL.

    - ``before_run``: an unsized bank (``num_samples == 0``) gets one entry
      per training image, random unit vectors identical on every rank; the
      bank's sampling seed is the run's seed (rank 0's).
    - ``after_train_iter``: commits the update the step staged (after
      backward and the optimiser step) and puts its statistics
      (``bank_feat_sim``, ``bank_update_sim``) in the message hub.
    - before a checkpoint is written (the iteration or epoch at which
      ``CheckpointHook`` saves): a sharded bank gathers its shards.

    Its priority (``ABOVE_NORMAL``) makes the committed bank the one that
    :class:`CollapseGuardHook` and :class:`BankConsistencyHook` read.
    """

    priority = 'ABOVE_NORMAL'

    def before_run(self, runner) -> None:
        n = train_dataset_len(runner)
        if n is None:
            return
        _, bank = get_memory_bank(runner)
        # rank 0's seed: with `randomness.diff_rank_seed` runner.seed is
        # seed + rank, and the negatives must not depend on the rank
        seed = [int(runner.seed or 0)]
        if dist.get_world_size() > 1:
            dist.broadcast_object_list(seed, src=0)
        bank.sampling_seed = seed[0]
        if bank.num_samples == 0:
            bank.reset(n)
            runner.logger.info(
                f'BankUpdateHook: memory bank of {n} x {bank.feat_dim} '
                f'({str(bank.dtype).replace("torch.", "")}) initialised with '
                'random unit vectors')

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        _, bank = get_memory_bank(runner)
        for name, value in bank.commit().items():
            runner.message_hub.update_scalar(f'train/{name}', value)
        if checkpoint_due(runner, by_epoch=False):
            self._prepare_checkpoint(bank)

    def after_train_epoch(self, runner) -> None:
        if checkpoint_due(runner, by_epoch=True):
            self._prepare_checkpoint(get_memory_bank(runner)[1])

    @staticmethod
    def _prepare_checkpoint(bank) -> None:
        """A sharded bank gathers its shards (collective) for the
        checkpoint that CheckpointHook (lower priority) writes next."""
        if hasattr(bank, 'prepare_checkpoint'):
            bank.prepare_checkpoint()
