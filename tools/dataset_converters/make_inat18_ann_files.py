"""Convert the iNaturalist 2018 json annotations to MMPretrain ann files.

Reads ``<root>/train2018.json`` and ``<root>/val2018.json`` (COCO-style:
``images`` with ``id`` and ``file_name``, ``annotations`` with ``image_id``
and ``category_id``) and writes ``<root>/meta/train.txt`` and
``<root>/meta/val.txt`` with ``file_name category_id`` lines, for the
``CustomDataset`` of
configs/benchmarks/mmpretrain/_base_/datasets/inat18_bs32.py.

Example::

    python tools/dataset_converters/make_inat18_ann_files.py \\
        data/inaturalist2018
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import List, Tuple


def convert(json_path: str) -> List[Tuple[str, int]]:
    """``(file_name, category_id)`` of every annotated image."""
    with open(json_path) as f:
        data = json.load(f)
    try:
        files = {img['id']: img['file_name'] for img in data['images']}
        samples = [(files[a['image_id']], int(a['category_id']))
                   for a in data['annotations']]
    except KeyError as e:
        raise ValueError(
            f'{json_path} is not an iNaturalist 2018 annotation file (missing '
            f'{e}); expected "images" and "annotations" lists') from None
    return sorted(samples)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('root', help='data/inaturalist2018')
    args = parser.parse_args(argv)
    os.makedirs(osp.join(args.root, 'meta'), exist_ok=True)
    for split in ('train', 'val'):
        src = osp.join(args.root, f'{split}2018.json')
        if not osp.isfile(src):
            sys.exit(f'make_inat18_ann_files.py: {src} not found; download '
                     f'{split}2018.json into {args.root}')
        samples = convert(src)
        out = osp.join(args.root, 'meta', f'{split}.txt')
        with open(out, 'w') as f:
            f.writelines(f'{p} {c}\n' for p, c in samples)
        print(f'{split}: {len(samples)} images, '
              f'{len({c for _, c in samples})} classes -> {out}')


if __name__ == '__main__':
    main()
