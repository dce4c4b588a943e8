"""Every bad config value a one-line answer: the cases that
tests/helpers/config_cases.py derives from the shipped PIRL configs, tried
through our tools/train.py and MMPretrain's own tools/train.py (each in
one long-lived process, tests/helpers/entry_driver.py), a few of them in
their own process too, and through ``mim train`` where mim is installed.

Each case must end with exit status 1 and one line that starts with the
program's name and names the field, without a traceback, and leave
nothing in the work directory but the log."""
import functools
import json
import os
import os.path as osp
import re
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, run_tool

HELPERS = osp.join(REPO, 'tests', 'helpers')
sys.path.insert(0, HELPERS)

from config_cases import generate_cases  # noqa: E402

DEMO = osp.join(REPO, 'configs', 'pirl',
                'pirl_resnet18_1xb64-coslr-20e_shapes-demo.py')
# no data is read: every case is refused before; a case that is not
# refused fails on this missing folder instead, with another message
NO_DATA = 'train_dataloader.dataset.data_root=/nonexistent/pirl-data'


@functools.lru_cache()
def cases():
    return generate_cases()


def _stock():
    from test_robustness_e2e import stock_prog, stock_train_py
    path = stock_train_py()
    return path, stock_prog(path)


def entry(name):
    """(script, program name in messages) of an entry point."""
    if name == 'ours':
        return 'tools/train.py', 'tools/train.py'
    return _stock()


def written(work):
    """Files under ``work`` other than logs, relative to it."""
    found = []
    for root, _, files in os.walk(work):
        found += [
            osp.relpath(osp.join(root, f), work) for f in files
            if not f.endswith('.log')
        ]
    return found


def problems(case, res, prog, work):
    """What is wrong with how a case ended (empty when all is right)."""
    where = f"{case['option']} ({osp.basename(case['config'])})"
    if res['escaped']:
        return [f'{where}: escaped\n{res["escaped"][-1500:]}']
    msg, found = res['message'] or '', []
    if res['status'] != 1:
        found.append(f'exit status {res["status"]}')
    if not msg.startswith(f'{prog}: ') or '\n' in msg:
        found.append(f'not one line starting with the program: {msg!r}')
    if not re.search(re.escape(case['field']) + r'\b', msg):
        found.append(f'the field is not named: {msg!r}')
    hint = ('did you mean ' + repr(case['closest'])
            if case['kind'] == 'misspelt-type' else 'must ')
    if hint not in msg:
        found.append(f'no {hint!r}: {msg!r}')
    if 'Traceback' in res['stdout'] + res['stderr']:
        found.append('a traceback was printed')
    if written(work):
        found.append(f'wrote {written(work)}')
    return [f'{where}: {p}' for p in found]


def run_driver(script, prog, todo, tmp_path):
    works = [str(tmp_path / f'w{i}') for i in range(len(todo))]
    argv = [
        dict(argv=[
            c['config'], '--work-dir', w, '--cfg-options', c['option'], NO_DATA
        ]) for c, w in zip(todo, works)
    ]
    (tmp_path / 'cases.json').write_text(json.dumps(argv))
    out = tmp_path / 'results.json'
    run_tool([
        osp.join(HELPERS, 'entry_driver.py'), script, prog,
        str(tmp_path / 'cases.json'),
        str(out)
    ],
             env={'OMP_NUM_THREADS': '1'})
    return json.loads(out.read_text()), works


@pytest.mark.slow
@pytest.mark.parametrize('name', ['ours', 'mmpretrain'])
def test_every_generated_case_ends_in_one_line(name, tmp_path):
    script, prog = entry(name)
    todo = cases()
    results, works = run_driver(script, prog, todo, tmp_path)
    found = [
        p for c, r, w in zip(todo, results, works)
        for p in problems(c, r, prog, w)
    ]
    assert not found, f'{len(found)} problems:\n' + '\n'.join(found[:15])


def test_generated_cases_cover_each_kind_and_component():
    got = cases()
    kinds = {c['kind'] for c in got}
    assert kinds == {'out-of-range', 'wrong-type', 'missing', 'misspelt-type'}
    fields = {c['field'] for c in got}
    for field in ('model.head.temperature', 'model.head.loss_lambda',
                  'model.memory_bank.momentum',
                  'model.transform_neck.in_channels',
                  'train_dataloader.dataset.pipeline.1.patch_size',
                  'train_dataloader.batch_size',
                  'train_dataloader.num_workers', 'train_cfg.max_epochs',
                  'param_scheduler.0.T_max'):
        assert field in fields, field
    assert len({c['config'] for c in got}) >= 3


def test_readme_states_the_number_of_cases():
    readme = open(osp.join(REPO, 'README.md')).read()
    assert f'**{len(cases())} cases**' in readme


def test_a_plain_value_error_keeps_its_traceback(monkeypatch):
    """A bug (a plain ValueError in a component) is not a user error: the
    runner lets it through instead of printing one line."""
    from mmengine.config import Config

    from pirl_plugin.engine import PIRLRunner
    from pirl_plugin.models.heads import NCEHead

    def broken(self, *args, **kwargs):
        raise ValueError('a bug')

    monkeypatch.setattr(NCEHead, '__init__', broken)
    with pytest.raises(ValueError, match='a bug'):
        PIRLRunner.from_cfg(Config.fromfile(DEMO))


