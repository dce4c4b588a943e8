"""The configs folder in OpenMMLab's layout: every config loads (a broken
``_base_`` path fails here), the algorithm folders follow MMPretrain's
naming and say in their names what the config does, and every path that
a metafile.yml, a README or the code names exists (so a rename cannot
leave them stale)."""
import glob
import importlib.util
import os
import os.path as osp
import re

import pytest
import yaml
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
ALGORITHMS = ('pirl', 'jigsaw', 'rotation', 'mocov2')


def _rel(path: str) -> str:
    return osp.relpath(path, REPO)


# The evaluation suite file lists tasks, not a model (tests/test_eval_suite.py
# reads it).
SUITE_FILE = osp.join('configs', 'benchmarks', 'eval_suite.py')
CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in _rel(p).split(os.sep) and _rel(p) != SUITE_FILE)

# {algorithm}_{backbone}_{gpus}xb{batch}-{training settings}-{N}e_{dataset}
NAME = re.compile(r'^(?P<algorithm>[a-z0-9]+(?:-[a-z0-9]+)*)'
                  r'_(?P<backbone>resnet(?P<depth>\d+)(?:w(?P<width>\d+))?)'
                  r'_(?P<gpus>\d+)xb(?P<batch>\d+)'
                  r'-(?P<settings>(?:[a-z0-9.]+-)*)(?P<epochs>\d+)e'
                  r'_(?P<dataset>in1k|shapes-demo|digits)\.py$')
DATASET_ROOTS = {
    'in1k': 'data/imagenet',
    'shapes-demo': 'data/pirl_demo',
    'digits': 'data/digits'
}


def _algorithm_folder(path: str):
    parts = _rel(path).split(os.sep)
    return parts[1] if len(parts) > 2 and parts[1] in ALGORITHMS else None


def _check_name(path: str, cfg: Config) -> None:
    """The name of a config in an algorithm folder against its content."""
    name = osp.basename(path)
    m = NAME.match(name)
    assert m, (f'{_rel(path)}: name it {{algorithm}}_{{backbone}}_'
               f'{{gpus}}xb{{batch}}-{{schedule}}_{{dataset}}.py as '
               'MMPretrain does, e.g. pirl_resnet50_8xb32-coslr-800e_in1k.py')
    folder = _algorithm_folder(path)
    assert m['algorithm'].split('-')[0] == folder, (
        f'{_rel(path)}: a {m["algorithm"]} config in configs/{folder}/')
    backbone = cfg.model.backbone
    assert backbone.depth == int(m['depth']), f'{name}: depth'
    if m['width']:
        assert backbone.base_channels == int(m['width']), f'{name}: width'
    else:
        assert backbone.get('base_channels', 64) == 64, f'{name}: width'
    assert cfg.train_dataloader.batch_size == int(m['batch']), f'{name}'
    assert cfg.train_cfg.max_epochs == int(m['epochs']), f'{name}: epochs'
    settings = m['settings'].rstrip('-').split('-')
    assert settings[-1] == 'coslr', f'{name}: schedule'
    sched = cfg.param_scheduler[0]
    assert sched.type == 'CosineAnnealingLR'
    assert sched.T_max == sched.end == cfg.train_cfg.max_epochs, name
    root = cfg.train_dataloader.dataset.data_root
    assert root.startswith(DATASET_ROOTS[m['dataset']]), f'{name}: {root}'
    for setting in settings[:-1]:
        neg = re.fullmatch(r'neg(\d+)', setting)
        if neg:
            assert cfg.model.head.num_negatives == int(neg[1]), name


@pytest.mark.parametrize('path', CONFIGS, ids=_rel)
def test_config_loads(path):
    cfg = Config.fromfile(path)
    assert 'model' in cfg and 'train_dataloader' in cfg, _rel(path)
    if _algorithm_folder(path):
        _check_name(path, cfg)


def test_the_readme_entry_point_is_the_800e_config():
    alias = Config.fromfile(
        osp.join(REPO, 'configs', 'pirl_r50_8xb32_imagenet.py'))
    config = Config.fromfile(
        osp.join(REPO, 'configs', 'pirl',
                 'pirl_resnet50_8xb32-coslr-800e_in1k.py'))
    assert alias.to_dict() == config.to_dict()


def test_the_name_check_rejects_a_wrong_name(tmp_path):
    """A config whose name says 400 epochs but trains 800 fails."""
    src = osp.join(REPO, 'configs', 'pirl',
                   'pirl_resnet50_8xb32-coslr-800e_in1k.py')
    cfg = Config.fromfile(src)
    bad = osp.join(REPO, 'configs', 'pirl',
                   'pirl_resnet50_8xb32-coslr-400e_in1k.py')
    with pytest.raises(AssertionError, match='epochs'):
        _check_name(bad, cfg)
    with pytest.raises(AssertionError, match='MMPretrain'):
        _check_name(osp.join(REPO, 'configs', 'pirl', 'pirl_r50.py'), cfg)


