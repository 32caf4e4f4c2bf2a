"""Output folders: checked before work starts, named when they fail."""
import os
from pathlib import Path


def check_writable_dir(path, source: str = 'output folder') -> Path:
    """Make sure files can be written into folder ``path`` (created if
    missing) before any work starts.

    Args:
        path: The folder.
        source (str): What the folder is (``'--work-dir'``, ``'--out'``),
            for the message.

    Raises:
        PermissionError: The folder (or the nearest existing parent, when
            it must be created) cannot be written; nothing was written.
        NotADirectoryError: ``path`` or a parent is a file.
    """
    path = Path(path)
    existing = path
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise NotADirectoryError(
            f'{source} {str(path)!r}: {str(existing)!r} is a file, not a '
            'folder')
    if not os.access(existing, os.W_OK | os.X_OK):
        where = ('this folder is not writable' if existing == path else
                 f'it cannot be created: {str(existing)!r} is not writable')
        raise PermissionError(f'{source} {str(path)!r}: {where}; nothing was'
                              ' written. Choose a folder you can write to.')
    return path


def check_writable_file(path, source: str = 'output file') -> Path:
    """:func:`check_writable_dir` for the folder of file ``path``; also
    refuses a ``path`` that is a folder."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f'{source} {str(path)!r} is a folder; give a '
                                'file name')
    if path.exists() and not os.access(path, os.W_OK):
        raise PermissionError(f'{source} {str(path)!r} exists and cannot be '
                              'overwritten; nothing was written')
    check_writable_dir(path.parent, f'{source} {str(path)!r}: its folder')
    return path
