"""Helpers of the small node's functional tests."""


def assert_equal(thing1, thing2, *args):
    """Fails unless all arguments are equal."""
    if thing1 != thing2 or any(thing1 != arg for arg in args):
        raise AssertionError("not(%s)" % " == ".join(str(arg) for arg in (thing1, thing2) + args))


def assert_greater_than(thing1, thing2):
    if thing1 <= thing2:
        raise AssertionError("%s <= %s" % (thing1, thing2))
