"""The runtimes latency tables are measured in: torch eager, ONNX Runtime
(CPU, or CUDA with onnxruntime-gpu) and TensorRT (through ONNX Runtime's
TensorRT execution provider). Each times a module on an input with warm-up
runs and repeats, and describes itself (runtime, versions, device,
threads) for the table file."""
import io
import statistics
import time
import warnings
from typing import Dict, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

#: What ``build_latency_table.py --runtime`` takes.
RUNTIMES = ('torch', 'onnxruntime', 'tensorrt')


def _median_and_spread(times) -> Tuple[float, float]:
    """Median of ``times`` and their spread: the interquartile range
    relative to the median."""
    median = statistics.median(times)
    if len(times) < 4 or median <= 0:
        return median, 0.0
    low, high = np.percentile(times, [25, 75])
    return median, float((high - low) / median)


class LatencyRuntime:
    """Times modules in one runtime.

    Args:
        device (str): ``'cpu'`` or ``'cuda'``.
        threads (int, optional): CPU threads of the runtime (torch's, or
            ONNX Runtime's intra-op threads); None leaves its default.
        warmup (int): Untimed runs before the timed ones. Defaults to 3.
        repeats (int): Timed runs; their median is the latency. Defaults
            to 20.
    """
    name = ''

    def __init__(self,
                 device: str = 'cpu',
                 threads: Optional[int] = None,
                 warmup: int = 3,
                 repeats: int = 20):
        if device not in ('cpu', 'cuda'):
            raise ValueError(f"device = {device!r}; allowed: 'cpu', 'cuda'")
        if device == 'cuda' and not torch.cuda.is_available():
            raise RuntimeError(f'--runtime {self.name} --device cuda: this '
                               'machine has no usable GPU (torch finds none)')
        self.device = device
        self.threads = threads
        self.warmup = int(warmup)
        self.repeats = max(1, int(repeats))

    def describe(self) -> dict:
        """What the table file records of the runtime."""
        return dict(
            name=self.name,
            version=self.version(),
            device=self.device
            if self.device == 'cpu' else torch.cuda.get_device_name(),
            threads=self.threads
            if self.threads is not None else torch.get_num_threads())

    def version(self) -> str:
        raise NotImplementedError

    def time(self, module: nn.Module,
             inputs: torch.Tensor) -> Tuple[float, float]:
        """``(median ms, spread)`` of ``module(inputs)`` in this runtime."""
        raise NotImplementedError

    def call_overhead(self, shape: Tuple[int, ...]) -> float:
        """The median ms of a call that computes (almost) nothing on an
        input of ``shape``: what every timed part pays once and a whole
        network once, not once per part."""
        return self.time(Touch(), torch.randn(*shape))[0]


class TorchRuntime(LatencyRuntime):
    """Torch eager mode, no grad, synchronised on GPUs."""
    name = 'torch'

    def version(self) -> str:
        return f'torch {torch.__version__}'

    def time(self, module, inputs):
        module = module.to(self.device).eval()
        inputs = inputs.to(self.device)
        cuda = self.device == 'cuda'
        times = []
        with torch.no_grad():
            for i in range(self.warmup + self.repeats):
                if cuda:
                    torch.cuda.synchronize()
                start = time.perf_counter()
                module(inputs)
                if cuda:
                    torch.cuda.synchronize()
                if i >= self.warmup:
                    times.append((time.perf_counter() - start) * 1000)
        return _median_and_spread(times)


class Touch(nn.Module):
    """The least a runtime can run on an input: one element of it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)[:, :1]


class LogitsOf(nn.Module):
    """``model(images, mode='tensor')`` as a plain ``forward`` (what ONNX
    export and runtimes see of a classifier)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images, mode='tensor')


