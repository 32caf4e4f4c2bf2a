"""Settings of the test session: with pytest-xdist (``make test`` runs two
workers), each worker and the tools it starts use one thread, so that two
workers on two cores do not oversubscribe them (OpenMP threads that spin
waiting for a core make small convolutions many times slower)."""
import os

if os.environ.get('PYTEST_XDIST_WORKER'):
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    import torch
    torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))
