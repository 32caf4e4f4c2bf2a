from .mobilenet_v3_population import (MobileNetV3Population,
                                      MobileNetV3PopulationCodec)
from .mobilenet_v3_subnet import (SUBNET_FORMATS, MobileNetV3SearchSpace,
                                  MobileNetV3Subnet, detect_format,
                                  dump_mobilenet_v3_subnet, expanded_width,
                                  parse_mobilenet_v3_subnet, se_mid_channels)
from .population import Population, PopulationCodec
from .resnet_subnet import (RESNET_SUBNET_FORMATS, ResNetSearchSpace,
                            ResNetSubnet, bottleneck_width, dump_resnet_subnet,
                            parse_resnet_subnet)
from .subnet_base import (StagedSearchSpace, SubnetError, check_resolution,
                          read_subnet_file, write_subnet_file)

__all__ = [
    'SUBNET_FORMATS', 'MobileNetV3SearchSpace', 'MobileNetV3Subnet',
    'SubnetError', 'check_resolution', 'detect_format',
    'dump_mobilenet_v3_subnet', 'expanded_width', 'parse_mobilenet_v3_subnet',
    'read_subnet_file', 'write_subnet_file', 'MobileNetV3Population',
    'MobileNetV3PopulationCodec', 'RESNET_SUBNET_FORMATS', 'ResNetSearchSpace',
    'ResNetSubnet', 'bottleneck_width', 'dump_resnet_subnet',
    'parse_resnet_subnet', 'StagedSearchSpace', 'se_mid_channels',
    'Population', 'PopulationCodec'
]
from .resnet48_subnet import (RESNET48_BASE_CHANNELS, RESNET48_STAGE_STRIDES,
                              RESNET48_SUBNET_FORMATS, TRACK_CHANNEL_RATIOS,
                              TRACK_DEPTHS, ResNet48SearchSpace,
                              ResNet48Subnet, channel_width,
                              dump_resnet48_subnet, has_downsample,
                              parse_resnet48_subnet)

__all__ += [
    'RESNET48_BASE_CHANNELS', 'RESNET48_STAGE_STRIDES', 'has_downsample',
    'RESNET48_SUBNET_FORMATS', 'TRACK_CHANNEL_RATIOS', 'TRACK_DEPTHS',
    'ResNet48SearchSpace', 'ResNet48Subnet', 'channel_width',
    'dump_resnet48_subnet', 'parse_resnet48_subnet'
]
from .resnet48_population import ResNet48PopulationCodec  # noqa: E402
from .resnet_population import ResNetPopulationCodec  # noqa: E402

__all__ += ['ResNetPopulationCodec', 'ResNet48PopulationCodec']
from .mobilenet_v3_subnet import MOBILENET_V3_SUBNETS  # noqa: E402
from .resnet48_subnet import RESNET48_SUBNETS  # noqa: E402
from .resnet_subnet import RESNET_SUBNETS  # noqa: E402
from .subnet_base import SubnetFormats  # noqa: E402

__all__ += [
    'SubnetFormats', 'MOBILENET_V3_SUBNETS', 'RESNET_SUBNETS',
    'RESNET48_SUBNETS'
]
