"""Bad data, bad configs, bad checkpoints and killed runs, end to end
through the real tools/train.py and MMPretrain's own unmodified
tools/train.py (what `mim train mmpretrain <config>` runs), which train the
same way through the plugin's runner (tiny dataset, 32-pixel views)."""
import glob
import hashlib
import os
import os.path as osp
import re
import shlex
import signal
import subprocess
import sys
import time
from unittest import mock

import numpy as np
import pytest
import torch
from conftest import REPO, run_tool
from PIL import Image

import pirl_plugin  # noqa: F401  allowlists MMEngine checkpoint classes

pytestmark = pytest.mark.slow

DEMO = osp.join(REPO, 'configs', 'pirl',
                'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')


def _test_hook_index() -> int:
    """Index of RecordStartStateHook in CONFIG's custom_hooks: after the
    demo's own."""
    from mmengine.config import Config
    return len(Config.fromfile(DEMO).custom_hooks)


TEST_HOOK = _test_hook_index()

HELPERS = '''
"""Test-only hooks (imported through custom_imports)."""
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmpretrain.registry import HOOKS


def _model(runner):
    m = runner.model
    return m.module if is_model_wrapper(m) else m


@HOOKS.register_module()
class RecordStartStateHook(Hook):
    """Save the bank and the loop position when training starts (after a
    resume has loaded the checkpoint)."""

    def before_train(self, runner):
        torch.save(dict(bank=_model(runner).memory_bank.bank.clone(),
                        iter=runner.iter, epoch=runner.epoch),
                   runner.work_dir + '/start_state.pt')


@HOOKS.register_module()
class PoisonTemperatureHook(Hook):
    """From iteration `at_iter` on every similarity is NaN (a diverged run
    without touching the weights)."""

    def __init__(self, at_iter):
        self.at_iter = at_iter

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter == self.at_iter:
            _model(runner).head.temperature = float('nan')
'''

CONFIG = '''
_base_ = [{demo!r}]
custom_imports = dict(imports=['pirl_plugin', 'robust_test_hooks'],
                      allow_failed_imports=False)
custom_hooks = _base_.custom_hooks + [dict(type='RecordStartStateHook')]
'''


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    """A config with the test hooks, and a folder of 24 small images."""
    root = tmp_path_factory.mktemp('robust_e2e')
    helpers = root / 'helpers'
    helpers.mkdir()
    (helpers / 'robust_test_hooks.py').write_text(HELPERS)
    cfg = root / 'pirl_tiny.py'
    cfg.write_text(CONFIG.format(demo=DEMO))
    data = root / 'data24'
    data.mkdir()
    rng = np.random.default_rng(0)
    for i in range(24):
        img = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(img).save(str(data / f'img_{i:02d}.jpg'))
    return dict(cfg=str(cfg), helpers=str(helpers), data=str(data), root=root)


def env(setup):
    return {
        'PYTHONPATH': os.pathsep.join([REPO, setup['helpers']]),
        'OMP_NUM_THREADS': '1'
    }


def options(data_root, epochs=1, batch=4, negatives=8, workers=0, extra=()):
    return [
        '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
        f'train_dataloader.batch_size={batch}',
        f'train_dataloader.num_workers={workers}',
        'train_dataloader.dataset.pipeline.1.img_size=32',
        'train_dataloader.dataset.pipeline.1.jigsaw_crop_size=48',
        'train_dataloader.dataset.pipeline.1.patch_size=16',
        f'model.head.num_negatives={negatives}',
        f'train_cfg.max_epochs={epochs}', f'param_scheduler.0.T_max={epochs}',
        f'param_scheduler.0.end={epochs}',
        'default_hooks.checkpoint.interval=1',
        'default_hooks.logger.interval=1', *extra
    ]


def train(setup, work, *args, check=True, **kw):
    return run_tool(
        ['tools/train.py', setup['cfg'], '--work-dir', work] + list(args) +
        options(**kw),
        env=env(setup),
        check=check)


def sha(path):
    return hashlib.sha256(open(path, 'rb').read()).hexdigest()


