"""tools/gpu_check.sh, ready for the first GPU: its CPU dry run (tiny
sizes) runs every part and writes the report."""
import json

from helpers import run_tool


def test_gpu_check_dry_run_writes_the_report(tmp_path):
    result = run_tool(
        'bash', 'tools/gpu_check.sh', '--dry-run', tmp_path, timeout=600)
    log = result.stdout + result.stderr
    assert 'CUDA tests: exit 0' in log
    assert 'skipped' in (tmp_path / 'cuda_tests.log').read_text()
    report = json.loads((tmp_path / 'report.json').read_text())
    assert report['environment']['device'] == 'cpu'
    assert {
        n: p['status']
        for n, p in report['parts'].items()
    } == {
        'ps_step': 'pass',
        'subnet_step': 'pass',
        'subnet_eval': 'pass',
        'bn_recalibration': 'pass',
        'compile': 'pass',
        'latency_tables': 'pass'
    }
    rows = report['parts']['ps_step']['rows']
    assert [r['layout'] for r in rows] == ['contiguous', 'channels_last']
    assert all(r['mmofa_images_per_s'] > 0 for r in rows)
    assert report['parts']['compile']['rows'][0]['compiled_ms'] > 0
    # The CPU runtimes are measured; TensorRT is named as missing here.
    tables = report['parts']['latency_tables']['rows']
    assert [r['measured'] for r in tables[:2]] == ['yes', 'yes']
    assert all(r['mean_ms'] > 0 and r['corrected_mape'] >= 0
               for r in tables[:2])
    assert tables[2] == dict(
        runtime='tensorrt',
        measured="no: --runtime tensorrt runs on GPUs: --device 'cpu' must "
        'be cuda')
    markdown = (tmp_path / 'report.md').read_text()
    assert '## ps_step: pass' in markdown and '## compile: pass' in markdown
