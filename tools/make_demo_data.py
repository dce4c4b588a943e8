"""Generate the procedural shapes dataset used by the demo and the tests."""
import argparse

from pirl_plugin.datasets.synthetic import CLASSES, make_shapes_dataset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('out_dir', nargs='?', default='data/pirl_demo')
    parser.add_argument('--train-per-class', type=int, default=200)
    parser.add_argument('--test-per-class', type=int, default=50)
    parser.add_argument('--size', type=int, default=96)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    counts = make_shapes_dataset(args.out_dir, args.train_per_class,
                                 args.test_per_class, args.size, args.seed)
    print(f'{args.out_dir}: {counts["train"]} train and {counts["test"]} '
          f'test images of {len(CLASSES)} classes')


if __name__ == '__main__':
    main()
