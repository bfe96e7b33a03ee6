"""The trivial task of benches/peers/python_workers.sh."""


def square(x):
    return {"y": x * x}
