"""Launch-system glue for the launch files (imports launch; only launch/*.py import this):
a node the others depend on ends the launch when it exits unasked, with the reason logged,
instead of leaving the rest running without it."""
from launch.actions import LogInfo, Shutdown

from .sim_launch import exit_ends_launch_reason


def end_launch_on_exit(node):
    """on_exit callable for launch_ros.actions.Node: `node` names it in the log."""
    def on_exit(event, context):
        if context.is_shutdown:          # stopped by Ctrl-C or another node's exit
            return None
        reason = exit_ends_launch_reason(node, event.returncode)
        return [LogInfo(msg=reason), Shutdown(reason=reason)]
    return on_exit