def log_text(work):
    return '\n'.join(
        open(p).read()
        for p in sorted(glob.glob(osp.join(work, '*', '*.log'))))


# --------------------------------------------------------------------------
# numerics: a NaN loss stops the run at that iteration, checkpoint intact
# --------------------------------------------------------------------------
@pytest.fixture(scope='module')
def nan_run(setup):
    work = str(setup['root'] / 'nan')
    # 6 iterations per epoch; epoch_1.pth is written after iteration 6,
    # then every similarity becomes NaN from iteration 8 (0-based 7) on.
    proc = train(
        setup,
        work,
        check=False,
        data_root=setup['data'],
        epochs=2,
        extra=[
            f'custom_hooks.{TEST_HOOK}.type=PoisonTemperatureHook',
            f'custom_hooks.{TEST_HOOK}.at_iter=7'
        ])
    return proc, work


def test_nan_loss_stops_the_run_and_keeps_the_last_checkpoint(nan_run):
    proc, work = nan_run
    assert proc.returncode != 0
    err = proc.stderr
    assert ("tools/train.py: error: PIRL: loss term 'loss_transform' is nan "
            'at iteration 7. Stopped before the memory bank and weights '
            'were updated; the last checkpoint is intact.') in err, err[-3000:]
    assert 'Traceback' not in err
    assert "loss term 'loss_transform' is nan" in log_text(work)  # logged
    ckpt_path = osp.join(work, 'epoch_1.pth')
    assert sorted(os.listdir(work)).count('epoch_1.pth') == 1
    assert not osp.exists(osp.join(work, 'epoch_2.pth'))
    ckpt = torch.load(ckpt_path, map_location='cpu')  # weights_only
    assert ckpt['meta']['iter'] == 6
    assert torch.isfinite(ckpt['state_dict']['memory_bank.bank']).all()
    assert torch.isfinite(ckpt['state_dict']['head.z']).all()


# --------------------------------------------------------------------------
# dataset length changed since the checkpoint
# --------------------------------------------------------------------------
def test_resume_on_a_dataset_of_another_length(setup, nan_run, tmp_path):
    _, nan_work = nan_run
    ckpt = osp.join(nan_work, 'epoch_1.pth')
    before = sha(ckpt)
    small = tmp_path / 'data20'
    small.mkdir()
    for name in sorted(os.listdir(setup['data']))[:20]:
        os.link(osp.join(setup['data'], name), str(small / name))
    proc = train(
        setup,
        str(tmp_path / 'w'),
        '--resume',
        ckpt,
        check=False,
        data_root=str(small),
        epochs=2)
    assert proc.returncode != 0
    assert ("The checkpoint's memory bank has 24 entries but the training "
            'dataset has 20 images: the dataset changed since the '
            'checkpoint was written. Resume on the original dataset, or '
            'start a new run') in proc.stderr
    assert sha(ckpt) == before


def test_negatives_not_fewer_than_images(setup, tmp_path):
    proc = train(
        setup,
        str(tmp_path / 'w'),
        check=False,
        data_root=setup['data'],
        negatives=24)
    assert proc.returncode != 0
    assert ('tools/train.py: error: head.num_negatives=24 must be smaller '
            'than the number of training images (24)') in proc.stderr
    assert 'Use at most 23.' in proc.stderr
    assert 'Traceback' not in proc.stderr  # one line, as the README says


# --------------------------------------------------------------------------
# fewer images than one batch; a schedule shorter than the run
# --------------------------------------------------------------------------
def test_dataset_smaller_than_one_batch(setup, tmp_path):
    small = tmp_path / 'data10'
    small.mkdir()
    for name in sorted(os.listdir(setup['data']))[:10]:
        os.link(osp.join(setup['data'], name), str(small / name))
    # the demo config: batch 64, drop_last=True, convert_to_iter_based
    proc = train(
        setup,
        str(tmp_path / 'w'),
        check=False,
        data_root=str(small),
        batch=64)
    assert proc.returncode != 0
    err = proc.stderr
    assert ('tools/train.py: dataset: the training dataset has 10 images, '
            'fewer than one batch: train_dataloader.batch_size=64 with '
            'drop_last=True gives 0 iterations per epoch. Either lower the '
            'batch size, e.g. --cfg-options train_dataloader.batch_size=8, '
            'add images, or set train_dataloader.drop_last=False'
            ) in err, err[-3000:]
    assert 'Traceback' not in err and 'epoch_length' not in err


