"""The private attributes of MMEngine, MMPretrain and PyTorch the plugin
reads, all through pirl_plugin/utils/private_access.py, against the
installed libraries; and no other module of pirl_plugin/ or tools/ reads
one."""
import os
import os.path as osp
import re

import torch
from conftest import REPO
from torch.utils.data import DataLoader, TensorDataset

from pirl_plugin.utils import private_access as pa


def test_train_loop_built_follows_mmengine(tmp_path):
    from mmengine.runner import Runner
    runner = Runner(
        model=torch.nn.Linear(2, 1),
        work_dir=str(tmp_path),
        train_dataloader=DataLoader(TensorDataset(torch.zeros(4, 2))),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)))
    assert not pa.train_loop_built(runner)
    runner.train_loop  # the public property builds it
    assert pa.train_loop_built(runner)


def test_dataloader_worker_pids():
    data = TensorDataset(torch.zeros(4, 2))
    assert pa.dataloader_worker_pids(iter(DataLoader(data))) == []
    it = iter(DataLoader(data, num_workers=1))
    pids = pa.dataloader_worker_pids(it)
    assert len(pids) == 1 and pids[0] != os.getpid()
    del it


def test_history_buffer_statistics():
    """The statistics registered through HistoryBuffer's public
    register_statistics are the ones listed."""
    from mmengine.logging.history_buffer import HistoryBuffer

    def pirl_test_statistic(self):  # pragma: no cover - never called
        return 0

    assert 'pirl_test_statistic' not in pa.history_buffer_statistics()
    HistoryBuffer.register_statistics(pirl_test_statistic)
    try:
        assert 'pirl_test_statistic' in pa.history_buffer_statistics()
    finally:
        # a local function left registered makes later checkpoints (which
        # pickle the message hub's buffers) unpicklable
        HistoryBuffer._statistics_methods.pop('pirl_test_statistic', None)


def test_preprocessor_flags():
    from mmpretrain.models import SelfSupDataPreprocessor
    plain = SelfSupDataPreprocessor()
    assert not pa.preprocessor_normalizes(plain)
    assert not pa.preprocessor_converts_channels(plain)
    pre = SelfSupDataPreprocessor(mean=[1, 2, 3], std=[1, 1, 1], to_rgb=True)
    assert pa.preprocessor_normalizes(pre)
    assert pa.preprocessor_converts_channels(pre)


def test_moco_enqueue_pushes_keys():
    from mmpretrain.models import MoCo
    model = MoCo.__new__(MoCo)
    torch.nn.Module.__init__(model)
    model.queue_len = 4
    model.register_buffer('queue', torch.zeros(3, 4))
    model.register_buffer('queue_ptr', torch.zeros(1, dtype=torch.long))
    keys = torch.eye(3)[:2]
    pa.moco_enqueue(model, keys)
    assert torch.equal(model.queue[:, :2], keys.T)
    assert int(model.queue_ptr) == 2


# attributes of this project's own classes that look private to the grep
# below but are not other libraries'
_OWN = re.compile(r'\b(self|cls|super\(\)|PIRL)\._')


def test_no_other_module_reads_a_private_attribute():
    """grep pirl_plugin/ and tools/ for `x._name` reads (and getattr(x,
    '_name')): only the accessor module may read another library's."""
    offenders = []
    for top in ('pirl_plugin', 'tools'):
        for root, _, files in os.walk(osp.join(REPO, top)):
            for name in files:
                path = osp.join(root, name)
                if not name.endswith('.py') or path.endswith(
                        'private_access.py'):
                    continue
                for n, line in enumerate(open(path), 1):
                    code = line.split('#')[0]
                    if code.lstrip().startswith(('from ', 'import ')):
                        continue  # numpy._core in compat.py: not a read
                    hits = re.findall(
                        r"[\w\)\]]\._[a-z]\w*|getattr\([^,]+,"
                        r"\s*'_[a-z]", code)
                    if hits and not _OWN.search(code):
                        offenders.append(f'{path}:{n}: {line.strip()}')
    known = [  # other issues' files (see the report of issue 25)
        'photometric.py'
    ]
    offenders = [o for o in offenders if not any(k in o for k in known)]
    assert not offenders, '\n'.join(offenders)
