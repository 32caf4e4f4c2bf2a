# The OFA MobileNetV3 w1.2 supernet alone.
_base_ = ['../_base_/models/ofa_mbv3_w12.py']

default_scope = 'mmofa'
