"""Convert a PIRL checkpoint of VISSL's model zoo (the authors' weights)
into this plugin's formats.

* ``--backbone``: ``{'state_dict', 'meta'}`` with MMPretrain ``ResNet``
  keys, for ``init_cfg=dict(type='Pretrained', checkpoint=...)`` in the
  linear, SVM, semi-supervised and Faster R-CNN configs;
* ``--full``: our whole PIRL model (backbone, heads f and g, Z and the
  memory bank) for ``load_from`` in the pre-training config of the same
  architecture, printed by this script.

ResNet-50 and ResNet-50-w2 trunks, linear and MLP heads (docs/
vissl_weights.md). Example::

    python tools/model_converters/vissl_to_pirl.py \\
        model_final_checkpoint_phase799.torch \\
        --backbone checkpoints/pirl_r50_800ep_backbone.pth \\
        --full checkpoints/pirl_r50_800ep_full.pth
"""
import argparse
import sys
from typing import List, Optional

import pirl_plugin  # noqa: F401  allowlists MMEngine checkpoint classes
from pirl_plugin.utils.resnet_weights import ConversionError
from pirl_plugin.utils.vissl_checkpoint import ARCHS
from pirl_plugin.utils.vissl_convert import convert_from_vissl


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a VISSL PIRL checkpoint into an MMPretrain/'
        'MMDetection backbone and/or a full PIRL checkpoint.')
    parser.add_argument('src', help='VISSL checkpoint (.torch)')
    parser.add_argument('--backbone', help='output backbone checkpoint')
    parser.add_argument('--full', help='output full PIRL checkpoint')
    parser.add_argument(
        '--arch',
        choices=ARCHS,
        help='refuse a checkpoint of another architecture')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        info = convert_from_vissl(args.src, args.backbone, args.full,
                                  args.arch)
    except ConversionError as exc:
        sys.exit(f'vissl_to_pirl: error: {exc}')
    bank = info['bank_shape']
    print(f'VISSL PIRL {info["arch"]}: {info["num_backbone"]} backbone '
          f'tensors, memory bank {bank if bank else "absent"}')
    for dst in info['outputs']:
        print(f'wrote {dst}')
    print(f'config of this architecture: {info["config"]}')


if __name__ == '__main__':
    main()
