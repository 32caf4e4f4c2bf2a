"""The code in the docs runs as written."""
import re

from helpers import REPO


def python_blocks(path):
    return re.findall(r'```python\n(.*?)```', path.read_text(), re.S)


def test_get_started_first_steps_run(monkeypatch):
    monkeypatch.chdir(REPO)
    block = next(
        b for b in python_blocks(REPO / 'docs' / 'get_started.md')
        if 'init_model' in b)
    namespace = {}
    exec(compile(block, 'docs/get_started.md', 'exec'), namespace)
    assert namespace['model'].estimate_resources() == {
        'macs': 100520248,
        'params': 4595536
    }
