"""Checks of a training config before MMEngine's runner writes or builds
anything: the OpenMMLab-level fields a PIRL config sets (the training
loader, the loop, the learning-rate schedule), the component types, and the
arguments of the plugin's own components.

Each refusal is a :class:`~pirl_plugin.utils.config_errors.
ConfigValueError` whose message names the field as a config writes it
(``model.head.temperature``); :class:`~.runner.PIRLRunner` prints it on one
line.
"""
import copy
import difflib
import inspect
import re
from typing import Any, Iterator, Optional, Tuple

from mmpretrain import registry

from pirl_plugin.utils.config_errors import ConfigValueError, is_number

# Where a config holds components, and the registry that builds them.
REGISTRY_PATHS = (
    (r'model(\.(transforms\.\d+\.)?\w+)?', 'MODELS'),
    (r'train_dataloader\.dataset', 'DATASETS'),
    (r'train_dataloader\.dataset\.pipeline\.\d+', 'TRANSFORMS'),
    (r'train_dataloader\.sampler', 'DATA_SAMPLERS'),
    (r'param_scheduler\.\d+', 'PARAM_SCHEDULERS'),
    (r'train_cfg', 'LOOPS'),
    (r'optim_wrapper', 'OPTIM_WRAPPERS'),
    (r'optim_wrapper\.optimizer', 'OPTIMIZERS'),
    (r'(custom_hooks\.\d+|default_hooks\.\w+)', 'HOOKS'),
)
# The components built (and so checked) before the runner starts: the
# plugin's own, under these paths, without nested components (building a
# hook alone has no side effect: they act from before_run on).
PREBUILT = re.compile(r'model(\.\w+)+|train_dataloader\.dataset\.pipeline'
                      r'\.\d+|custom_hooks\.\d+')


def iter_dicts(node: Any, path: str = '') -> Iterator[Tuple[str, dict]]:
    """(path, dict) of ``node`` and of every dict nested in it (through
    dicts and lists; ``init_cfg`` left out), paths as ``--cfg-options``
    writes them (``train_dataloader.dataset.pipeline.1``)."""
    if isinstance(node, dict):
        yield path, node
        items = node.items()
    elif isinstance(node, (list, tuple)):
        items = enumerate(node)
    else:
        return
    for key, value in items:
        if key != 'init_cfg':
            yield from iter_dicts(value, f'{path}.{key}' if path else str(key))


def _typed_dicts(node: Any) -> Iterator[Tuple[str, dict]]:
    """(path, dict) of every dict with a ``type`` nested in ``node``."""
    for path, sub in iter_dicts(node):
        if path and isinstance(sub.get('type'), str):
            yield path, sub


def _registry_of(path: str):
    return next(
        (getattr(registry, name)
         for pattern, name in REGISTRY_PATHS if re.fullmatch(pattern, path)),
        None)


def _names(reg) -> set:
    names = set()
    while reg is not None:
        names |= set(reg.module_dict)
        reg = reg.parent
    return names


def _closest(name: str, names) -> str:
    close = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.6)
    return (f'; did you mean {close[0]!r}?'
            if close else '; check the name and custom_imports')


def _resolve(path: str, node: dict):
    """The class of the component at ``path``, or None outside the
    registry paths."""
    reg = _registry_of(path)
    if reg is None:
        return None
    cls = reg.get(node['type'])
    if cls is None:
        name = node['type'].split('.')[-1]
        raise ConfigValueError(
            f'{path}.type={node["type"]!r} is not in MMPretrain\'s '
            f'{reg.name} registry{_closest(name, _names(reg))}',
            f'{path}.type')
    return cls


def _prebuild(path: str, cls, node: dict) -> None:
    """Build one of the plugin's components alone: its argument checks
    run before the runner writes anything."""
    args = {k: copy.deepcopy(v) for k, v in node.items() if k != 'type'}
    params = inspect.signature(cls).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        for key in args:
            if key not in params:
                raise ConfigValueError(
                    f'{path}.{key}: {cls.__name__} has no argument {key!r}'
                    f'{_closest(key, params)}', f'{path}.{key}')
    try:
        cls(**args)
    except ConfigValueError as exc:
        field = f'{path}.{exc.field}' if exc.field else path
        raise ConfigValueError(f'{field}: {exc}', field) from None


def _nested(node: dict) -> bool:
    """Whether a component's arguments hold other components."""
    return next(_typed_dicts(node), None) is not None


def check_components(cfg: dict) -> None:
    """Refuse a component type that no registry holds (naming the closest
    registered name), and build the plugin's own components of the model
    and of the training pipeline alone, so that their argument checks run
    first.

    Args:
        cfg (dict): the training config.

    Raises:
        ConfigValueError: naming the field.
    """
    if not isinstance(cfg, dict):  # an mmengine Config
        cfg = cfg.to_dict()
    for path, node in _typed_dicts(cfg):
        cls = _resolve(path, node)
        if (cls is not None and cls.__module__.startswith('pirl_plugin.')
                and PREBUILT.fullmatch(path) and not _nested(node)):
            _prebuild(path, cls, node)


def _require(path: str, value: Any, ok: bool, what: str) -> None:
    if not ok:
        raise ConfigValueError(f'{path} must be {what}, got {value!r}', path)


def _check_int(node: dict, path: str, key: str, least: int) -> None:
    if key in node:
        value = node[key]
        _require(
            f'{path}.{key}', value,
            isinstance(value, int) and not isinstance(value, bool)
            and value >= least, f'an integer >= {least}')


def _check_scheduler(path: str, sched: dict) -> None:
    for key in ('begin', 'end', 'T_max'):
        if key in sched:
            value = sched[key]
            least = 'a number > 0' if key == 'T_max' else 'a number >= 0'
            _require(
                f'{path}.{key}', value,
                is_number(value)
                and (value > 0 if key == 'T_max' else value >= 0), least)
    begin, end = sched.get('begin', 0), sched.get('end')
    if end is not None and end <= begin:
        raise ConfigValueError(
            f'{path}.end={end} must be larger than {path}.begin={begin}',
            f'{path}.end')


def check_fields(cfg: dict) -> None:
    """Refuse bad values of the OpenMMLab fields a PIRL config sets:
    ``train_dataloader.batch_size`` and ``num_workers``,
    ``train_cfg.max_epochs`` / ``max_iters`` / ``val_interval``, and the
    ``begin``, ``end`` and ``T_max`` of each ``param_scheduler``.

    Args:
        cfg (dict): the training config.

    Raises:
        ConfigValueError: naming the field.
    """
    loader = cfg.get('train_dataloader')
    if isinstance(loader, dict):
        _check_int(loader, 'train_dataloader', 'batch_size', 1)
        _check_int(loader, 'train_dataloader', 'num_workers', 0)
    loop = cfg.get('train_cfg')
    if isinstance(loop, dict):
        for key in ('max_epochs', 'max_iters', 'val_interval'):
            _check_int(loop, 'train_cfg', key, 1)
    scheds: Optional[Any] = cfg.get('param_scheduler')
    if isinstance(scheds, dict) and 'type' in scheds:
        _check_scheduler('param_scheduler', scheds)
    elif isinstance(scheds, (list, tuple)):
        for i, sched in enumerate(scheds):
            if isinstance(sched, dict):
                _check_scheduler(f'param_scheduler.{i}', sched)


def check_config_before_build(cfg: dict) -> None:
    """All the checks above, in order: fields, then components.

    Args:
        cfg (dict): the training config (not modified).

    Raises:
        ConfigValueError: naming the field.
    """
    check_fields(cfg)
    check_components(cfg)