# ------------------------------------------------------------ metafiles
METAFILES = sorted(glob.glob(osp.join(REPO, 'configs', '*', 'metafile.yml')))


def test_every_algorithm_folder_has_a_readme_and_a_metafile():
    for algorithm in ALGORITHMS:
        for name in ('README.md', 'metafile.yml'):
            assert osp.isfile(osp.join(REPO, 'configs', algorithm, name)), \
                f'configs/{algorithm}/{name} is missing'


def check_metafile(path: str) -> None:
    """Collections and models of a metafile.yml (MMPretrain's schema): the
    README, code file and config of each exist, and the metafile lists
    every config of its folder (ablations included)."""
    with open(path) as f:
        meta = yaml.safe_load(f)
    where = _rel(path)
    collections = {c['Name']: c for c in meta['Collections']}
    for c in collections.values():
        assert osp.isfile(osp.join(REPO, c['README'])), \
            f'{where}: README {c["README"]} does not exist'
        assert c['Paper']['Title'] and c['Paper']['URL'].startswith('https://')
        code = c['Code']['URL']
        assert code.startswith('https://') or osp.isfile(osp.join(
            REPO, code)), f'{where}: code {code} does not exist'
        assert c['Code']['Version']
    listed = set()
    for model in meta['Models']:
        assert model['In Collection'] in collections, where
        config = model['Config']
        assert osp.isfile(osp.join(REPO, config)), \
            f'{where}: Config {config} does not exist'
        assert osp.basename(config)[:-3] == model['Name'], where
        assert model['Results'] is None or isinstance(model['Results'], list)
        listed.add(osp.normpath(config))
    folder = osp.dirname(path)
    on_disk = {
        _rel(p)
        for p in glob.glob(osp.join(folder, '*.py')) +
        glob.glob(osp.join(folder, 'ablations', '*.py'))
    }
    assert on_disk == listed, (
        f'{where}: not listed {sorted(on_disk - listed)}, '
        f'listed but absent {sorted(listed - on_disk)}')


@pytest.mark.parametrize('path', METAFILES, ids=_rel)
def test_metafile_paths_exist(path):
    check_metafile(path)


def test_metafile_check_catches_a_stale_config(tmp_path):
    folder = tmp_path / 'configs' / 'pirl'
    folder.mkdir(parents=True)
    with open(osp.join(REPO, 'configs', 'pirl', 'metafile.yml')) as f:
        meta = yaml.safe_load(f)
    meta['Models'][0]['Config'] = 'configs/pirl/pirl_r50_8xb32_imagenet.py'
    path = folder / 'metafile.yml'
    path.write_text(yaml.safe_dump(meta))
    with pytest.raises(AssertionError, match='does not exist'):
        check_metafile(str(path))


# ------------------------------------------- config paths named elsewhere
def _installed_config_roots():
    roots = [REPO]
    for package in ('mmpretrain', 'mmdet'):
        spec = importlib.util.find_spec(package)
        if spec and spec.origin:
            roots.append(osp.join(osp.dirname(spec.origin), '.mim'))
    return roots


CONFIG_PATH = re.compile(r'(?<![\w/.-])configs/[\w./-]+\.py\b')
LINK = re.compile(r'\]\(([^)#\s]+)')


def test_config_paths_named_in_docs_and_code_exist():
    """Every configs/....py that the README, the docs, the algorithm READMEs,
    the tools, the package or a config names is a file here (or one of
    MMPretrain's / MMDetection's installed configs)."""
    roots = _installed_config_roots()
    files = [osp.join(REPO, 'README.md')]
    for pattern in ('docs/*.md', 'configs/**/*.md', 'configs/**/*.py',
                    'tools/**/*.py', 'pirl_plugin/**/*.py'):
        files += glob.glob(osp.join(REPO, pattern), recursive=True)
    stale = []
    for path in files:
        with open(path, encoding='utf-8') as f:
            text = f.read()
        for m in CONFIG_PATH.finditer(text):
            if not any(osp.isfile(osp.join(r, m[0])) for r in roots):
                stale.append(f'{_rel(path)}: {m[0]}')
    assert not stale, 'config paths that do not exist: ' + '; '.join(stale)


def test_links_in_the_algorithm_readmes_resolve():
    broken = []
    for readme in glob.glob(osp.join(REPO, 'configs', '*', 'README.md')):
        with open(readme, encoding='utf-8') as f:
            for target in LINK.findall(f.read()):
                if '://' in target:
                    continue
                if not osp.exists(osp.join(osp.dirname(readme), target)):
                    broken.append(f'{_rel(readme)}: {target}')
    assert not broken, 'broken links: ' + '; '.join(broken)
