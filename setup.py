"""Install mmofa: ``pip install -e .``."""
import re
from pathlib import Path
from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_version():
    text = (HERE / 'mmofa' / 'version.py').read_text()
    return re.search(r"__version__ = '([^']+)'", text).group(1)


def read_requirements(name):
    lines = (HERE / 'requirements' / name).read_text().splitlines()
    return [
        line.strip() for line in lines
        if line.strip() and not line.startswith(('#', '-r'))
    ]


setup(
    name='mmofa',
    version=read_version(),
    description='Once-for-All neural architecture search on MMEngine',
    long_description=(HERE / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmofa', 'mmofa.*']),
    python_requires='>=3.10',
    install_requires=read_requirements('runtime.txt'),
    extras_require={
        'tests': read_requirements('tests.txt'),
        'optional': read_requirements('optional.txt'),
    },
    license='Apache License 2.0',
)
