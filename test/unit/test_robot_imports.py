"""What a robot imports: the controller node, the launch resolution and every installed task's
definition load without torch, ncps, onnx or mujoco (those are for training and
simulation; a robot needs numpy, onnxruntime, pyyaml and ROS 2 only)."""
import json
import subprocess
import sys

HEAVY = ('torch', 'ncps', 'onnx', 'mujoco')

PROBE = f'''
import json, sys
import liquid_control.nodes.controller_node
import liquid_control.bringup.controller_launch
import liquid_control.bringup.sim_launch
from liquid_control.tasks import get_task, task_names
tasks = [get_task(name) for name in task_names()]
print(json.dumps({{'tasks': [t.name for t in tasks],
                  'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))
'''


def test_the_robot_side_never_imports_training_or_simulation():
    out = subprocess.run([sys.executable, '-c', PROBE], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert {'cartpole', 'diffdrive'} <= set(result['tasks'])
    assert result['heavy'] == []
