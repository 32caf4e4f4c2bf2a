"""The default thread count: cores less those other work keeps busy now."""
import subprocess
import sys

from mmofa.utils import threads


def test_busy_cores_from_two_samples(monkeypatch):
    monkeypatch.setattr(threads.os, 'cpu_count', lambda: 4)
    samples = iter([(100, 1000), (100 + 150, 1000 + 200)])  # 75 % busy
    assert threads.busy_cores(4, 0, lambda: next(samples)) == 3
    samples = iter([(100, 1000), (100 + 150, 1000 + 200)])
    assert threads.busy_cores(2, 0, lambda: next(samples)) == 2  # capped


def test_without_proc_stat_the_load_average_is_used(monkeypatch):
    monkeypatch.setattr(threads.os, 'getloadavg', lambda: (1.2, 0, 0))
    assert threads.busy_cores(2, 0, lambda: None) == 1


def test_a_spinning_process_counts_as_one_busy_core(monkeypatch):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    monkeypatch.delenv('LOCAL_WORLD_SIZE', raising=False)
    monkeypatch.setattr(threads, 'available_cores', lambda: 2)
    monkeypatch.setattr(threads.os, 'cpu_count', lambda: 2)
    spinner = subprocess.Popen(
        [sys.executable, '-c', 'import time\nend = time.time() + 20\n'
         'while time.time() < end: pass'])
    try:
        measured = threads.busy_cores(2, interval=1.0)
        count, why = threads.default_num_threads()
    finally:
        spinner.kill()
    # The spinner's core at least (the suite may keep the other busy too).
    assert measured >= 1
    assert count == 1 and 'busy with other work' in why


def test_the_other_processes_of_the_run_are_not_counted(monkeypatch):
    monkeypatch.delenv('OMP_NUM_THREADS', raising=False)
    monkeypatch.setenv('LOCAL_WORLD_SIZE', '4')
    monkeypatch.setattr(threads, 'available_cores', lambda: 16)
    monkeypatch.setattr(threads, 'busy_cores', lambda cores: 3)
    assert threads.default_num_threads() == (
        4, '16 cores / 4 process(es) on this node, 0 busy with other work')
