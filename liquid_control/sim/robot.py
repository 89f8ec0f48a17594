"""Any robot from an MJCF file, as the simulator drives it: commands for its actuators held
between steps, whole physics steps, and the joint and body state a ROS simulator publishes.

`MujocoRobot` is the base of every task environment (sim/env.py) and, on its own, what
sim_node runs for an MJCF file without a task: /joint_states for every hinge and slide joint,
effort commands for the actuators in MJCF order (clipped to their ctrlrange where the model
limits it), the model's initial state (its first keyframe, if it has one) at each reset.
"""
from __future__ import annotations

import math
from pathlib import Path

import mujoco
import numpy as np

# Joints that have one coordinate, as JointState reports them (free and ball joints are a
# body's pose, published as odometry where a task wants it).
_SCALAR_JOINTS = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
_FREE_JOINT = int(mujoco.mjtJoint.mjJNT_FREE)


def load_mjcf(path, edit=None):
    """Compile the MJCF file at `path`; `edit(spec)` may change the MjSpec first."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f'MJCF file {path} does not exist')
    try:
        spec = mujoco.MjSpec.from_file(str(path))
    except Exception as exc:
        raise ValueError(f'{path}: not a valid MJCF model ({exc})') from None
    if edit is not None:
        edit(spec)
    return spec.compile()


class MujocoRobot:
    """A compiled MJCF model and its data; see the module docstring."""

    def __init__(self, mjcf, edit=None):
        self.mjcf = Path(mjcf)
        self.model = load_mjcf(self.mjcf, edit)
        self.data = mujoco.MjData(self.model)
        self.physics_dt = float(self.model.opt.timestep)
        model = self.model
        self.joint_names = tuple(model.joint(j).name for j in range(model.njnt)
                                 if int(model.jnt_type[j]) in _SCALAR_JOINTS)
        self.actuator_names = tuple(model.actuator(a).name or f'actuator_{a}'
                                    for a in range(model.nu))
        limited = model.actuator_ctrllimited.astype(bool)
        self.ctrl_low = np.where(limited, model.actuator_ctrlrange[:, 0], -np.inf)
        self.ctrl_high = np.where(limited, model.actuator_ctrlrange[:, 1], np.inf)
        self._joint_index = {}
        self._free_joints = {}
        self.last_dt = 0.0

    @property
    def time(self):
        return float(self.data.time)

    # -- joints and bodies ------------------------------------------------------------------
    def _addresses(self, names):
        """(qpos addresses, dof addresses) of the named scalar joints, cached per name list."""
        key = tuple(names)
        found = self._joint_index.get(key)
        if found is None:
            qpos, dof = [], []
            for name in key:
                joint = self.model.joint(name)          # KeyError for an unknown name
                qpos.append(int(joint.qposadr[0]))
                dof.append(int(joint.dofadr[0]))
            found = self._joint_index[key] = (np.array(qpos), np.array(dof))
        return found

    def joint_positions(self, names=None):
        return self.data.qpos[self._addresses(names or self.joint_names)[0]].copy()

    def joint_velocities(self, names=None):
        return self.data.qvel[self._addresses(names or self.joint_names)[1]].copy()

    def joint_efforts(self, names=None):
        """Generalised force the actuators apply at each joint (N or N m)."""
        return self.data.qfrc_actuator[self._addresses(names or self.joint_names)[1]].copy()

    def _free_joint(self, body):
        """(qpos address, dof address) of the free joint that carries `body`."""
        found = self._free_joints.get(body)
        if found is None:
            found = self._free_joints[body] = self._find_free_joint(body)
        return found

    def _find_free_joint(self, body):
        b = self.model.body(body).id
        for j in range(self.model.body_jntadr[b],
                       self.model.body_jntadr[b] + self.model.body_jntnum[b]):
            if int(self.model.jnt_type[j]) == _FREE_JOINT:
                return int(self.model.jnt_qposadr[j]), int(self.model.jnt_dofadr[j])
        raise ValueError(f'{self.mjcf}: body {body!r} has no free joint (planar odometry '
                         'reports a free-floating base)')

    def body_pose2d(self, body):
        """(x, y, yaw) of a free-floating body in the world, from the current state."""
        q = self.data.qpos
        a, _ = self._free_joint(body)
        w, qx, qy, qz = q[a + 3:a + 7]
        yaw = math.atan2(2.0 * (w * qz + qx * qy), 1.0 - 2.0 * (qy * qy + qz * qz))
        return float(q[a]), float(q[a + 1]), yaw

    def body_twist2d(self, body):
        """(speed along the body's x axis, yaw rate) of a free-floating body, as odometry
        reports them."""
        _, d = self._free_joint(body)
        _, _, yaw = self.body_pose2d(body)
        vx, vy = self.data.qvel[d], self.data.qvel[d + 1]          # world frame
        return float(math.cos(yaw) * vx + math.sin(yaw) * vy), float(self.data.qvel[d + 5])

    # -- stepping ---------------------------------------------------------------------------
    def advance(self, duration):
        """Integrate round(duration / physics_dt) steps (at least one); return the time
        actually advanced."""
        n_steps = max(int(round(duration / self.physics_dt)), 1)
        self._integrate(n_steps)
        self.last_dt = n_steps * self.physics_dt
        self._after_advance(self.last_dt)
        return self.last_dt

    def _integrate(self, n_steps):
        mujoco.mj_step(self.model, self.data, nstep=n_steps)

    def _after_advance(self, dt):
        """Update running metrics after each advance."""


class RobotEnv(MujocoRobot):
    """An MJCF robot without a task, as sim_node simulates it: the actions are the
    actuators' controls in MJCF order."""

    def __init__(self, mjcf):
        super().__init__(mjcf)
        if self.model.nu == 0:
            raise ValueError(f'{self.mjcf}: the model has no actuators to command')
        self.action_names = self.actuator_names
        self.action_low, self.action_high = self.ctrl_low, self.ctrl_high
        self.time_limit = math.inf

    def reset(self, rng):
        mujoco.mj_resetData(self.model, self.data)
        if self.model.nkey > 0:
            mujoco.mj_resetDataKeyframe(self.model, self.data, 0)
        mujoco.mj_forward(self.model, self.data)
        self.last_dt = 0.0

    def apply(self, action):
        self.data.ctrl[:] = np.clip(np.asarray(action, dtype=np.float64), self.ctrl_low,
                                    self.ctrl_high)

    def done(self):
        return False

    def metrics(self):
        return {'time': self.time}
