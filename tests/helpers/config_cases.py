"""Bad config values derived from the shipped PIRL configs.

:data:`COMPONENT_SPECS` (keyed by component type and argument) and
:data:`FIELD_SPECS` (keyed by config path) declare, for each documented
field a component or the runner validates, the out-of-range values to try
and whether None (a missing value) is allowed. :func:`generate_cases`
walks the configs and, for every such field a config sets, makes one case
per out-of-range value, one wrong-type value and one missing value (None);
and for each component of those types a misspelt ``type``. Every case must
be refused with one line naming the field.
"""
import glob
import os.path as osp
import re
from typing import Dict, List

from mmengine.config import Config

from pirl_plugin.engine.config_checks import iter_dicts

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'pirl', '*.py')))

# A case tried with a number field: a string; with a choice or tuple
# field: a number.
WRONG_TYPE = {'number': 'abc', 'choice': 5, 'scale': 'abc'}


def _cell_plus_one(node: dict) -> int:
    return node.get('jigsaw_crop_size', 255) // node.get('grid_size', 3) + 1


def spec(kind, bad=(), none_ok=False):
    """A field's declared checks: its kind ('number', 'choice' or 'scale'),
    its out-of-range values (or functions of the component's config dict
    giving one) and whether None is allowed."""
    return dict(kind=kind, bad=list(bad), none_ok=none_ok)


COMPONENT_SPECS: Dict[str, Dict[str, dict]] = {
    'NCEHead': {
        'temperature': spec('number', [0, -1]),
        'loss_lambda': spec('number', [-0.1, 2]),
        'num_negatives': spec('number', [0, -5, 2.5]),
        'z_momentum': spec('number', [1, -0.5]),
        'eps': spec('number', [-1]),
        'loss_type': spec('choice', ['ncee']),
        'negative_sampling': spec('choice', ['random']),
    },
    'MemoryBank': {
        'feat_dim': spec('number', [0, -1]),
        'momentum': spec('number', [1, -0.5]),
        'num_samples': spec('number', [1, 0], none_ok=True),
        'dtype': spec('choice', ['float64']),
        'score_mode': spec('choice', ['sparse']),
    },
    'PIRLJigsawNeck': {
        key: spec('number', [0, -1])
        for key in ('in_channels', 'mid_channels', 'out_channels',
                    'num_patches')
    },
    'PIRLJigsawTransform': {
        'img_size': spec('number', [0, -1]),
        'jigsaw_crop_size': spec('number', [0, 97]),
        'grid_size': spec('number', [0, -1]),
        'patch_size': spec('number', [0, _cell_plus_one]),
        'img_flip_prob': spec('number', [-0.1, 1.5]),
        'img_crop_scale': spec('scale', [(0, 1), (0.5, 1.2), (0.9, 0.5)]),
        'jigsaw_crop_scale': spec('scale', [(0, 1), (0.6, 1.2)]),
        'recipe': spec('choice', ['simclr']),
        'interpolation': spec('choice', ['lanczos']),
    },
    'BankConsistencyHook': {
        'interval': spec('number', [-1])
    },
}
# PIRL with several transformations: NCEHead's arguments, and the jigsaw
# + rotation view transform takes the jigsaw one's arguments
COMPONENT_SPECS['PIRLJigsawRotationTransform'] = COMPONENT_SPECS[
    'PIRLJigsawTransform']
COMPONENT_SPECS['MultiNCEHead'] = COMPONENT_SPECS['NCEHead']

# OpenMMLab fields, keyed by their path (N: any list index).
FIELD_SPECS: Dict[str, dict] = {
    'train_dataloader.batch_size': spec('number', [0, -1, 2.5]),
    'train_dataloader.num_workers': spec('number', [-1, 1.5]),
    'train_cfg.max_epochs': spec('number', [0, -1]),
    'train_cfg.max_iters': spec('number', [0, -1]),
    'param_scheduler.N.T_max': spec('number', [0, -1], none_ok=True),
    'param_scheduler.N.begin': spec('number', [-1]),
    'param_scheduler.N.end': spec('number', [-1]),
}
# The config's fields that the runner reads.
ROOTS = ('model', 'train_dataloader', 'param_scheduler', 'train_cfg',
         'custom_hooks')
# Components whose type is tried misspelt, keyed by their path.
TYPED_PATHS = re.compile(r'model\.(head|memory_bank|neck|transform_neck|'
                         r'transforms\.\d+\.neck)|'
                         r'train_dataloader\.dataset\.pipeline\.\d+|'
                         r'param_scheduler\.\d+|train_cfg|custom_hooks\.\d+')


def cli(value) -> str:
    """A value as --cfg-options writes it."""
    if isinstance(value, tuple):
        return '(' + ','.join(str(v) for v in value) + ')'
    return str(value)


def _field_cases(path: str, node: dict, key: str, fspec: dict) -> List:
    field = f'{path}.{key}' if path else key
    values = [v(node) if callable(v) else v for v in fspec['bad']]
    kinds = ['out-of-range'] * len(values)
    values.append(WRONG_TYPE[fspec['kind']])
    kinds.append('wrong-type')
    if not fspec['none_ok']:
        values.append(None)
        kinds.append('missing')
    return [
        dict(field=field, option=f'{field}={cli(v)}', kind=k)
        for v, k in zip(values, kinds)
    ]


def _cases_of_dict(path: str, node: dict) -> List[dict]:
    cases = []
    ctype = str(node.get('type', '')).split('.')[-1]
    for key in node:
        generic = re.sub(r'\.\d+\.', '.N.', f'{path}.{key}')
        fspec = COMPONENT_SPECS.get(ctype,
                                    {}).get(key) or FIELD_SPECS.get(generic)
        if fspec is not None:
            cases += _field_cases(path, node, key, fspec)
    if ctype and TYPED_PATHS.fullmatch(path):
        typo = ctype[:-2] + ctype[-1] + ctype[-2]  # last two swapped
        cases.append(
            dict(
                field=f'{path}.type',
                option=f'{path}.type={typo}',
                kind='misspelt-type',
                closest=ctype))
    return cases


def generate_cases(configs=CONFIGS) -> List[dict]:
    """The cases of the configs: dicts with ``config``, ``field`` (the path
    the message must name), ``option`` (the --cfg-options item) and
    ``kind``; a case that several configs share is tried once, with the
    first."""
    seen, cases = set(), []
    for cfg_path in configs:
        cfg = Config.fromfile(cfg_path)
        for path, node in iter_dicts({k: cfg.get(k) for k in ROOTS}):
            for case in _cases_of_dict(path, node):
                if case['option'] not in seen:
                    seen.add(case['option'])
                    cases.append(dict(case, config=cfg_path))
    return cases
