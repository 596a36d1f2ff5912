"""SQLite writers of different Steward processes queue on a lock file beside the database."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from helpers import make_team

# Another process: can it take the writer lock right now? (It never waits.)
TRY_LOCK = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("busy")
else:
    print("free")
"""


def other_process_sees(lock_file: str) -> str:
    return subprocess.run([sys.executable, "-c", TRY_LOCK, lock_file], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_a_write_transaction_holds_the_lock_file_until_it_commits(sqlite_db):
    lock_file = str(sqlite_db.settings.sqlite_path) + "-lock"
    make_team(sqlite_db, "first")  # the lock file exists from the first write on
    assert other_process_sees(lock_file) == "free"
    with sqlite_db.session():
        assert other_process_sees(lock_file) == "busy"
        with sqlite_db.session():  # nested in one thread: no self-deadlock
            assert other_process_sees(lock_file) == "busy"
        assert other_process_sees(lock_file) == "busy"
    assert other_process_sees(lock_file) == "free"


def test_a_writer_of_another_process_waits_for_the_lock_to_be_released(sqlite_db):
    """The other process waits on the lock file (not in SQLite's busy handler) and gets
    it once the transaction here has committed."""
    lock_file = str(sqlite_db.settings.sqlite_path) + "-lock"
    make_team(sqlite_db, "first")
    waiter = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_RDWR)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print(time.time())\n"), lock_file], stdout=subprocess.PIPE, text=True)
    released = 0.0
    with sqlite_db.session():
        time.sleep(0.5)  # the other process is waiting by now
        released = time.time()
    took = float(waiter.communicate(timeout=30)[0])
    assert took >= released


def test_threads_of_one_process_take_turns(sqlite_db):
    order: list[str] = []
    inside = threading.Event()

    def second() -> None:
        inside.wait()
        with sqlite_db.session():
            order.append("second")

    thread = threading.Thread(target=second)
    thread.start()
    with sqlite_db.session():
        inside.set()
        time.sleep(0.2)
        order.append("first")
    thread.join(timeout=10)
    assert order == ["first", "second"]
