"""The untrained baseline of a frozen-feature comparison, named by its
initialisation.

An untrained ResNet is only a fair baseline when it is initialised as the
networks it stands for: torchvision, VISSL and MMPretrain's MoCo v2 build
their ResNets with ``zero_init_residual=False`` (the *standard* init),
while MMPretrain's ``ResNet`` defaults to ``True`` (every residual branch
ends in a zero-initialised BatchNorm, so at initialisation each block is
the identity and the pooled features of all images are nearly alike). The
standard init is the reference; the zero-init network is shown beside it
when the trained networks start from it.
"""
import copy
from typing import Dict, List

#: ``zero_init_residual`` of each named initialisation.
INITS: Dict[str, bool] = dict(standard=False, zero_init=True)

#: How tables, legends and JSON files name each initialisation.
INIT_LABELS: Dict[str, str] = dict(
    standard='standard init (zero_init_residual=False)',
    zero_init='zero-init residual (zero_init_residual=True)')


def check_init(init: str) -> str:
    """Return ``init`` if it names an initialisation of :data:`INITS`.

    Args:
        init (str): ``'standard'`` or ``'zero_init'``.

    Returns:
        str: ``init``.
    """
    if init not in INITS:
        raise ValueError(f'unknown initialisation {init!r}: choose from '
                         f'{sorted(INITS)}')
    return init


def backbone_init(model_cfg: dict) -> str:
    """The named initialisation a model config's ResNet backbone uses.

    Args:
        model_cfg (dict): ``cfg.model`` with a ``backbone``.

    Returns:
        str: ``'zero_init'`` when ``zero_init_residual`` is True or unset
        (MMPretrain's default), else ``'standard'``.
    """
    zero = dict(model_cfg['backbone']).get('zero_init_residual', True)
    return 'zero_init' if zero else 'standard'


def with_init(model_cfg: dict, init: str) -> dict:
    """A copy of ``model_cfg`` whose backbone uses the initialisation
    ``init``.

    Args:
        model_cfg (dict): ``cfg.model`` with a ResNet ``backbone``.
        init (str): a key of :data:`INITS`.

    Returns:
        dict: the changed copy.
    """
    cfg = copy.deepcopy(model_cfg)
    cfg['backbone']['zero_init_residual'] = INITS[check_init(init)]
    return cfg


def untrained_inits(model_cfg: dict) -> List[str]:
    """The untrained rows to show beside networks trained from
    ``model_cfg``: the standard init always (the reference), and the
    zero-init one too when the trained networks start from it.

    Args:
        model_cfg (dict): ``cfg.model`` of the trained networks.

    Returns:
        list[str]: keys of :data:`INITS`, the reference first.
    """
    inits = ['standard']
    if backbone_init(model_cfg) == 'zero_init':
        inits.append('zero_init')
    return inits
