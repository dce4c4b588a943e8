"""Installation script of pirl_plugin.

The OpenMMLab stack (mmcv with compiled ops in particular) is best installed
with ``tools/setup_env.sh``; ``pip install -e .`` only installs this package.
"""
import os.path as osp

from setuptools import find_packages, setup


def get_version() -> str:
    """Read ``__version__`` from ``pirl_plugin/version.py``."""
    ns: dict = {}
    with open(osp.join(osp.dirname(__file__), 'pirl_plugin', 'version.py')) as f:
        exec(f.read(), ns)
    return ns['__version__']


setup(
    name='pirl_plugin',
    version=get_version(),
    description='PIRL (Pretext-Invariant Representation Learning, CVPR 2020) '
    'for MMPretrain',
    long_description=open(osp.join(osp.dirname(__file__), 'README.md')).read()
    if osp.exists(osp.join(osp.dirname(__file__), 'README.md')) else '',
    long_description_content_type='text/markdown',
    author='pirl_plugin developers',
    license='Apache License 2.0',
    # the full text, shipped in the sdist and the wheel's dist-info
    license_files=['LICENSE'],
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    python_requires='>=3.9,<3.13',
    install_requires=[
        'torch>=2.0',
        'torchvision',
        'numpy>=1.24',
        'mmengine==0.10.7',
        'mmcv>=2.0.0,<2.2.0',
        'mmpretrain==1.2.0',
        'opencv-python-headless',
        'matplotlib',
        'scikit-learn',
    ],
    extras_require={
        'tests': ['pytest', 'pytest-timeout'],
        'det': ['mmdet==3.3.0', 'pycocotools>=2.0.8'],
    },
    classifiers=[
        'License :: OSI Approved :: Apache Software License',
        'Programming Language :: Python :: 3',
        'Programming Language :: Python :: 3.11',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    zip_safe=False,
)