def test_more_epochs_than_the_schedule_is_refused(setup, tmp_path):
    # as `--cfg-options train_cfg.max_epochs=40` on a 20-epoch config
    work = str(tmp_path / 'w')
    proc = train(
        setup,
        work,
        check=False,
        data_root=setup['data'],
        epochs=3,
        extra=['param_scheduler.0.end=2', 'param_scheduler.0.T_max=2'])
    assert proc.returncode != 0
    err = proc.stderr
    assert ('tools/train.py: error: the learning-rate schedule ends at epoch '
            '2 (param_scheduler.0, CosineAnnealingLR, end=2) but training '
            'runs for 3 epochs (train_cfg.max_epochs=3): the last 1 epochs '
            'would train at the final learning rate. Stretch the schedule '
            'with the run, e.g. --cfg-options train_cfg.max_epochs=3 '
            'param_scheduler.0.end=3 param_scheduler.0.T_max=3') in err, \
        err[-3000:]
    assert 'Traceback' not in err
    assert not glob.glob(osp.join(work, '*.pth'))  # refused before training


def stock_train_py():
    import mmpretrain
    path = osp.join(
        osp.dirname(mmpretrain.__file__), '.mim', 'tools', 'train.py')
    if not osp.isfile(path):
        pytest.skip('mmpretrain is installed without its tools (.mim)')
    return path


def stock_prog(path):
    """How the runner names a program run from the repository root."""
    rel = osp.relpath(path, REPO)
    return path if rel.startswith(os.pardir) else rel


def test_stock_mmpretrain_train_refuses_a_dataset_smaller_than_a_batch(
        setup, tmp_path):
    """MMPretrain's own tools/train.py builds the plugin's runner (the
    config's runner_type): it checks the batch before MMEngine builds the
    schedules (with convert_to_iter_based, as in the demo config, MMEngine
    would fail first with `epoch_length must be a positive integer`) and
    stops with one line."""
    small = tmp_path / 'data10'
    small.mkdir()
    for name in sorted(os.listdir(setup['data']))[:10]:
        os.link(osp.join(setup['data'], name), str(small / name))
    work = str(tmp_path / 'w')
    stock = stock_train_py()
    proc = run_tool(
        [stock, setup['cfg'], '--work-dir', work] +
        options(str(small), batch=64),
        env=env(setup),
        check=False)
    assert proc.returncode == 1
    err = proc.stderr
    assert (f'{stock_prog(stock)}: dataset: the training dataset has 10 '
            'images, fewer than one batch: train_dataloader.batch_size=64 '
            'with drop_last=True gives 0 iterations per epoch.'
            ) in err, err[-3000:]
    assert 'Traceback' not in err and 'epoch_length' not in err
    assert 'fewer than one batch' in log_text(work)  # logged too
    assert not glob.glob(osp.join(work, '*.pth'))


def test_stock_mmpretrain_train_refuses_the_short_schedule(setup, tmp_path):
    """The check lives in the plugin's hooks; MMPretrain's own unmodified
    tools/train.py stops with the same one line as ours."""
    work = str(tmp_path / 'w')
    stock = stock_train_py()
    proc = run_tool(
        [stock, setup['cfg'], '--work-dir', work] + options(
            setup['data'],
            epochs=3,
            extra=['param_scheduler.0.end=2', 'param_scheduler.0.T_max=2']),
        env=env(setup),
        check=False)
    assert proc.returncode == 1
    err = proc.stderr
    assert (f'{stock_prog(stock)}: error: the learning-rate schedule ends at '
            'epoch 2 (param_scheduler.0, CosineAnnealingLR, end=2) but '
            'training runs for 3 epochs') in err, err[-3000:]
    assert 'Traceback' not in err
    assert not glob.glob(osp.join(work, '*.pth'))


