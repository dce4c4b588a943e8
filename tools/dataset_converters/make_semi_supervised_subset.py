"""Write a class-balanced, seeded label subset for semi-supervised training.

The output is an MMPretrain annotation file (``relative/path.JPEG label``
lines, paths relative to the training image folder), used as
``train_dataloader.dataset.ann_file``. Every class gets the same number of
images (``round(percent / 100 * total / num_classes)``, e.g. 13 per class
for 1% of ImageNet-1k and 128 for 10%); the same arguments always give the
same file, and for one seed the 1% subset is contained in the 10% one.

Examples::

    python tools/dataset_converters/make_semi_supervised_subset.py \\
        --image-root data/imagenet/train --percent 1 --seed 0 \\
        --out data/imagenet/meta/train_1pct_seed0.txt
    python tools/dataset_converters/make_semi_supervised_subset.py \\
        --ann-file data/imagenet/meta/train.txt --percent 10 \\
        --out data/imagenet/meta/train_10pct_seed0.txt
"""
import argparse
import json
import sys

from pirl_plugin.evaluation.subsets import (class_balanced_subset,
                                            read_ann_file, scan_image_folder,
                                            write_ann_file)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument(
        '--image-root',
        help='training image folder <root>/<class>/<image> (labels are the '
        'sorted class folder indices, as MMPretrain assigns them)')
    src.add_argument(
        '--ann-file',
        help='existing annotation file of the full training set '
        '("relative/path label" lines)')
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument(
        '--percent', type=float, help='percentage of the labels, e.g. 1 or 10')
    size.add_argument('--per-class', type=int, help='images per class')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--out', required=True, help='annotation file to write')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    try:
        if args.image_root:
            samples, _ = scan_image_folder(args.image_root)
        else:
            samples = read_ann_file(args.ann_file)
        subset, summary = class_balanced_subset(
            samples,
            fraction=None if args.percent is None else args.percent / 100,
            per_class=args.per_class,
            seed=args.seed)
        write_ann_file(subset, args.out)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f'make_semi_supervised_subset.py: {e}')
    summary.update(
        source=args.image_root or args.ann_file,
        source_images=len(samples),
        seed=args.seed,
        out=args.out)
    if summary['short_classes']:
        print(f'warning: {len(summary["short_classes"])} classes have fewer '
              f'than {summary["per_class"]} images and are used in full: '
              f'{summary["short_classes"]}')
    print(f'wrote {summary["num_images"]} of {len(samples)} images '
          f'({summary["per_class"]} per class, {summary["num_classes"]} '
          f'classes, seed {args.seed}) to {args.out}')
    return summary


if __name__ == '__main__':
    print(json.dumps(main(), default=str))
