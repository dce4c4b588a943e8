"""Convert a PIRL checkpoint of this plugin (``tools/train.py`` output, or
``vissl_to_pirl.py --full`` output) into VISSL's layout, so that VISSL's
benchmark configs evaluate it (``MODEL.WEIGHTS_INIT.PARAMS_FILE`` with
``STATE_DICT_KEY_NAME: classy_state_dict``).

The output holds the trunk, both heads and the loss state (memory bank,
Z); not the optimiser, so VISSL can initialise from it but not resume.
Example::

    python tools/model_converters/pirl_to_vissl.py \\
        work_dirs/pirl_resnet50_8xb32-coslr-200e_in1k/epoch_200.pth \\
        checkpoints/pirl_r50_vissl.torch
"""
import argparse
import sys
from typing import List, Optional

import pirl_plugin  # noqa: F401  allowlists MMEngine checkpoint classes
from pirl_plugin.utils.resnet_weights import ConversionError
from pirl_plugin.utils.vissl_convert import convert_to_vissl


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert a PIRL checkpoint into VISSL\'s layout.')
    parser.add_argument('src', help='our PIRL checkpoint (.pth)')
    parser.add_argument('dst', help='output VISSL checkpoint (.torch)')
    parser.add_argument(
        '--num-negatives',
        type=int,
        default=32000,
        help='nce_average.params: negatives (model.head.num_negatives)')
    parser.add_argument(
        '--temperature',
        type=float,
        default=0.07,
        help='nce_average.params: temperature (model.head.temperature)')
    parser.add_argument(
        '--momentum',
        type=float,
        default=0.5,
        help='nce_average.params: bank momentum (model.memory_bank.momentum)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    try:
        info = convert_to_vissl(args.src, args.dst, args.num_negatives,
                                args.temperature, args.momentum)
    except ConversionError as exc:
        sys.exit(f'pirl_to_vissl: error: {exc}')
    print(f'wrote VISSL PIRL {info["arch"]} (memory bank '
          f'{info["bank_shape"] or "absent"}) to {args.dst}')


if __name__ == '__main__':
    main()