def test_stock_mmpretrain_train_refuses_too_many_negatives(setup, tmp_path):
    stock = stock_train_py()
    proc = run_tool(
        [stock, setup['cfg'], '--work-dir',
         str(tmp_path / 'w')] + options(setup['data'], negatives=24),
        env=env(setup),
        check=False)
    assert proc.returncode == 1
    assert (f'{stock_prog(stock)}: error: head.num_negatives=24 must be '
            'smaller than the number of training images (24)'
            ) in proc.stderr, proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr


TINY = """
_base_ = [{cfg!r}]
# ResNet-18 at 1/4 width, as configs/pirl/pirl_resnet18w16_*
model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    neck=dict(in_channels=128),
    transform_neck=dict(in_channels=128))
"""


def test_stock_mmpretrain_train_and_resume_equal_our_uninterrupted_run(
        setup, tmp_path):
    """2 epochs through MMPretrain's own tools/train.py (a checkpoint each
    epoch, holding the memory bank sized from the dataset), then --resume
    to epoch 3 through it, end where 3 epochs in one go through our
    tools/train.py end: same weights, bank and optimiser state."""
    cfg = tmp_path / 'pirl_tiny_w16.py'
    cfg.write_text(TINY.format(cfg=setup['cfg']))
    stock = stock_train_py()
    # 24 images, batch 8: 3 iterations per epoch; the schedule is for 3
    # epochs in both runs
    three = ['param_scheduler.0.T_max=3', 'param_scheduler.0.end=3']

    def run(tool, work, *args, epochs):
        return run_tool(
            [tool, str(cfg), '--work-dir', work] + list(args) +
            options(setup['data'], epochs=epochs, batch=8, extra=three),
            env=env(setup))

    split, whole = str(tmp_path / 'split'), str(tmp_path / 'whole')
    run(stock, split, epochs=2)
    ckpt = torch.load(osp.join(split, 'epoch_2.pth'), map_location='cpu')
    assert ckpt['meta']['iter'] == 6
    bank = ckpt['state_dict']['memory_bank.bank']
    assert bank.shape == (24, 128)  # the dataset's length
    torch.testing.assert_close(bank.norm(dim=1), torch.ones(24))
    assert osp.isfile(osp.join(split, 'epoch_1.pth'))
    proc = run(stock, split, '--resume', epochs=3)
    assert 'resumed epoch: 2, iter: 6' in proc.stdout + proc.stderr
    run('tools/train.py', whole, epochs=3)

    a = torch.load(osp.join(whole, 'epoch_3.pth'), map_location='cpu')
    b = torch.load(osp.join(split, 'epoch_3.pth'), map_location='cpu')
    assert a['meta']['iter'] == b['meta']['iter'] == 9
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key in a['state_dict']:
        torch.testing.assert_close(
            a['state_dict'][key],
            b['state_dict'][key],
            atol=1e-6,
            rtol=1e-5,
            msg=key)
    assert not torch.equal(b['state_dict']['memory_bank.bank'], bank)
    for sa, sb in zip(a['optimizer']['state'].values(),
                      b['optimizer']['state'].values()):
        torch.testing.assert_close(
            sa['momentum_buffer'], sb['momentum_buffer'], atol=1e-6, rtol=1e-5)


# --------------------------------------------------------------------------
# killed runs
# --------------------------------------------------------------------------
def _start(setup, work, epochs, workers=0, tool='tools/train.py'):
    full_env = dict(os.environ)
    full_env.update(env(setup))
    out = open(osp.join(osp.dirname(work), osp.basename(work) + '.out'), 'w')
    cmd = [sys.executable, tool, setup['cfg'], '--work-dir', work] + options(
        setup['data'], epochs=epochs, workers=workers)

    def default_sigint():  # as in a terminal, even under a background job
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    # a session of its own: Ctrl-C reaches the whole process group
    return subprocess.Popen(
        cmd,
        cwd=REPO,
        env=full_env,
        stdout=out,
        stderr=subprocess.STDOUT,
        preexec_fn=default_sigint,
        start_new_session=True), out.name


