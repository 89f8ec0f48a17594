"""Train a controller from recorded rosbag2 runs: no simulator, no expert, only the bags.

    from liquid_control.training.from_bag import train_from_bags
    train_from_bags(['run1', 'run2', ...], 'my_robot.yaml', 'cfc', out_dir='models')

The data comes from training/bag_dataset.py (the node's own observation code on the node's
parameters file). Validation is held out by recording: whole bags (or, from a single bag, its
final stretch), never random steps, so the error reported is on runs the model has not seen.
The model is trained by behaviour cloning (training/bc.py) on windows of the recorded
sequences, validated open loop after every epoch (the recorded observations and dt in, the
error of each action against the recorded command out), and the epoch with the lowest
validation error is exported under the model contract. Nothing is written until every bag has
been read and the model trained; the files appear together at the end.
"""
from __future__ import annotations

import dataclasses
import json
import math
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from liquid_control.nets import Policy, count_params
from liquid_control.runtime.integrity import forget_records
from liquid_control.runtime.session import file_sha256

from .bag_dataset import BagError, Sequence, read_mapping, read_recording
from .bc import Trainer, pad
from .train import seed_everything

MIN_TRAIN_SAMPLES = 500      # commands; fewer cannot fit even a small recurrent network
MIN_VALIDATION_SAMPLES = 50


@dataclass
class BagConfig:
    hidden: int | None = None       # cell width; None = nets.DEFAULT_UNITS[arch]
    epochs: int = 150
    batch: int = 8                  # training windows per gradient batch
    window_s: float = 10.0          # training windows cut from the sequences, seconds
    chunk: int = 50                 # TBPTT length in ticks
    lr: float = 3e-3
    lr_final: float = 3e-4
    obs_noise: float = 0.02         # augmentation: fraction of each observation's std
    validation: float = 0.2         # share of the commands held out, by recording
    threads: int = 1


@dataclass(frozen=True)
class BagSpec:
    """What the Policy needs to know of the robot, taken from the parameters file."""

    name: str
    obs_names: tuple
    angle_obs: tuple
    action_names: tuple
    action_low: tuple
    action_high: tuple
    nominal_dt: float

    @property
    def n_obs(self):
        return len(self.obs_names)

    @property
    def n_act(self):
        return len(self.action_names)


def split_by_recording(records, fraction, rng):
    """(training sequences, validation sequences, validation bag paths).

    Whole bags are held out, drawn in a seeded order until `fraction` of the commands is
    reached (at least one bag, never all). From a single bag, its last `fraction` of the
    commands, cut at a sequence boundary or inside one, is held out."""
    if len(records) == 1:
        sequences = records[0].sequences
        total = sum(len(s) for s in sequences)
        keep = total - max(int(round(fraction * total)), 1)
        train, val = [], []
        for s in sequences:
            take = min(len(s), max(keep, 0))
            keep -= take
            if take:
                train.append(_slice(s, 0, take))
            if take < len(s):
                val.append(_slice(s, take, len(s)))
        return train, val, [records[0].path + ' (final part)']
    order = rng.permutation(len(records))
    total = sum(r.used for r in records)
    held, count = [], 0
    for i in order[:-1]:
        if held and count >= fraction * total:
            break
        held.append(int(i))
        count += records[i].used
    train = [s for i, r in enumerate(records) if i not in held for s in r.sequences]
    val = [s for i in sorted(held) for s in records[i].sequences]
    return train, val, [records[i].path for i in sorted(held)]


def _slice(seq, start, stop):
    dt = seq.dt[start:stop].copy()
    return Sequence(bag=seq.bag, start_s=seq.start_s + float(seq.dt[1:start + 1].sum()),
                    obs=seq.obs[start:stop], dt=dt, action=seq.action[start:stop])


