"""Where models are found: `model` is a file path, or a name such as `cartpole_cfc` looked up
in the model directories: any listed in LIQUID_CONTROL_MODEL_PATH, share/liquid_control/models
of the ROS install, the source tree's models/, then the folders installed packages register
under the entry point group `liquid_control.models` (a task package ships its models so:
`my_robot = "my_robot_task:MODELS"`, a path).

A name is only ever looked up in those configured directories: never in the working
directory, and a name cannot climb out of a directory (it is a plain file stem). Anything
else must be given explicitly as a path (containing a / or ending in .onnx).
"""
from __future__ import annotations

import os
import re
from importlib.metadata import entry_points
from pathlib import Path

from liquid_control.share import SOURCE_TREE, installed_share_dir

from .contract import ModelContractError

MODELS_GROUP = 'liquid_control.models'
MODEL_SUFFIX = '.onnx'
ENV_MODEL_PATH = 'LIQUID_CONTROL_MODEL_PATH'
MODEL_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')


def source_models_dir():
    """models/ of the source checkout this module was imported from (may not exist)."""
    return SOURCE_TREE / 'models'


def installed_models_dir():
    """share/liquid_control/models of the ament install, or None when not installed."""
    share = installed_share_dir()
    return share / 'models' if share is not None else None


def registered_model_dirs():
    """The model folders of installed packages (entry point group liquid_control.models).
    A registration that does not load is left out: `liquid-control tasks` reports it."""
    dirs = []
    for ep in entry_points(group=MODELS_GROUP):
        try:
            dirs.append(Path(ep.load()))
        except Exception:   # a broken package must not stop the lookup of other models
            continue
    return dirs


def model_dirs():
    """The directories searched for a model name, in order, existing ones only."""
    # Relative entries are ignored: they would depend on the working directory.
    dirs = [Path(p) for p in os.environ.get(ENV_MODEL_PATH, '').split(os.pathsep)
            if p and os.path.isabs(os.path.expanduser(p))]
    dirs = [d.expanduser() for d in dirs]
    dirs += [d for d in (installed_models_dir(), source_models_dir()) if d is not None]
    dirs += registered_model_dirs()
    seen, result = set(), []
    for d in dirs:
        key = d.resolve()
        if key not in seen and d.is_dir():
            seen.add(key)
            result.append(d)
    return result


def is_path_like(spec):
    return os.sep in spec or '/' in spec or spec.endswith(MODEL_SUFFIX)


def resolve_model(spec, dirs=None):
    """A model spec (path or name) -> an existing file Path; ModelContractError if none."""
    spec = str(spec).strip()
    if not spec:
        raise ModelContractError('<model>', 'empty model name')
    if is_path_like(spec):
        path = Path(spec).expanduser()
        if not path.is_file():
            raise ModelContractError(path, 'no such model file')
        return path
    if not MODEL_NAME.match(spec):
        raise ModelContractError(spec, 'not a model name (letters, digits, _ . - only); '
                                 'give a file as a path containing / or ending in .onnx')
    dirs = model_dirs() if dirs is None else [Path(d) for d in dirs]
    for d in dirs:
        candidate = d / (spec + MODEL_SUFFIX)
        if candidate.is_file():
            return candidate
    looked = ', '.join(str(d) for d in dirs) or 'no model directory exists'
    raise ModelContractError(spec, f'no model named {spec!r} (looked in {looked})')


def available_models(dirs=None):
    """Model names found in the model directories, sorted."""
    dirs = model_dirs() if dirs is None else [Path(d) for d in dirs]
    return sorted({p.stem for d in dirs for p in d.glob('*' + MODEL_SUFFIX)})