def _wait_for(predicate, proc, timeout=300):
    start = time.time()
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError('the run ended before it could be killed')
        if time.time() - start > timeout:
            proc.kill()
            raise AssertionError('timed out waiting for the run')
        time.sleep(0.1)


@pytest.mark.parametrize(
    'sig', [signal.SIGTERM, signal.SIGKILL], ids=['SIGTERM', 'SIGKILL'])
def test_killed_mid_epoch_resumes_from_the_last_checkpoint(
        setup, tmp_path, sig):
    work = str(tmp_path / 'w')
    proc, out_name = _start(setup, work, epochs=2)
    ckpt = osp.join(work, 'epoch_1.pth')

    def moved_on():  # epoch 1 saved, epoch 2 two iterations in
        return (osp.exists(osp.join(work, 'last_checkpoint'))
                and 'Epoch(train) [2][2/6]' in open(out_name).read())

    _wait_for(moved_on, proc)
    proc.send_signal(sig)
    code = proc.wait(timeout=120)
    out = open(out_name).read()
    assert 'Epoch(train) [2][6/6]' not in out  # killed mid-epoch
    if sig == signal.SIGTERM:
        assert code == 128 + signal.SIGTERM, out[-3000:]
        assert re.search(
            r'tools/train.py: stopped by SIGTERM at iteration \d+ \(epoch '
            rf'2\); the last checkpoint is {re.escape(ckpt)} \(written '
            r'completely before the signal\)\. Continue with: python '
            r'tools/train.py .* --resume', out), out[-3000:]
    else:
        assert code == -signal.SIGKILL
    # the checkpoint written before the kill is complete, and is the only one
    assert open(osp.join(work, 'last_checkpoint')).read().strip() == ckpt
    assert [f for f in os.listdir(work) if '.pth' in f] == ['epoch_1.pth']
    saved = torch.load(ckpt, map_location='cpu')  # weights_only default
    assert saved['meta']['epoch'] == 1 and saved['meta']['iter'] == 6

    proc = run_tool(
        ['tools/train.py', setup['cfg'], '--work-dir', work, '--resume'] +
        options(setup['data'], epochs=2),
        env=env(setup))
    assert 'resumed epoch: 1, iter: 6' in proc.stdout + proc.stderr
    start = torch.load(osp.join(work, 'start_state.pt'))
    assert (start['epoch'], start['iter']) == (1, 6)
    # the resumed run started from the checkpoint's bank, not a random one
    assert torch.equal(start['bank'], saved['state_dict']['memory_bank.bank'])
    final = torch.load(osp.join(work, 'epoch_2.pth'), map_location='cpu')
    assert final['meta']['iter'] == 12
    assert not torch.equal(final['state_dict']['memory_bank.bank'],
                           start['bank'])


