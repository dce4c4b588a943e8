"""End to end through the real tools/train.py."""
import glob
import os.path as osp

import pytest
import torch
from conftest import REPO, run_tool

DEMO = osp.join(REPO, 'configs', 'pirl',
                'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')


def small_run_options(data_root, epochs=1, extra=()):
    return [
        '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}/train',
        'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
        'model.head.num_negatives=16', f'train_cfg.max_epochs={epochs}',
        f'param_scheduler.0.T_max={epochs}', f'param_scheduler.0.end={epochs}',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=2', *extra
    ]


@pytest.mark.slow
def test_train_writes_checkpoint_with_bank_and_resumes(shapes_root, tmp_path):
    work = str(tmp_path / 'work')
    run_tool(['tools/train.py', DEMO, '--work-dir', work] +
             small_run_options(shapes_root, epochs=1))
    ckpt_path = osp.join(work, 'epoch_1.pth')
    assert osp.isfile(ckpt_path)
    ckpt = torch.load(ckpt_path, map_location='cpu')  # weights_only default
    bank = ckpt['state_dict']['memory_bank.bank']
    assert bank.shape == (60, 128)  # sized from the dataset by the hook
    torch.testing.assert_close(bank.norm(dim=1), torch.ones(60))
    assert 'head.z' in ckpt['state_dict']
    assert (ckpt['state_dict']['head.z'] > 0).all()
    logs = open(glob.glob(osp.join(work, '*', '*.log'))[0]).read()
    assert 'memory bank of 60 x 128' in logs
    assert 'bank_feat_sim' in logs and 'loss_transform' in logs

    # --resume on torch >= 2.6 with weights_only at its default
    proc = run_tool(['tools/train.py', DEMO, '--work-dir', work, '--resume'] +
                    small_run_options(shapes_root, epochs=2))
    assert 'resumed epoch: 1' in proc.stdout + proc.stderr
    ckpt2 = torch.load(osp.join(work, 'epoch_2.pth'), map_location='cpu')
    assert ckpt2['meta']['epoch'] == 2
    assert not torch.equal(ckpt2['state_dict']['memory_bank.bank'], bank)


@pytest.mark.slow
def test_train_refuses_missing_config(tmp_path):
    proc = run_tool(['tools/train.py', 'configs/nope.py'], check=False)
    assert proc.returncode != 0
    assert "config file 'configs/nope.py' not found" in proc.stderr


@pytest.mark.slow
def test_demo_tool_end_to_end(shapes_root, tmp_path):
    """tools/demo.py (the README's main command) on the tiny dataset: it
    trains through tools/train.py with a kNN monitor, evaluates PIRL and the
    untrained network at the standard init and at the config's zero-init
    residual (kNN and linear probe) and writes the plot and the JSON."""
    import json
    work = str(tmp_path / 'demo')
    proc = run_tool([
        'tools/demo.py', '--data-root', shapes_root, '--work-dir', work,
        '--train-per-class', '6', '--test-per-class', '2', '--epochs', '3',
        '--knn-interval', '2', '--cfg-options',
        'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
        'model.head.num_negatives=16', 'default_hooks.logger.interval=2'
    ])
    assert 'kNN top-1 (k=20) on the held-out test split: PIRL' in proc.stdout
    assert 'linear-probe top-1' in proc.stdout
    result = json.load(open(osp.join(work, 'demo_result.json')))
    assert 'untrained, standard init (zero_init_residual=False)' in \
        proc.stdout
    for model in ('pirl', 'untrained_standard_init', 'untrained_zero_init'):
        for key in ('knn_top1', 'linear_top1'):
            assert 0 <= result[model][key] <= 100
    assert result['untrained_standard_init']['init'] == 'standard'
    assert result['untrained_zero_init']['init'] == 'zero_init'
    # the monitor ran every 2 epochs and after the last one, and the
    # evaluated checkpoint is the last one
    assert [r['epoch'] for r in result['knn_during_training']] == [2, 3]
    assert result['checkpoint'].endswith('epoch_3.pth')
    # one number for one model: the final bar is the curve's last point
    assert result['pirl']['knn_top1'] == \
        result['knn_during_training'][-1]['knn_top1']
    assert osp.getsize(osp.join(work, 'demo_result.png')) > 10_000
