"""Cheap checks of a dataset config before a long run builds it.

MMPretrain's datasets report a missing folder or annotation file with a
bare ``FileNotFoundError`` and an empty folder with ``Found 0 files in
subfolders of: {'img_path': ...}``, both from deep inside the runner.
:func:`check_dataset_cfg` catches these cases first and says which config
key to change. It never lists a whole folder: it stops at the first image.
"""
import os
import os.path as osp
from typing import Iterable, Optional, Tuple

from pirl_plugin.utils.config_errors import ConfigValueError

# MMPretrain's CustomDataset / ImageNet default extensions.
IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif')


class DatasetConfigError(ConfigValueError):
    """A dataset config that points at missing or empty data, or at too
    little data for the batch size."""


def _join(root: str, path: str) -> str:
    if not path:
        return root
    if not root or osp.isabs(path) or '://' in path:
        return path
    return osp.join(root, path)


def _first_image(folder: str, extensions: Iterable[str],
                 skip_top_level_files: bool) -> Optional[str]:
    """The first image file under ``folder`` (depth first), or None."""
    extensions = tuple(e.lower() for e in extensions)
    for top, dirs, files in os.walk(folder, followlinks=True):
        dirs.sort()
        if skip_top_level_files and top == folder:
            continue
        for name in sorted(files):
            if name.lower().endswith(extensions):
                return osp.join(top, name)
    return None


def check_dataset_cfg(cfg: dict,
                      key: str = 'train_dataloader.dataset') -> None:
    """Refuse a dataset config whose data is missing or empty.

    Handles MMEngine ``BaseDataset`` configs (``data_root``, ``data_prefix``,
    ``ann_file``; MMPretrain's ``CustomDataset`` and ``ImageNet`` with its
    ``split``) and the wrappers that hold a ``dataset`` or ``datasets``.
    Remote paths (``s3://``, ...) and unknown layouts are left to the
    dataset itself.

    Args:
        cfg (dict): the dataset config.
        key (str): where the config sits, for the messages.

    Raises:
        DatasetConfigError: naming the path and the config key to change.
    """
    if not isinstance(cfg, dict):
        return
    if isinstance(cfg.get('dataset'), dict):
        check_dataset_cfg(cfg['dataset'], f'{key}.dataset')
        return
    if isinstance(cfg.get('datasets'), (list, tuple)):
        for i, sub in enumerate(cfg['datasets']):
            check_dataset_cfg(sub, f'{key}.datasets.{i}')
        return
    paths = _local_paths(cfg)
    if paths is None:
        return
    data_root, data_prefix, ann_file = paths
    if data_root and not osp.isdir(data_root):
        raise DatasetConfigError(
            f'{key}.data_root {data_root!r} is not a folder (it does not '
            'exist, or it is a file). Point it at your images, e.g. '
            f'--cfg-options {key}.data_root=/path/to/images')
    if ann_file:
        _check_ann_file(_join(data_root, ann_file), key)
        return
    folder = _join(data_root, data_prefix)
    if folder:
        _check_image_folder(cfg, folder, key)


def _local_paths(cfg: dict) -> Optional[Tuple[str, str, str]]:
    """The data root, image prefix and annotation file of a dataset config.

    Args:
        cfg (dict): a ``BaseDataset`` config (``split`` of MMPretrain's
            ``ImageNet`` fills in the prefix and ``meta/{split}.txt``).

    Returns:
        tuple[str, str, str] | None: ``(data_root, data_prefix, ann_file)``,
        or None when a path is remote.
    """
    data_root = cfg.get('data_root', '') or ''
    data_prefix = cfg.get('data_prefix', '') or ''
    if isinstance(data_prefix, dict):
        data_prefix = data_prefix.get('img_path', '') or ''
    ann_file = cfg.get('ann_file', '') or ''
    split = cfg.get('split', '') or ''
    if any('://' in str(p) for p in (data_root, data_prefix, ann_file)):
        return None
    if split and not data_prefix:  # MMPretrain's ImageNet and friends
        data_prefix = split
    if split and not ann_file and osp.isfile(
            osp.join(data_root, 'meta', f'{split}.txt')):
        ann_file = osp.join('meta', f'{split}.txt')
    return data_root, data_prefix, ann_file


