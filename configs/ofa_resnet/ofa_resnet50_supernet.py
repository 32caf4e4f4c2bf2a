# The OFA ResNet50 supernet alone: build it, set or sample subnets, count
# FLOPs, export, convert official checkpoints into it.
_base_ = ['../_base_/models/ofa_resnet50.py']

default_scope = 'mmofa'
