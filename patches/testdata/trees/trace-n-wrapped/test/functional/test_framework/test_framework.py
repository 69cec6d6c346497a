"""The base class of the small node's functional tests.

One of usdtkit's test trees: it has what a generated test skeleton may use
at this point of the framework's history, and nothing more.
"""

import logging
import os
import platform


class SkipTest(Exception):
    """Raised by a check when the test cannot run here."""

    def __init__(self, message):
        self.message = message


class BitcoinTestFramework:
    """A test: set_test_params, skip_test_if_missing_module and run_test."""

    def __init__(self):
        """Sets up a test; run it with main()."""
        self.nodes = []
        self.num_nodes = 1
        self.options = None
        self.log = logging.getLogger("TestFramework")

    def main(self):
        """Runs the test; a SkipTest ends it as skipped."""
        self.set_test_params()
        try:
            self.skip_test_if_missing_module()
        except SkipTest as e:
            self.log.warning("Test skipped: %s", e.message)
            return
        self.run_test()

    def set_test_params(self):
        raise NotImplementedError

    def skip_test_if_missing_module(self):
        pass

    def run_test(self):
        raise NotImplementedError

    def skip_if_no_wallet(self):
        """Skips the test when the node has no wallet."""
        raise SkipTest("the small node has no wallet")

    def skip_if_platform_not_posix(self):
        """Skips the test off POSIX systems."""
        if os.name != "posix":
            raise SkipTest("not on a POSIX system")

    def skip_if_no_python_bcc(self):
        """Skips the test when the bcc module cannot be imported."""
        try:
            import bcc  # noqa: F401
        except ImportError:
            raise SkipTest("no bcc")

    def skip_if_no_bitcoind_tracepoints(self):
        """Skips the test when the node was built without tracepoints."""
        if not self.is_usdt_compiled():
            raise SkipTest("built without tracepoints")

    def skip_if_no_bpf_permissions(self):
        """Skips the test when it may not load BPF programs."""
        if os.geteuid() != 0:
            raise SkipTest("not root")

    def skip_if_platform_not_linux(self):
        """Skips the test off Linux."""
        if platform.system() != "Linux":
            raise SkipTest("not on Linux")

    def is_usdt_compiled(self):
        return os.environ.get("ENABLE_USDT_TRACEPOINTS") == "true"
