# The OFA MobileNetV3 w1.0 supernet alone: build it, set or sample subnets,
# count FLOPs, export. Training configs build on the same model file.
_base_ = ['../_base_/models/ofa_mbv3_w10.py']

default_scope = 'mmofa'