def onnx_bytes(module: nn.Module, inputs: torch.Tensor) -> bytes:
    """``module`` exported to ONNX for the shape of ``inputs``: the
    TorchScript exporter (fast: a latency table exports hundreds of
    parts), else the dynamo exporter where the first is gone."""
    buffer = io.BytesIO()
    module = module.cpu().eval()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            torch.onnx.export(
                module, (inputs.cpu(), ),
                buffer,
                input_names=['input'],
                output_names=['output'],
                dynamo=False)
        except (TypeError, RuntimeError, ValueError):
            buffer = io.BytesIO()
            torch.onnx.export(
                module, (inputs.cpu(), ),
                buffer,
                input_names=['input'],
                output_names=['output'],
                dynamo=True,
                verbose=False)
    return buffer.getvalue()


class OnnxRuntime(LatencyRuntime):
    """ONNX Runtime: the CPU execution provider on ``'cpu'``, the CUDA one
    on ``'cuda'`` (onnxruntime-gpu). The module is exported to ONNX
    first; ONNX Runtime's graph optimisations (fusions) apply."""
    name = 'onnxruntime'

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = self.providers()[0]

    def providers(self) -> list:
        try:
            import onnxruntime
        except ImportError:
            raise ImportError(
                f'--runtime {self.name} needs onnxruntime: pip install '
                'onnxruntime (onnxruntime-gpu for --device cuda)') from None
        wanted = self.wanted_provider()
        available = onnxruntime.get_available_providers()
        if wanted not in available:
            raise RuntimeError(
                f'--runtime {self.name} --device {self.device} needs '
                f'ONNX Runtime\'s {wanted}, which onnxruntime '
                f'{onnxruntime.__version__} here lacks (it has {available}): '
                f'{self.install_hint()}')
        return [wanted]

    def wanted_provider(self) -> str:
        return 'CPUExecutionProvider' if self.device == 'cpu' else \
            'CUDAExecutionProvider'

    def install_hint(self) -> str:
        return 'pip install onnxruntime-gpu on a machine with a GPU'

    def version(self) -> str:
        import onnxruntime
        return f'onnxruntime {onnxruntime.__version__} ({self.provider})'

    def session(self, module: nn.Module, inputs: torch.Tensor):
        import onnxruntime
        options = onnxruntime.SessionOptions()
        if self.threads is not None:
            options.intra_op_num_threads = int(self.threads)
            options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(
            onnx_bytes(module, inputs), options, providers=[self.provider])

    def time(self, module, inputs):
        session = self.session(module, inputs)
        feed: Dict[str, np.ndarray] = {
            session.get_inputs()[0].name: inputs.cpu().numpy()
        }
        times = []
        for i in range(self.warmup + self.repeats):
            start = time.perf_counter()
            session.run(None, feed)
            if i >= self.warmup:
                times.append((time.perf_counter() - start) * 1000)
        return _median_and_spread(times)


class TensorRTRuntime(OnnxRuntime):
    """TensorRT through ONNX Runtime's TensorRT execution provider
    (onnxruntime-gpu built with TensorRT, and the tensorrt package); GPU
    only."""
    name = 'tensorrt'

    def __init__(self, device: str = 'cuda', **kwargs):
        if device != 'cuda':
            raise ValueError(f'--runtime tensorrt runs on GPUs: --device '
                             f'{device!r} must be cuda')
        super().__init__(device, **kwargs)

    def wanted_provider(self) -> str:
        return 'TensorrtExecutionProvider'

    def install_hint(self) -> str:
        return ('pip install onnxruntime-gpu tensorrt on a machine with an '
                'NVIDIA GPU')


def build_runtime(name: str, **kwargs) -> LatencyRuntime:
    """The runtime called ``name`` (one of :data:`RUNTIMES`)."""
    classes = dict(
        torch=TorchRuntime, onnxruntime=OnnxRuntime, tensorrt=TensorRTRuntime)
    if name not in classes:
        raise ValueError(f'runtime {name!r}; allowed: {list(RUNTIMES)}')
    return classes[name](**kwargs)
