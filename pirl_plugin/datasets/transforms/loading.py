"""Image loading that converts every decodable image the same way and stops
(or, on request, skips and counts) on undecodable files."""
import io
import os
import socket
from typing import Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmengine.logging import print_log
from mmpretrain.registry import TRANSFORMS
from PIL import Image, ImageOps

from ...utils.config_errors import ConfigValueError, is_number


class ImageDecodeError(OSError):
    """An image file that cannot be decoded (truncated, corrupt, not an
    image, unsupported pixel format). The message names the file."""


def _to_uint8(arr: np.ndarray, mode: str, where: str) -> np.ndarray:
    """Integer images wider than 8 bits -> uint8, scaled by 255 / 65535."""
    if arr.dtype == np.uint16 or mode.startswith('I;16'):
        arr = arr.astype(np.uint32)
    elif mode == 'I':  # PIL loads 16-bit greyscale PNGs and TIFFs as 'I'
        if arr.size and (arr.min() < 0 or arr.max() > 65535):
            raise ImageDecodeError(
                f'{where}: 32-bit integer pixels outside the 16-bit range '
                f'[{arr.min()}, {arr.max()}] have no defined 8-bit '
                'conversion')
        arr = arr.astype(np.uint32)
    else:
        raise ImageDecodeError(
            f'{where}: pixel format {mode!r} ({arr.dtype}) has no defined '
            '8-bit conversion')
    # round(v * 255 / 65535) == round(v / 257)
    return ((arr + 128) // 257).astype(np.uint8)


def decode_image(data: bytes,
                 where: str = '<bytes>',
                 alpha_background: Sequence[int] = (255, 255, 255),
                 channel_order: str = 'bgr') -> np.ndarray:
    """Decode image bytes into an ``H x W x 3`` uint8 array.

    The conversion is the same for every file: the EXIF orientation is
    applied (a damaged EXIF block is ignored); greyscale, bilevel, palette,
    CMYK, YCbCr and LAB images are converted to RGB; transparent images
    (RGBA, LA, palette with transparency) are composited over
    ``alpha_background``; 16-bit images are scaled to 8 bits
    (``round(v * 255 / 65535)``; a plain conversion would clip them to 255);
    the first frame of a multi-frame file is used. A truncated or corrupt
    file raises instead of returning a partially decoded image.

    Args:
        data (bytes): the file's content.
        where (str): the file name, for the error message.
        alpha_background (sequence[int]): RGB colour under transparent
            pixels. Defaults to white.
        channel_order (str): ``'bgr'`` (default, like mmcv's loader) or
            ``'rgb'``.

    Returns:
        np.ndarray: the image, ``H x W x 3`` uint8.

    Raises:
        ImageDecodeError: when the bytes are not a decodable image.
    """
    where = f"'{where}'"
    img = _open_image(data, where)
    rgb = _to_rgb_array(img, where, alpha_background)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ImageDecodeError(
            f'{where}: decoded to an unexpected array {rgb.dtype} '
            f'{rgb.shape}')
    if channel_order == 'bgr':
        rgb = rgb[..., ::-1]
    return np.ascontiguousarray(rgb)


def _open_image(data: bytes, where: str) -> Image.Image:
    """Fully decode image bytes with Pillow and apply the EXIF orientation.

    Args:
        data (bytes): the file's content.
        where (str): the quoted file name, for the error message.

    Returns:
        PIL.Image.Image: the decoded image, at least 1 x 1.

    Raises:
        ImageDecodeError: when the bytes are empty or not decodable.
    """
    if not data:
        raise ImageDecodeError(f'{where}: the file is empty (0 bytes)')
    try:
        img = Image.open(io.BytesIO(data))
        img.load()  # decodes fully; raises on truncated data
    except Image.DecompressionBombError as exc:
        raise ImageDecodeError(f'{where}: {exc}') from exc
    except Exception as exc:  # UnidentifiedImageError, OSError, SyntaxError
        raise ImageDecodeError(
            f'{where}: {type(exc).__name__}: {exc}') from exc
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001  a damaged EXIF block
        pass
    if img.size[0] < 1 or img.size[1] < 1:
        raise ImageDecodeError(f'{where}: the image has size {img.size}')
    return img


def _to_rgb_array(img: Image.Image, where: str,
                  alpha_background: Sequence[int]) -> np.ndarray:
    """Convert a decoded image of any pixel format to an RGB array.

    Args:
        img (PIL.Image.Image): the decoded image.
        where (str): the quoted file name, for the error message.
        alpha_background (sequence[int]): RGB colour under transparent
            pixels.

    Returns:
        np.ndarray: ``H x W x 3`` RGB array.

    Raises:
        ImageDecodeError: when the pixel format has no defined conversion.
    """
    mode = img.mode
    if mode == 'P':
        mode = 'RGBA' if 'transparency' in img.info else 'RGB'
        img = img.convert(mode)
    if mode in ('I', 'F') or mode.startswith('I;16'):
        rgb = _to_uint8(np.asarray(img), mode, where)
        return np.repeat(rgb[..., None], 3, axis=2)
    if mode in ('RGBA', 'LA', 'PA', 'RGBa', 'La'):
        rgba = img.convert('RGBA')
        bg = Image.new('RGBA', rgba.size,
                       tuple(int(c) for c in alpha_background) + (255, ))
        return np.asarray(Image.alpha_composite(bg, rgba).convert('RGB'))
    if mode == 'RGB':
        return np.asarray(img)
    try:  # L, 1, CMYK, YCbCr, LAB, HSV
        return np.asarray(img.convert('RGB'))
    except Exception as exc:  # noqa: BLE001
        raise ImageDecodeError(
            f'{where}: cannot convert pixel format {mode!r} to RGB: '
            f'{exc}') from exc


@TRANSFORMS.register_module()
class RobustLoadImageFromFile(BaseTransform):
    """Load an image with a well-defined conversion to 3-channel uint8, and
    a clear error naming any file that cannot be decoded.

    A drop-in replacement for ``LoadImageFromFile`` (same output keys
    ``img``, ``img_shape``, ``ori_shape``), decoding with Pillow through
    :func:`decode_image`: unlike mmcv's OpenCV loader it detects truncated
    files (OpenCV returns the decoded top part and a grey rest, or ``None``
    and mmcv fails a bare ``assert``), and it converts 16-bit, CMYK,
    greyscale, palette and transparent images the same, documented way
    (OpenCV drops the alpha channel and keeps whatever colour the
    transparent pixels hold).

    With ``skip_bad_images=False`` (default) an undecodable file raises
    :class:`ImageDecodeError` naming it. With ``skip_bad_images=True`` the
    transform returns ``None``, so MMEngine's ``BaseDataset`` draws another
    sample in its place, and the file is recorded: :class:`SkippedImagesHook`
    (in the default runtime's ``custom_hooks``) points every data-loader
    worker of every rank at a folder of per-process lists and logs the count
    at each epoch end and in a final summary.

    Args:
        skip_bad_images (bool): skip undecodable files instead of stopping.
            Defaults to False.
        to_float32 (bool): return a float32 image. Defaults to False.
        channel_order (str): ``'bgr'`` (default, like mmcv's loader and what
            PIRL's transforms expect) or ``'rgb'``.
        alpha_background (sequence[int]): RGB colour under transparent
            pixels. Defaults to (255, 255, 255).
        backend_args (dict, optional): MMEngine file backend arguments.
    """

    def __init__(self,
                 skip_bad_images: bool = False,
                 to_float32: bool = False,
                 channel_order: str = 'bgr',
                 alpha_background: Sequence[int] = (255, 255, 255),
                 backend_args: Optional[dict] = None) -> None:
        if channel_order not in ('bgr', 'rgb'):
            raise ConfigValueError(
                "RobustLoadImageFromFile channel_order must be 'bgr' or "
                f"'rgb', got {channel_order!r}", 'channel_order')
        if not (isinstance(alpha_background,
                           (tuple, list)) and len(alpha_background) == 3 and
                all(is_number(c) and 0 <= c <= 255 for c in alpha_background)):
            raise ConfigValueError(
                'RobustLoadImageFromFile alpha_background must be 3 integers '
                f'in [0, 255], got {alpha_background!r}', 'alpha_background')
        self.skip_bad_images = bool(skip_bad_images)
        self.to_float32 = to_float32
        self.channel_order = channel_order
        self.alpha_background = tuple(int(c) for c in alpha_background)
        self.backend_args = None if backend_args is None else dict(
            backend_args)
        # Set by SkippedImagesHook: where each process lists skipped files.
        self.skip_log_dir: Optional[str] = None
        self.skip_log_prefix = 'rank0'
        # Files skipped by this process (a worker's copy counts its own).
        self.num_skipped = 0

    def transform(self, results: dict) -> Optional[dict]:
        """Load ``results['img_path']``.

        Returns:
            dict | None: the results with ``img``, or None for a skipped
            undecodable file.
        """
        path = results['img_path']
        try:
            try:
                data = fileio.get(path, backend_args=self.backend_args)
            except FileNotFoundError as exc:
                raise ImageDecodeError(f"'{path}': file not found") from exc
            except OSError as exc:
                raise ImageDecodeError(
                    f"'{path}': cannot read the file: {exc}") from exc
            img = decode_image(data, str(path), self.alpha_background,
                               self.channel_order)
        except ImageDecodeError as exc:
            if not self.skip_bad_images:
                raise ImageDecodeError(
                    f'cannot decode image {exc}. The file is truncated, '
                    'corrupt or not an image: replace or delete it, or set '
                    'skip_bad_images=True on RobustLoadImageFromFile in '
                    'the training pipeline (e.g. --cfg-options '
                    'train_dataloader.dataset.pipeline.0.skip_bad_images='
                    'True) to skip such files and count them in the '
                    'log') from None
            self._record_skip(str(path), str(exc))
            return None
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def _record_skip(self, path: str, reason: str) -> None:
        self.num_skipped += 1
        print_log(
            f'RobustLoadImageFromFile: skipped undecodable image '
            f'({reason}); another image is drawn in its place',
            logger='current',
            level=30)
        if self.skip_log_dir is None:
            return
        name = (f'{self.skip_log_prefix}-{socket.gethostname()}-'
                f'{os.getpid()}.tsv')
        reason = reason.replace('\t', ' ').replace('\n', ' ')
        try:
            with open(os.path.join(self.skip_log_dir, name), 'a') as f:
                f.write(f'{path}\t{reason}\n')
        except OSError as exc:  # never stop a run over the list itself
            print_log(
                f'RobustLoadImageFromFile: cannot record the skipped '
                f'image in {self.skip_log_dir}: {exc}',
                logger='current',
                level=30)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(skip_bad_images='
                f'{self.skip_bad_images}, to_float32={self.to_float32}, '
                f"channel_order='{self.channel_order}', alpha_background="
                f'{self.alpha_background}, backend_args={self.backend_args})')
