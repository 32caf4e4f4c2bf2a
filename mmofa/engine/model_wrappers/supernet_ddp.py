"""Data-parallel training of a supernet on CPUs (gloo) or GPUs (nccl)."""
from typing import Iterator, List

import torch
import torch.distributed as dist
import torch.nn as nn
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from mmofa.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class SupernetDistributedWrapper(nn.Module):
    """Data parallelism with one gradient all-reduce per optimizer step.

    ``DistributedDataParallel`` reduces gradients in backward hooks, once
    per backward, and needs ``find_unused_parameters`` when parts of the
    network are idle. A Once-for-All step runs several subnets, each using
    a different part of the weights, so this wrapper instead averages the
    summed gradients across processes once, after the last backward, in
    flat buckets. Parameters and buffers are broadcast from rank 0 at the
    start and buffers (BN statistics) after every step, so every rank holds
    the same state. It takes no ``device_ids`` and works on CPU and GPU.

    Args:
        module (nn.Module): The model (an ``OFA`` model or any mmengine
            model).
        bucket_size_mb (float): Size of one all-reduce bucket. Defaults to
            25.
        broadcast_buffers (bool): Broadcast buffers after each step.
            Defaults to True.
    """

    def __init__(self,
                 module: nn.Module,
                 bucket_size_mb: float = 25,
                 broadcast_buffers: bool = True):
        super().__init__()
        if not dist.is_available() or not dist.is_initialized():
            raise RuntimeError('SupernetDistributedWrapper needs an '
                               'initialised torch.distributed process group')
        self.module = module
        self.bucket_bytes = int(bucket_size_mb * 1024 * 1024)
        self.broadcast_buffers = broadcast_buffers
        self._broadcast(list(module.parameters()) + list(module.buffers()))

    def _broadcast(self, tensors: List[torch.Tensor]) -> None:
        for bucket in self._buckets([t.data for t in tensors]):
            flat = _flatten_dense_tensors(bucket)
            dist.broadcast(flat, 0)
            for tensor, synced in zip(bucket,
                                      _unflatten_dense_tensors(flat, bucket)):
                tensor.copy_(synced)

    def _buckets(self,
                 tensors: List[torch.Tensor]) -> Iterator[List[torch.Tensor]]:
        """Consecutive groups of one dtype and device, each at most
        ``bucket_bytes`` (a larger tensor makes its own group)."""
        bucket, size = [], 0
        for tensor in tensors:
            nbytes = tensor.numel() * tensor.element_size()
            if bucket and (size + nbytes > self.bucket_bytes
                           or tensor.dtype != bucket[0].dtype
                           or tensor.device != bucket[0].device):
                yield bucket
                bucket, size = [], 0
            bucket.append(tensor)
            size += nbytes
        if bucket:
            yield bucket

    def all_reduce_gradients(self) -> None:
        """Average the gradients over processes (every rank has the same
        set of gradients: all ranks train the same subnets)."""
        grads = [
            p.grad for p in self.module.parameters()
            if p.requires_grad and p.grad is not None
        ]
        world_size = dist.get_world_size()
        for bucket in self._buckets(grads):
            flat = _flatten_dense_tensors(bucket)
            dist.all_reduce(flat)
            flat.div_(world_size)
            for grad, synced in zip(bucket,
                                    _unflatten_dense_tensors(flat, bucket)):
                grad.copy_(synced)

    def train_step(self, data, optim_wrapper):
        module = self.module
        if hasattr(module, 'num_subnets'):  # an OFA supernet
            log_vars = module.train_step(
                data, optim_wrapper, grad_sync=self.all_reduce_gradients)
        else:
            with optim_wrapper.optim_context(module):
                data = module.data_preprocessor(data, True)
                losses = module._run_forward(data, mode='loss')
            loss, log_vars = module.parse_losses(losses)
            optim_wrapper.backward(loss)
            self.all_reduce_gradients()
            optim_wrapper.step()
            optim_wrapper.zero_grad()
        if self.broadcast_buffers:
            self._broadcast(list(module.buffers()))
        return log_vars

    def val_step(self, data):
        return self.module.val_step(data)

    def test_step(self, data):
        return self.module.test_step(data)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)