# --------------------------------------------------------------------------
# each in its own process, as a user runs it
# --------------------------------------------------------------------------
E2E = [
    ('ours', 'model.head.temperature=-1', 'model.head.temperature: NCEHead '
     'temperature must be > 0, got -1'),
    ('ours', 'train_dataloader.dataset.pipeline.1.patch_size=40',
     'train_dataloader.dataset.pipeline.1.patch_size: patch_size (40) must '
     'be in [1, 32]'),
    ('mmpretrain', 'model.head.loss_lambda=2', 'model.head.loss_lambda: '
     'NCEHead loss_lambda must be in [0, 1], got 2'),
    ('mmpretrain', 'model.head.num_negatives=-5',
     'model.head.num_negatives: NCEHead num_negatives must be a positive '
     'integer, got -5'),
    ('mmpretrain', 'train_dataloader.batch_size=0',
     'train_dataloader.batch_size must be an integer >= 1, got 0'),
]


@pytest.mark.slow
@pytest.mark.parametrize('name,option,message', E2E)
def test_one_line_in_its_own_process(name, option, message, tmp_path):
    script, prog = entry(name)
    work = str(tmp_path / 'w')
    proc = run_tool(
        [script, DEMO, '--work-dir', work, '--cfg-options', option, NO_DATA],
        env={'OMP_NUM_THREADS': '1'},
        check=False)
    assert proc.returncode == 1, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f'{prog}: error: {message}'), proc.stderr[-3000:]
    assert 'Traceback' not in proc.stdout + proc.stderr
    assert not written(work)


@pytest.mark.slow
def test_mim_train_gives_the_same_line(tmp_path):
    mim = shutil.which('mim', path=osp.dirname(sys.executable))
    if mim is None:
        pytest.skip('mim is not installed in this environment')
    work = str(tmp_path / 'w')
    proc = subprocess.run([
        mim, 'train', 'mmpretrain', DEMO, '--work-dir', work, '--cfg-options',
        'model.head.temperature=-1', NO_DATA
    ],
                          cwd=REPO,
                          capture_output=True,
                          text=True,
                          timeout=600,
                          env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.returncode != 0
    err = proc.stderr
    line = ('error: model.head.temperature: NCEHead temperature must be > 0, '
            'got -1')
    assert line in err, err[-3000:]
    # MMPretrain's tools/train.py (mim's child) ends with our one line and
    # no traceback; mim then re-raises the child's exit status as its own
    # CalledProcessError, a traceback of mim's frames only
    ours = err.index(line)
    assert 'Traceback' not in err[:ours], err[-3000:]
    after = err[ours + len(line):]
    if 'Traceback' in after:
        assert 'CalledProcessError' in after and 'pirl_plugin' not in after
    assert not written(work)


@pytest.mark.parametrize('folder', ['pirl', 'benchmarks/mmpretrain'])
def test_shipped_configs_pass_the_checks(folder):
    """No false refusal: every shipped config of the plugin's runner
    passes the checks run before the build."""
    import glob

    from mmengine.config import Config

    from pirl_plugin.engine.config_checks import check_config_before_build
    paths = sorted(glob.glob(osp.join(REPO, 'configs', folder, '*.py')))
    assert paths
    for path in paths:
        cfg = Config.fromfile(path)
        if 'PIRLRunner' in str(cfg.get('runner_type')):
            check_config_before_build(cfg)


@pytest.mark.parametrize('option,value,message', [
    ('model.head.temperature', -1,
     'model.head.temperature: NCEHead temperature must be > 0, got -1'),
    ('train_dataloader.dataset.pipeline.1.img_jitter', dict(brightness=-1),
     'train_dataloader.dataset.pipeline.1.img_jitter.brightness: brightness '
     'must be >= 0, got -1'),
    ('model.head.num_negative', 5,
     "model.head.num_negative: NCEHead has no argument 'num_negative'; did "
     "you mean 'num_negatives'?"),
    ('model.memory_bank.type', 'MemoryBnak',
     "model.memory_bank.type='MemoryBnak' is not in MMPretrain's model "
     "registry; did you mean 'MemoryBank'?"),
    ('param_scheduler.0.end', 0,
     'param_scheduler.0.end=0 must be larger than param_scheduler.0.begin=0'),
    ('train_cfg.max_epochs', 2.5,
     'train_cfg.max_epochs must be an integer >= 1, got 2.5'),
])
def test_checks_before_the_build_name_the_field(option, value, message):
    from mmengine.config import Config

    from pirl_plugin.engine.config_checks import check_config_before_build
    from pirl_plugin.utils.config_errors import ConfigValueError
    cfg = Config.fromfile(DEMO)
    cfg.merge_from_dict({option: value})
    with pytest.raises(ConfigValueError) as exc:
        check_config_before_build(cfg)
    assert str(exc.value) == message