def _check_ann_file(path: str, key: str) -> None:
    """Refuse a missing or empty annotation file.

    Args:
        path (str): the annotation file, joined to the data root.
        key (str): where the dataset config sits, for the messages.

    Raises:
        DatasetConfigError: naming the file and ``{key}.ann_file``.
    """
    if not osp.isfile(path):
        raise DatasetConfigError(
            f'annotation file {path!r} ({key}.ann_file) not found. '
            'Create it (one image path relative to the image folder per '
            'line, optionally followed by a label), fix '
            f'{key}.ann_file, or set {key}.ann_file=\'\' to use every '
            'image found under the image folder')
    with open(path) as f:
        if not any(line.strip() for line in f):
            raise DatasetConfigError(
                f'annotation file {path!r} ({key}.ann_file) lists no '
                'images: the training dataset would be empty. Fill it '
                f'or set {key}.ann_file=\'\' to use every image under '
                'the image folder')


def _check_image_folder(cfg: dict, folder: str, key: str) -> None:
    """Refuse a missing image folder or one without any image.

    Args:
        cfg (dict): the dataset config (``with_label``, ``extensions``).
        folder (str): ``data_root`` joined with the image prefix.
        key (str): where the dataset config sits, for the messages.

    Raises:
        DatasetConfigError: naming the folder and what to change.
    """
    if not osp.isdir(folder):
        raise DatasetConfigError(
            f'image folder {folder!r} ({key}.data_root + data_prefix) does '
            'not exist. Point data_root at your images, e.g. --cfg-options '
            f'{key}.data_root=/path/to/images')
    with_label = cfg.get('with_label', True)
    extensions = cfg.get('extensions', IMG_EXTENSIONS)
    if _first_image(folder, extensions, skip_top_level_files=with_label):
        return
    where = ('in its class subfolders (with_label=True: one subfolder per '
             'class; images directly in the folder are not used)'
             if with_label else 'in it or its subfolders')
    raise DatasetConfigError(
        f'image folder {folder!r} ({key}) contains no images {where}; '
        f'looked for {", ".join(sorted(set(extensions)))}. The training '
        'dataset would be empty: point data_root at a folder of images' +
        ('' if not with_label else ', or set with_label=False to use '
         'every image in the folder tree'))


def check_epoch_length(dataloader,
                       key: str = 'train_dataloader',
                       world_size: int = 1) -> None:
    """Refuse a training data loader that yields no batch per epoch.

    With ``drop_last=True`` a dataset smaller than one batch gives zero
    iterations per epoch. MMEngine then stops with ``epoch_length must be
    a positive integer, but got 0`` (schedules with
    ``convert_to_iter_based``) or "trains" for every epoch without a single
    step. This check says which sizes clash and what to change.

    Args:
        dataloader: the built ``torch.utils.data.DataLoader``.
        key (str): where its config sits, for the messages.
        world_size (int): number of training processes (the sampler gives
            each of them 1/world_size of the dataset).

    Raises:
        DatasetConfigError: when ``len(dataloader) == 0``.
    """
    try:
        if len(dataloader) > 0:
            return
        n = len(dataloader.dataset)
    except TypeError:  # an iterable dataset without a length
        return
    batch = getattr(dataloader, 'batch_size', None)
    drop_last = getattr(dataloader, 'drop_last', False)
    if n == 0 or batch is None:
        raise DatasetConfigError(
            f'the training dataset ({key}.dataset) is empty: point its '
            'data_root at a folder of images')
    sampler = getattr(dataloader, 'sampler', None)
    try:
        per_rank = len(sampler)
    except TypeError:
        per_rank = -(-n // max(1, world_size))
    procs = (f' per process x {world_size} processes ({per_rank} images '
             'each)' if world_size > 1 else '')
    hint = ''
    if per_rank >= 1:
        suggest = 1 << (per_rank.bit_length() - 1)  # a power of 2 <= per_rank
        hint = (f'lower the batch size, e.g. --cfg-options '
                f'{key}.batch_size={suggest}, ')
    raise DatasetConfigError(
        f'the training dataset has {n} images, fewer than one batch: '
        f'{key}.batch_size={batch}{procs} with drop_last={drop_last} gives '
        f'0 iterations per epoch. Either {hint}add images, or set '
        f'{key}.drop_last=False')