def windows(sequences, length):
    """Cut sequences into pieces of at most `length` ticks (the last piece of each keeps the
    remainder when it is at least a quarter window)."""
    out = []
    for s in sequences:
        for start in range(0, len(s), length):
            stop = min(start + length, len(s))
            if stop - start >= max(length // 4, 2) or start == 0:
                out.append(_slice(s, start, stop))
    return out


def open_loop(policy, sequences):
    """Predicted actions [B, T, n_act] and mask for the sequences, each from a zero state."""
    with torch.no_grad():
        obs, dt, _, mask = pad(sequences, range(len(sequences)))
        actions, _ = policy.unroll(obs, dt)
    return actions.numpy(), mask.numpy()


def action_errors(predicted, sequences, mask):
    """RMSE per action in its own units over the valid ticks."""
    _, _, target, _ = pad(sequences, range(len(sequences)))
    err = (predicted - target.numpy()) ** 2 * mask
    return np.sqrt(err.sum((0, 1)) / mask.sum())


def session_predictions(session, sequence):
    """The exported file stepped through the runtime along one recorded sequence."""
    session.reset()
    return np.array([session.step(o, float(d)) for o, d in zip(sequence.obs, sequence.dt[:, 0])])


def angle_std(values):
    """Spread of an angle on the circle (the raw value may wind)."""
    c, s = np.cos(values).mean(), np.sin(values).mean()
    return math.sqrt(max(-2.0 * math.log(max(math.hypot(c, s), 1e-12)), 0.0))


def train_from_bags(bags, config_file, arch, out_dir='models', name=None, angles=(), seed=0,
                    namespace='', time_base='auto', run_dir=None, log=print, **overrides):
    """Read the bags, train `arch`, export `<out_dir>/<name>_<arch>.onnx` with its card and
    validation plot. Returns the report. BagError/ConfigError (nothing written) when the
    input cannot make a model."""
    cfg = dataclasses.replace(BagConfig(), **overrides)
    mapping = read_mapping(config_file, namespace)
    name = name or Path(config_file).stem
    unknown = [a for a in angles if a not in mapping.obs_names]
    if unknown:
        raise BagError(f'--angle {", ".join(unknown)}: not an observation of {config_file} '
                       f'({", ".join(mapping.obs_names)})')
    if not bags:
        raise BagError('no bags given')
    started, cpu_started = time.perf_counter(), time.process_time()
    records = []
    for bag in bags:
        record = read_recording(bag, mapping, time_base)
        log(f'{record.path}: {record.used} of {record.commands} commands in '
            f'{len(record.sequences)} sequence(s) over {record.span_s:.1f} s (time from '
            f'{record.time_base})' + ''.join(f'; {n} {why}' for why, n in record.skipped.items())
            + ''.join(f'; {n} message(s) rejected on {t} ({why})'
                      for t, (n, why) in record.rejected.items()))
        records.append(record)
    rng = seed_everything(seed, cfg.threads)
    train_seqs, val_seqs, val_bags = split_by_recording(records, cfg.validation, rng)
    n_train, n_val = sum(map(len, train_seqs)), sum(map(len, val_seqs))
    if n_train < MIN_TRAIN_SAMPLES or n_val < MIN_VALIDATION_SAMPLES:
        raise BagError(f'too few samples: {n_train} commands to train on and {n_val} to '
                       f'validate on (at least {MIN_TRAIN_SAMPLES} and {MIN_VALIDATION_SAMPLES}'
                       ' are needed); record more runs')
    dts = np.concatenate([s.dt[1:, 0] for s in train_seqs + val_seqs])
    nominal_dt = float(np.median(dts)) if dts.size else mapping.control_period_s
    if abs(nominal_dt - mapping.control_period_s) > 0.2 * mapping.control_period_s:
        log(f'note: the recorded commands came every {nominal_dt:.4g} s (median), '
            f'{config_file} runs the node at {1 / mapping.control_period_s:g} Hz')
    spec = BagSpec(name=name, obs_names=mapping.obs_names, angle_obs=tuple(angles),
                   action_names=mapping.action_names, action_low=tuple(mapping.low.tolist()),
                   action_high=tuple(mapping.high.tolist()), nominal_dt=nominal_dt)
    policy = Policy(spec, arch, hidden=cfg.hidden)
    all_obs = np.concatenate([s.obs for s in train_seqs])
    policy.fit_normaliser(all_obs)
    spread = np.array([angle_std(all_obs[:, i]) if n in angles else all_obs[:, i].std()
                       for i, n in enumerate(spec.obs_names)])
    trainer = Trainer(policy, lr=cfg.lr, chunk=cfg.chunk, batch=cfg.batch,
                      obs_noise=(cfg.obs_noise * spread).astype(np.float32))
    pieces = windows(train_seqs, max(int(round(cfg.window_s / nominal_dt)), cfg.chunk))
    batches = math.ceil(len(pieces) / cfg.batch)
    log(f'{name}_{arch}: {count_params(policy)} parameters; training on {n_train} commands '
        f'({len(pieces)} windows), validating on {n_val} from {len(val_bags)} recording(s); '
        f'nominal dt {nominal_dt:.4g} s')
    history, best = [], (math.inf, None, 0)
    width = max(len(n) for n in spec.action_names)
    for epoch in range(1, cfg.epochs + 1):
        trainer.set_lr(cfg.lr * (cfg.lr_final / cfg.lr) ** ((epoch - 1) / max(cfg.epochs - 1, 1)))
        loss = trainer.fit(pieces, batches, rng, desc=f'epoch {epoch}/{cfg.epochs}')
        predicted, mask = open_loop(policy, val_seqs)
        errors = action_errors(predicted, val_seqs, mask)
        score = float(np.mean(errors / (mapping.high - mapping.low)))  # comparable across units
        history.append({'epoch': epoch, 'loss': loss, 'val_rmse': errors.tolist()})
        if score < best[0]:
            best = (score, {k: v.clone() for k, v in policy.state_dict().items()}, epoch)
        log(f'  epoch {epoch:3d}/{cfg.epochs}  loss {loss:.4f}  validation RMSE '
            + '  '.join(f'{n:>{width}s} {e:.4g}' for n, e in zip(spec.action_names, errors))
            + ('  *' if best[2] == epoch else ''))
    policy.load_state_dict(best[1])
    policy.eval()
    train_seconds = time.perf_counter() - started
    train_cpu_seconds = time.process_time() - cpu_started
    report = {
        'name': name, 'arch': arch, 'seed': seed, 'cell': type(policy.cell).__name__,
        'n_params': count_params(policy), 'config_file': str(config_file),
        'config_sha256': file_sha256(config_file), 'namespace': namespace,
        'bags': [_bag_entry(r) for r in records], 'validation_bags': val_bags,
        'train_commands': n_train, 'validation_commands': n_val, 'windows': len(pieces),
        'nominal_dt': nominal_dt, 'angles': list(angles), 'epochs': cfg.epochs,
        'best_epoch': best[2], 'history': history, 'grad_steps': trainer.steps,
        'config': dataclasses.asdict(cfg), 'train_seconds': train_seconds,
        'train_cpu_seconds': train_cpu_seconds,
        'observations': [{'name': s.name, 'topic': mapping.topic(s.topic), 'type': s.msg_type,
                          'fields': list(s.fields), 'select': list(s.select),
                          'path_topic': mapping.topic(s.path_topic) if s.path_topic else ''}
                         for s in mapping.sources],
        'command': {'topic': mapping.topic(mapping.sink.topic), 'type': mapping.sink.msg_type,
                    'names': list(spec.action_names)},
    }
    publish(policy, spec, val_seqs, report, Path(out_dir), run_dir, log)
    return report


def _bag_entry(record):
    return {'path': record.path, 'files': record.files, 'duration_s': record.duration_s,
            'span_s': record.span_s,
            'time_base': record.time_base, 'topics': {t: list(v) for t, v in
                                                       record.topics.items()},
            'commands': record.commands, 'used': record.used, 'clipped': record.clipped,
            'sequences': len(record.sequences), 'skipped': dict(record.skipped),
            'rejected': {t: list(v) for t, v in record.rejected.items()}}


def publish(policy, spec, val_seqs, report, out_dir, run_dir, log):
    """Export, validate the exported file through the runtime, plot, write the card; the
    files are made in a scratch folder and moved into out_dir together at the end."""
    from .card import write_bag_card
    from .export import export_policy
    from .validation_plot import plot_validation

    stem = f'{spec.name}_{report["arch"]}'
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=f'.{stem}.') as scratch:
        scratch = Path(scratch)
        session = export_policy(policy, scratch / f'{stem}.onnx', seed=report['seed'])
        predictions = [session_predictions(session, s) for s in val_seqs]
        stacked = np.concatenate(predictions)
        target = np.concatenate([s.action for s in val_seqs])
        report['validation_rmse'] = dict(zip(
            spec.action_names, np.sqrt(((stacked - target) ** 2).mean(0)).tolist()))
        report['validation_std'] = dict(zip(spec.action_names, target.std(0).tolist()))
        plot_validation(scratch / f'{stem}_validation.png', val_seqs, predictions, spec, stem)
        write_bag_card(scratch / f'{stem}.md', session=session, report=report)
        final = out_dir / f'{stem}.onnx'
        forget_records(final)
        for suffix in ('.onnx', '_validation.png', '.md'):
            shutil.move(str(scratch / f'{stem}{suffix}'), str(out_dir / f'{stem}{suffix}'))
    if run_dir is not None:
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        torch.save({'state_dict': policy.state_dict(), 'spec': dataclasses.asdict(spec),
                    'arch': report['arch'], 'hidden': report['config']['hidden'],
                    'seed': report['seed']}, run_dir / f'{stem}.pt')
        (run_dir / f'{stem}.json').write_text(json.dumps(report, indent=1, default=str))
    log(f'{out_dir / stem}.onnx: validation RMSE (exported file) '
        + ', '.join(f'{n} {e:.4g}' for n, e in report['validation_rmse'].items())
        + f'; trained in {report["train_seconds"]:.0f} s ({report["train_cpu_seconds"]:.0f} s '
        'CPU)')
