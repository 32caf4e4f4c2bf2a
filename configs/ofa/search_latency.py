# The search of search_flops.py under latency limits (ms per image, batch 1)
# measured on this machine: build the table first with
#   python tools/analysis/build_latency_table.py \
#       configs/ofa/ofa_mbv3_w10_supernet.py --out work_dirs/latency_cpu.json
# then
#   python tools/search.py configs/ofa/search_latency.py SUPERNET.pth
_base_ = ['./search_flops.py']

test_cfg = dict(
    constraints=[dict(latency=t) for t in (10, 15, 20, 25, 30)],
    latency_table='work_dirs/latency_cpu.json')