# --------------------------------------------------------------------------
# bad images inside data-loader workers
# --------------------------------------------------------------------------
@pytest.fixture(scope='module')
def bad_data(setup):
    """6 good images, a truncated JPEG and an HTML page saved as .jpg."""
    folder = setup['root'] / 'bad8'
    folder.mkdir()
    for name in sorted(os.listdir(setup['data']))[:6]:
        os.link(osp.join(setup['data'], name), str(folder / name))
    good = open(osp.join(setup['data'], 'img_00.jpg'), 'rb').read()
    (folder / 'broken.jpg').write_bytes(good[:len(good) // 2])
    (folder / 'page.jpg').write_text('<html>404 Not Found</html>')
    return str(folder)


def test_bad_image_in_a_worker_stops_naming_the_file(setup, bad_data,
                                                     tmp_path):
    proc = train(
        setup,
        str(tmp_path / 'w'),
        check=False,
        data_root=bad_data,
        negatives=4,
        workers=1)
    assert proc.returncode != 0
    err = proc.stderr
    m = re.search(
        r"tools/train.py: error: cannot decode image '([^']+)': "
        r'(.*)', err)
    assert m, err[-3000:]
    assert m.group(1) in (osp.join(bad_data, 'broken.jpg'),
                          osp.join(bad_data, 'page.jpg'))
    assert 'skip_bad_images=True' in m.group(2)
    assert '(raised in DataLoader worker process 0)' in m.group(2)
    assert 'Traceback' not in err


def test_bad_images_skipped_and_counted_across_workers(setup, bad_data,
                                                       tmp_path):
    work = str(tmp_path / 'w')
    proc = train(
        setup,
        work,
        data_root=bad_data,
        negatives=4,
        workers=1,
        epochs=2,
        extra=['train_dataloader.dataset.pipeline.0.'
               'skip_bad_images=True'])
    logs = log_text(work)
    per_epoch = re.findall(
        r'SkippedImagesHook: 2 undecodable image\(s\) skipped \((\d+) '
        r'time\(s\) in total\) so far', logs)
    assert len(per_epoch) == 2, logs[-3000:]
    assert 2 <= int(per_epoch[0]) < int(per_epoch[1])
    assert re.search(
        r'SkippedImagesHook: summary: 2 undecodable image\(s\) '
        r'skipped \(\d+ time\(s\) in total\) during training', logs)
    assert 'skipped undecodable image' in proc.stdout + proc.stderr + logs
    report = glob.glob(osp.join(work, '*', 'skipped_images.txt'))[0]
    listed = {line.split('\t')[1] for line in open(report)}
    assert listed == {
        osp.join(bad_data, 'broken.jpg'),
        osp.join(bad_data, 'page.jpg')
    }
    ckpt = torch.load(osp.join(work, 'epoch_2.pth'), map_location='cpu')
    assert ckpt['state_dict']['memory_bank.bank'].shape == (8, 128)


# --------------------------------------------------------------------------
# preflight: dataset and --resume errors (in-process: main() of the tool)
# --------------------------------------------------------------------------
def _main(setup, *args, data_root=None):
    from train import main
    if setup['helpers'] not in sys.path:  # custom_imports of the config
        sys.path.insert(0, setup['helpers'])
    argv = [setup['cfg'], '--work-dir', str(setup['root'] / 'pre')]
    argv += list(args) + options(data_root or setup['data'])
    # the runner's messages name the program of sys.argv
    with mock.patch.object(sys, 'argv', ['tools/train.py'] + argv), \
            pytest.raises(SystemExit) as exc:
        main(argv)
    return str(exc.value.code)


def test_dataset_errors_name_the_path(setup, tmp_path):
    empty = tmp_path / 'empty'
    (empty / 'sub').mkdir(parents=True)
    msg = _main(setup, data_root=str(empty))
    assert msg.startswith(f"tools/train.py: dataset: image folder "
                          f"'{empty}' (train_dataloader.dataset) contains "
                          'no images')
    missing = str(tmp_path / 'missing')
    msg = _main(setup, data_root=missing)
    assert (f'train_dataloader.dataset.data_root {missing!r} is not a folder'
            in msg)
    msg = _main(setup, '--cfg-options',
                'train_dataloader.dataset.ann_file=meta/train.txt')
    ann = osp.join(setup['data'], 'meta/train.txt')
    assert f'annotation file {ann!r} (train_dataloader.dataset.ann_file) ' \
        'not found' in msg


def test_resume_refuses_bad_checkpoints(setup, nan_run, tmp_path):
    _, nan_work = nan_run
    good = osp.join(nan_work, 'epoch_1.pth')
    # truncated (e.g. copied while being written)
    trunc = str(tmp_path / 'epoch_3.pth')
    data = open(good, 'rb').read()
    open(trunc, 'wb').write(data[:len(data) // 2])
    msg = _main(setup, '--resume', trunc)
    assert msg.startswith(f'tools/train.py: --resume: cannot read checkpoint '
                          f'{trunc!r}')
    assert 'The file is truncated or not a PyTorch checkpoint' in msg
    # a checkpoint that runs code when unpickled
    evil = str(tmp_path / 'evil.pth')
    code = (
        'import os, sys, torch\n'
        'class Evil:\n'
        '    def __reduce__(self):\n'
        '        return (os.system, ("touch " + sys.argv[1] + ".pwned",))\n'
        'torch.save({"state_dict": {}, "meta": {"epoch": 1, "iter": 1, '
        '"hook": Evil()}}, sys.argv[1])\n')
    run_tool(['-c', code, evil])
    msg = _main(setup, '--resume', evil)
    assert f'refusing to load checkpoint {evil!r}' in msg
    assert 'could execute arbitrary code' in msg
    assert not osp.exists(evil + '.pwned')
    # the runner's own loader refuses it too (weights_only stays on)
    from mmengine.runner.checkpoint import _load_checkpoint
    with pytest.raises(Exception, match='Weights only load failed'):
        _load_checkpoint(evil, map_location='cpu')
    assert not osp.exists(evil + '.pwned')
    # a supervised classifier written by MMEngine
    from mmengine.registry import DefaultScope
    from mmpretrain.models import ImageClassifier
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        clf = ImageClassifier(
            backbone=dict(type='ResNet', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=512))
    other = str(tmp_path / 'resnet18_8xb32_in1k.pth')
    torch.save(
        dict(meta=dict(epoch=100, iter=500000), state_dict=clf.state_dict()),
        other)
    msg = _main(setup, '--resume', other)
    assert f'{other!r} is not a PIRL checkpoint' in msg
    assert 'looks like a supervised classifier' in msg
    assert 'use load_from or the backbone\'s init_cfg instead' in msg
    # the good checkpoint is still fine
    from pirl_plugin.utils.checkpoints import check_resume_checkpoint
    assert check_resume_checkpoint(good)['bank_shape'] == (24, 128)


@pytest.mark.parametrize('tool', ['ours', 'mmpretrain'])
def test_ctrl_c_stops_cleanly_with_the_resume_command(setup, tmp_path, tool):
    """Ctrl-C (SIGINT to the process group: the main process and its
    data-loader worker) ends like SIGTERM, through our tools/train.py and
    MMPretrain's own alike: exit status 130, the last checkpoint and the
    command that continues the run with that same script, no traceback;
    the command resumes the run from the checkpoint."""
    script = 'tools/train.py' if tool == 'ours' else stock_train_py()
    work = str(tmp_path / 'w')
    proc, out_name = _start(setup, work, epochs=2, workers=1, tool=script)
    ckpt = osp.join(work, 'epoch_1.pth')

    def moved_on():
        return (osp.exists(osp.join(work, 'last_checkpoint'))
                and 'Epoch(train) [2][1/6]' in open(out_name).read())

    _wait_for(moved_on, proc)
    os.killpg(proc.pid, signal.SIGINT)
    code = proc.wait(timeout=120)
    out = open(out_name).read()
    assert code == 128 + signal.SIGINT, out[-3000:]
    prog = re.escape(stock_prog(osp.join(REPO, script)))
    m = re.search(
        rf'{prog}: stopped by SIGINT at iteration \d+ \(epoch 2\); the last '
        rf'checkpoint is {re.escape(ckpt)} \(written completely before the '
        r'signal\)\. Continue with: (python .* --resume)$', out, re.M)
    assert m, out[-3000:]
    assert 'Traceback' not in out and 'KeyboardInterrupt' not in out
    assert open(osp.join(work, 'last_checkpoint')).read().strip() == ckpt

    cmd = shlex.split(m.group(1))
    assert cmd[:3] == [
        'python', stock_prog(osp.join(REPO, script)), setup['cfg']
    ]
    proc = run_tool(cmd[1:], env=env(setup))  # this interpreter, from REPO
    assert 'resumed epoch: 1, iter: 6' in proc.stdout + proc.stderr
    final = torch.load(osp.join(work, 'epoch_2.pth'), map_location='cpu')
    assert final['meta']['iter'] == 12
