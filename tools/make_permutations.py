"""Generate a fixed set of jigsaw permutations, reproducibly.

    python tools/make_permutations.py --num 1000 [--method hamming]
        [--seed 0] [--cells 9] [--out data/permutations/hamming_1000_seed0.npy]

Writes a ``(|T|, cells)`` int64 ``.npy`` file (row t: for each slot, the cell
whose patch goes there) and a ``.json`` beside it with the arguments, the
minimal and mean pairwise Hamming distance and a SHA-256 of the array. The
same arguments always give the same set (it is also what the transforms
generate for ``permutations=<int>``), so the file may be passed as
``permutations='<file>.npy'`` to ``JigsawPretextTransform`` or (as an
array) to ``PIRLJigsawTransform``.
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import sys
import time

import numpy as np

from pirl_plugin.utils.permutations import (generate_permutations,
                                            min_hamming_distance)


def permutation_stats(perms: np.ndarray) -> dict:
    """Minimal / mean pairwise Hamming distance and a digest of ``perms``."""
    perms = np.ascontiguousarray(perms, dtype=np.int64)
    n = len(perms)
    mean = None
    if 2 <= n <= 5000:
        d = (perms[:, None, :] != perms[None, :, :]).sum(-1)
        mean = float(d[np.triu_indices(n, 1)].mean())
    return dict(
        num=n,
        cells=int(perms.shape[1]),
        min_hamming=min_hamming_distance(perms) if n <= 5000 else None,
        mean_hamming=mean,
        sha256=hashlib.sha256(perms.tobytes()).hexdigest())


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        '--num', type=int, required=True, help='number of permutations |T|')
    parser.add_argument(
        '--method', default='hamming', choices=['hamming', 'random'])
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--cells', type=int, default=9, help='grid cells (grid_size**2)')
    parser.add_argument(
        '--out',
        default=None,
        help='output .npy (default data/permutations/'
        '<method>_<num>_seed<seed>.npy)')
    args = parser.parse_args(argv)
    t0 = time.time()
    try:
        perms = generate_permutations(args.num, args.cells, args.method,
                                      args.seed)
    except ValueError as e:
        sys.exit(f'tools/make_permutations.py: {e}')
    out = args.out or osp.join(
        'data', 'permutations',
        f'{args.method}_{args.num}_seed{args.seed}.npy')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    np.save(out, perms)
    meta = dict(
        method=args.method,
        seed=args.seed,
        seconds=round(time.time() - t0, 2),
        **permutation_stats(perms))
    with open(osp.splitext(out)[0] + '.json', 'w') as f:
        json.dump(meta, f, indent=2)
    print(f'{out}: {meta["num"]} permutations of {meta["cells"]} cells, '
          f'minimal Hamming distance {meta["min_hamming"]}, mean '
          f'{meta["mean_hamming"]}, sha256 {meta["sha256"][:16]}...')
    return meta


if __name__ == '__main__':
    main()
