"""The run checks of PreflightChecksHook (a dataset smaller than one batch,
a learning-rate schedule that ends before training does), without running a
training."""
import logging

import pytest
import torch
from torch.utils.data import DataLoader

from pirl_plugin.datasets.checks import DatasetConfigError, check_epoch_length
# yapf: disable
from pirl_plugin.engine.hooks.run_checks import (
    TrainingConfigError, check_schedule_covers_training)

# yapf: enable


# --------------------------------------------------------------------------
# a dataset smaller than one batch
# --------------------------------------------------------------------------
def test_epoch_length_names_sizes_and_fix():
    loader = DataLoader(list(range(10)), batch_size=64, drop_last=True)
    with pytest.raises(DatasetConfigError) as exc:
        check_epoch_length(loader)
    msg = str(exc.value)
    assert '\n' not in msg
    assert msg.startswith('the training dataset has 10 images, fewer than '
                          'one batch: train_dataloader.batch_size=64 with '
                          'drop_last=True gives 0 iterations per epoch.')
    assert '--cfg-options train_dataloader.batch_size=8' in msg
    assert 'train_dataloader.drop_last=False' in msg


def test_epoch_length_accepts_one_batch_or_a_partial_one():
    check_epoch_length(
        DataLoader(list(range(64)), batch_size=64, drop_last=True))
    check_epoch_length(
        DataLoader(list(range(10)), batch_size=64, drop_last=False))


def test_epoch_length_per_process():
    from unittest import mock

    from mmengine.dataset import DefaultSampler
    with mock.patch(
            'mmengine.dataset.sampler.get_dist_info', return_value=(0, 4)):
        sampler = DefaultSampler(list(range(40)), shuffle=False)
    loader = DataLoader(
        list(range(40)), batch_size=16, sampler=sampler, drop_last=True)
    with pytest.raises(DatasetConfigError) as exc:
        check_epoch_length(loader, world_size=4)
    assert ('batch_size=16 per process x 4 processes (10 images each)'
            in str(exc.value))
    assert 'batch_size=8' in str(exc.value)


# --------------------------------------------------------------------------
# a schedule shorter than training
# --------------------------------------------------------------------------
class FakeRunner:
    """What the schedule check reads of MMEngine's runner."""

    def __init__(self, max_epochs, epoch_length, schedulers, resume=False):
        self.train_loop = type(
            'Loop', (),
            dict(max_epochs=max_epochs, max_iters=max_epochs * epoch_length))()
        self.param_schedulers = schedulers
        self.cfg = dict(resume=resume)
        self.logger = logging.getLogger('test_run_checks')


def cosine(epochs, t_max=None, epoch_length=None, begin=0):
    from mmengine.optim.scheduler import CosineAnnealingLR
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    kw = dict(
        T_max=t_max or epochs - begin,
        eta_min_ratio=1e-2,
        by_epoch=True,
        begin=begin,
        end=epochs)
    if epoch_length:
        return CosineAnnealingLR.build_iter_from_epoch(
            opt, epoch_length=epoch_length, **kw)
    return CosineAnnealingLR(opt, **kw)


@pytest.mark.parametrize(
    'epoch_length', [None, 6], ids=['by_epoch', 'convert_to_iter_based'])
def test_schedule_ending_before_training_is_refused(epoch_length):
    runner = FakeRunner(40, epoch_length or 6,
                        [cosine(20, epoch_length=epoch_length)])
    with pytest.raises(TrainingConfigError) as exc:
        check_schedule_covers_training(runner)
    msg = str(exc.value)
    assert '\n' not in msg
    assert msg.startswith(
        'the learning-rate schedule ends at epoch 20 (param_scheduler.0, '
        'CosineAnnealingLR, end=20) but training runs for 40 epochs '
        '(train_cfg.max_epochs=40): the last 20 epochs would train at the '
        'final learning rate.')
    assert ('--cfg-options train_cfg.max_epochs=40 param_scheduler.0.end=40 '
            'param_scheduler.0.T_max=40') in msg
    assert '--resume' not in msg


def test_schedule_check_on_resume_warns_and_says_why(caplog):
    """Extending a finished run with --resume: MMEngine restores the
    checkpoint's schedule, so the run is warned, not refused."""
    runner = FakeRunner(40, 6, [cosine(20)], resume=True)
    with caplog.at_level(logging.WARNING, logger='test_run_checks'):
        check_schedule_covers_training(runner)
    assert len(caplog.records) == 1
    msg = caplog.records[0].getMessage()
    assert msg.startswith('the learning-rate schedule ends at epoch 20')
    assert "with --resume the schedule is the checkpoint's" in msg
    assert msg.endswith("Going on: the resumed run trains as the "
                        "checkpoint's schedule says.")


def test_cosine_t_max_shorter_than_its_span_is_refused():
    runner = FakeRunner(40, 6, [cosine(40, t_max=20, epoch_length=6)])
    with pytest.raises(TrainingConfigError) as exc:
        check_schedule_covers_training(runner)
    assert str(exc.value).startswith(
        'param_scheduler.0 (CosineAnnealingLR) has T_max=20 epochs but runs '
        'from epoch 0 to 40: after epoch 20 the learning rate would rise '
        'again. Set param_scheduler.0.T_max=40')


def test_matching_schedules_pass(caplog):
    from mmengine.optim.scheduler import LinearLR
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    warmup = LinearLR(opt, start_factor=0.1, by_epoch=True, begin=0, end=5)
    scheds = [warmup, cosine(40, begin=5)]
    with caplog.at_level(logging.WARNING, logger='test_run_checks'):
        check_schedule_covers_training(FakeRunner(40, 6, scheds))
        check_schedule_covers_training(
            FakeRunner(40, 6, [cosine(40, epoch_length=6)]))
    assert not caplog.records
    # a scheduler without an end (MultiStepLR's default) covers any run
    from mmengine.optim.scheduler import MultiStepLR
    step = MultiStepLR(opt, milestones=[10], by_epoch=True)
    check_schedule_covers_training(FakeRunner(40, 6, [step]))


def test_schedule_longer_than_training_only_warns(caplog):
    with caplog.at_level(logging.WARNING, logger='test_run_checks'):
        check_schedule_covers_training(FakeRunner(1, 6, [cosine(20)]))
    assert len(caplog.records) == 1
    assert ('schedule runs to epoch 20 but training stops after 1'
            in caplog.records[0].getMessage())


def test_training_config_errors_are_value_errors():
    # tools/train.py prints them without a traceback; code that catches
    # the former ValueError still does
    assert issubclass(TrainingConfigError, ValueError)
    assert issubclass(DatasetConfigError, ValueError)
