"""Runs a command on a new pseudo-terminal, as its session leader in the terminal's foreground
process group (what a shell gives a job), and drives it like a person at the keyboard.

    python3 pty-drive.py '{"argv": [...], "steps": [...], "timeout": 20}'

Steps, in order: {"wait": "text"} (until the terminal has shown it) and {"send": "text"} (typed:
"\\u0003" is Ctrl-C, "\\u001a" Ctrl-Z, "\\u0004" Ctrl-D), {"sleep": seconds} (reading meanwhile). Then it reads until the command exits
and prints one JSON line: the terminal's output and the exit code or signal. A step that times
out ends the run with "timedOut" set, after killing the command's process group.

The command leads its session, so its process group is orphaned: the terminal's stop signals
(Ctrl-Z) are discarded there, as POSIX says. To test job control, run an interactive shell
(`bash -i`) as the command and type the command line into it, as a person would.
"""
import json
import os
import pty
import select
import signal
import sys
import time

spec = json.loads(sys.argv[1])
deadline = time.monotonic() + spec.get("timeout", 20)
pid, master = pty.fork()
if pid == 0:
    os.execvp(spec["argv"][0], spec["argv"])

output = b""
status = None


def pump(seconds):
    """Reads what the terminal shows for up to `seconds`; False at EOF."""
    global output
    ready, _, _ = select.select([master], [], [], seconds)
    if not ready:
        return True
    try:
        data = os.read(master, 65536)
    except OSError:
        return False
    if not data:
        return False
    output += data
    return True


def finish(timed_out):
    global status
    if timed_out:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if status is None:
        _, status = os.waitpid(pid, 0)
    while pump(0.05):
        pass
    result = {
        "output": output.decode("utf8", "replace"),
        "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "timedOut": timed_out,
    }
    print(json.dumps(result))
    sys.exit(0)


for step in spec["steps"]:
    if "wait" in step:
        while step["wait"].encode() not in output:
            if time.monotonic() > deadline or not pump(0.05):
                finish(True)
    elif "send" in step:
        os.write(master, step["send"].encode())
    elif "sleep" in step:
        end = time.monotonic() + step["sleep"]
        while time.monotonic() < end:
            pump(0.02)

while True:
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = st
        finish(False)
    if time.monotonic() > deadline:
        finish(True)
    pump(0.02)
