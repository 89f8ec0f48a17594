"""`liquid-control train --from-bag`: a model learned from recorded bags only, validated on
recordings it did not see, exported under the contract with a card that names its data; bad
input leaves one line and no file."""
import json
from pathlib import Path

import numpy as np
import pytest

from liquid_control.cli.train import main as train_main
from liquid_control.runtime import load_controller
from liquid_control.training.from_bag import split_by_recording, train_from_bags

from bag_factory import write_bag, run_messages, write_runs

pytestmark = pytest.mark.slow   # seconds each (processes, training): not in the fast loop

CONFIG = Path(__file__).resolve().parents[2] / 'config' / 'cartpole.yaml'
ANGLE = 'cart_to_pole.position'


@pytest.fixture(scope='module')
def bags(tmp_path_factory):
    return write_runs(tmp_path_factory.mktemp('bags'), 6, seconds=8.0)


@pytest.fixture(scope='module')
def trained(bags, tmp_path_factory):
    out = tmp_path_factory.mktemp('out')
    report = train_from_bags([str(b) for b in bags], CONFIG, 'gru', out_dir=out, name='robot',
                             angles=(ANGLE,), seed=3, epochs=40, hidden=16, batch=2,
                             run_dir=out / 'runs', log=lambda *_: None)
    return out, report


def test_the_model_learns_the_recorded_law_on_unseen_recordings(trained, bags):
    out, report = trained
    session = load_controller(out / 'robot_gru.onnx')
    m = session.metadata
    assert m.task == 'robot' and m.arch == 'gru' and m.seed == 3
    assert tuple(m.obs_names) == ('slider_to_cart.position', 'slider_to_cart.velocity',
                                  'cart_to_pole.position', 'cart_to_pole.velocity')
    assert (tuple(m.action_low), tuple(m.action_high)) == ((-30.0,), (30.0,))
    assert m.nominal_dt == pytest.approx(0.02, rel=0.05)
    # Held out by recording: whole bags, named, none of them trained on.
    held = report['validation_bags']
    assert held and set(held) <= {str(b) for b in bags} and len(held) < len(bags)
    assert report['train_commands'] + report['validation_commands'] == \
        sum(b['used'] for b in report['bags'])
    # Learned: the exported file's error on the held-out runs is far below the best
    # constant prediction's (the commands' std there), where a model that learned nothing is.
    error = report['validation_rmse']['slider_to_cart.effort']
    assert error < 0.3 * report['validation_std']['slider_to_cart.effort']
    assert len(report["history"]) == 40 and 1 <= report["best_epoch"] <= 40


def test_the_card_names_the_data_and_the_validation_error(trained, bags):
    out, report = trained
    card = (out / 'robot_gru.md').read_text()
    for bag in report['bags']:
        for name, digest in bag['files'].items():
            assert digest in card and len(digest) == 64
        assert bag['path'] in card
    assert '/joint_states' in card and '/effort_controller/commands' in card
    assert f"{report['validation_rmse']['slider_to_cart.effort']:.4g}" in card
    assert f"{report['validation_std']['slider_to_cart.effort']:.4g}" in card
    assert report['config_sha256'] in card
    # The recorded sha256 on the card is the file's (the node checks it when present).
    assert load_controller(out / 'robot_gru.onnx').file_sha256 in card
    png = out / 'robot_gru_validation.png'
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    saved = json.loads((out / 'runs' / 'robot_gru.json').read_text())
    assert saved['validation_rmse'] == report['validation_rmse']
    assert not [p for p in out.iterdir() if p.name.startswith('.')]   # no scratch left


def test_training_is_reproducible_by_seed(bags, tmp_path):
    def weights(folder, seed):
        train_from_bags([str(b) for b in bags], CONFIG, 'gru', out_dir=tmp_path / folder,
                        name='robot', angles=(ANGLE,), seed=seed, epochs=3, hidden=16,
                        log=lambda *_: None)
        return load_controller(tmp_path / folder / 'robot_gru.onnx').metadata.weights_sha256

    first = weights('a', 3)
    assert weights('b', 3) == first
    assert weights('c', 4) != first


def test_one_bag_is_split_by_time_not_by_random_steps(bags):
    from liquid_control.training.bag_dataset import read_mapping, read_recording
    record = read_recording(bags[0], read_mapping(CONFIG))
    train, val, held = split_by_recording([record], 0.25, np.random.default_rng(0))
    total = record.used
    assert sum(map(len, val)) == round(0.25 * total) and held == [f'{bags[0]} (final part)']
    whole = record.sequences[0]
    np.testing.assert_array_equal(np.concatenate([train[0].action, val[0].action]),
                                  whole.action)


def _cli(capsys, *argv):
    code = train_main(list(map(str, argv)))
    return code, capsys.readouterr().err.strip()


def test_cli_trains_from_bags(capsys, bags, tmp_path):
    code, err = _cli(capsys, '--from-bag', *bags, '--config', CONFIG, '--arch', 'cfc',
                     '--angle', ANGLE, '--out', tmp_path / 'out', '--runs', tmp_path / 'runs',
                     '--quick')
    assert code == 0, err
    assert load_controller(tmp_path / 'out' / 'cartpole_cfc.onnx').metadata.arch == 'cfc'


@pytest.mark.parametrize('case', ['no config', 'missing topic', 'too few', 'bad angle',
                                  'no arch', 'corrupt'])
def test_cli_bad_input_gives_one_line_and_no_model(capsys, bags, tmp_path, case):
    out = tmp_path / 'out'
    args = ['--from-bag', *bags, '--config', CONFIG, '--arch', 'gru', '--out', out,
            '--runs', tmp_path / 'runs', '--quick']
    expected = {
        'no config': '--from-bag needs --config',
        'missing topic': 'no topic /joint_states',
        'too few': 'too few samples',
        'bad angle': '--angle pole: not an observation',
        'no arch': '--arch is required with --from-bag',
        'corrupt': 'cannot read the bag',
    }[case]
    if case == 'no config':
        args.remove('--config')
        args.remove(CONFIG)
    elif case == 'missing topic':
        only_commands = [m for m in run_messages(1) if m[0] != '/joint_states']
        args[1:1 + len(bags)] = [write_bag(tmp_path / 'nojs', only_commands), *bags]
    elif case == 'too few':
        args[1:1 + len(bags)] = [write_bag(tmp_path / 'short', run_messages(1, seconds=1.0)),
                                 write_bag(tmp_path / 'short2', run_messages(2, seconds=1.0))]
    elif case == 'bad angle':
        args += ['--angle', 'pole']
    elif case == 'no arch':
        args.remove('--arch')
        args.remove('gru')
    elif case == 'corrupt':
        broken = write_bag(tmp_path / 'broken', run_messages(1))
        mcap = next(broken.glob('*.mcap'))
        mcap.write_bytes(b'\x89MCAP0\r\n' + bytes(500))
        args[1:1 + len(bags)] = [*bags, broken]
    code, err = _cli(capsys, *args)
    assert code == 2
    assert expected in err and len(err.splitlines()) == 1, err
    assert not out.exists() or not any(out.iterdir())
