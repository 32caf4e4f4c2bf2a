"""One run at a time per work dir: a lock file held for the run."""
import datetime
import errno
import fcntl
import json
import os
import socket
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

from mmengine.dist import broadcast_object_list, get_rank, is_distributed
from mmengine.logging import print_log

LOCK_NAME = '.mmofa_run.lock'


class WorkDirInUseError(RuntimeError):
    """Another live run holds the work dir."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _describe(holder: dict) -> str:
    return (f"pid {holder.get('pid')} on {holder.get('host')}, started "
            f"{holder.get('started')} ({holder.get('command')})")


class WorkDirLock:
    """Hold ``<work_dir>/.mmofa_run.lock`` while a run writes into it.

    The file records who holds it (pid, host, start time, command) and is
    kept under an exclusive ``flock``, which the system releases when the
    process dies however it dies. A second run finds the lock held and is
    refused with the holder named; a lock left by a killed run (the file
    is there, nobody holds it, or its pid is gone) is taken over with a
    warning.

    Args:
        work_dir: The folder to lock (created if missing).
        purpose (str): What the run does (``'train'``, ``'search'``), for
            messages.
    """

    def __init__(self, work_dir, purpose: str = 'run'):
        self.path = Path(work_dir) / LOCK_NAME
        self.purpose = purpose
        self._handle: Optional[int] = None

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text() or '{}')
        except (OSError, ValueError):
            return {}

    def acquire(self) -> None:
        """Take the lock or raise :class:`WorkDirInUseError`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                os.close(handle)
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                raise WorkDirInUseError(
                    f'work dir {self.path.parent} is in use by another run: '
                    f'{_describe(self._read())}. Wait for it to end, or give '
                    f'this {self.purpose} another --work-dir.') from None
            # Locked the file that is at the path now (not one that its
            # holder removed meanwhile)?
            try:
                if os.stat(self.path).st_ino == os.fstat(handle).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(handle)
        previous = self._read()
        if previous.get('pid') is not None:
            same_host = previous.get('host') == socket.gethostname()
            if same_host and _pid_alive(int(previous['pid'])) and int(
                    previous['pid']) != os.getpid():
                # A live holder on a filesystem without working flock.
                os.close(handle)
                raise WorkDirInUseError(
                    f'work dir {self.path.parent} is in use by another run:'
                    f' {_describe(previous)}. Wait for it to end, or give '
                    f'this {self.purpose} another --work-dir.')
            print_log(
                f'work dir {self.path.parent}: taking over the stale lock of '
                'a run that ended without releasing it '
                f'({_describe(previous)})',
                logger='current',
                level=30)
        record = dict(
            pid=os.getpid(),
            host=socket.gethostname(),
            started=datetime.datetime.now().isoformat(timespec='seconds'),
            command=' '.join([Path(sys.argv[0]).name] + sys.argv[1:])[:300],
            purpose=self.purpose)
        os.ftruncate(handle, 0)
        os.pwrite(handle, json.dumps(record).encode(), 0)
        os.fsync(handle)
        self._handle = handle

    def release(self) -> None:
        if self._handle is None:
            return
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        os.close(self._handle)
        self._handle = None

    def __enter__(self) -> 'WorkDirLock':
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()


@contextmanager
def hold_work_dir(work_dir, purpose: str):
    """Hold ``work_dir``'s :class:`WorkDirLock` for a run of one or many
    processes: rank 0 takes it, every rank learns whether it could, and
    all raise :class:`WorkDirInUseError` if not."""
    lock = WorkDirLock(work_dir, purpose)
    error = [None]
    if get_rank() == 0:
        try:
            lock.acquire()
        except WorkDirInUseError as refused:
            error = [str(refused)]
    if is_distributed():
        broadcast_object_list(error)
    if error[0] is not None:
        raise WorkDirInUseError(error[0])
    try:
        yield lock
    finally:
        lock.release()
