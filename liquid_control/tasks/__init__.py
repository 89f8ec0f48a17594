"""Tasks: the Task interface (task.py), the registry of installed tasks (registry.py) and the
built-in tasks, cartpole/ and diffdrive/, which register like any third-party task package.

    from liquid_control.tasks import get_task
    task = get_task('cartpole')                    # or any installed task
    env = task.make_env({'pole_mass_scale': 1.3})  # needs mujoco
"""
from .registry import GROUP, TaskLoadError, UnknownTaskError, get_task, installed, task_names
from .task import Gazebo, HelperNode, PhysicsChange, Plot, Task, TaskDefinitionError

# The task the launch files and the demo use when none is named.
DEFAULT_TASK = 'cartpole'

__all__ = ['DEFAULT_TASK', 'GROUP', 'Gazebo', 'HelperNode', 'PhysicsChange', 'Plot', 'Task',
           'TaskDefinitionError', 'TaskLoadError', 'UnknownTaskError', 'get_task', 'installed',
           'task_names']
