"""`[output] dims` for the .npy layout: the names and sizes of each array's own dimensions,
and which arrays are their dimension's coordinate. The store of `arrays = "zarr"` is built by
the same rules, with the same messages (src/store/dims.rs), so both layouts open as one
Dataset (see docs/output.md, "Array dimensions")."""


def varying_note(name):
    """Why array `name` is not the coordinate of dimension `name`, and what to do."""
    return (
        f"`{name}` is not the same in every done task (an adaptive solver's steps?), so it cannot be the "
        f"coordinate of dimension `{name}`: it is a data variable, and that dimension is called `{name}_step` "
        f"in every array along it; for `{name}` as a coordinate, return the same `{name}` from every task "
        f"(e.g. solve_ivp's `t_eval`), or give the dimension another name in [output] dims, "
        f'e.g. `c = ["step"], {name} = ["step"]`'
    )


def shorter_note(name, other):
    """Why array `name` is not the coordinate of dimension `name`: `other` is longer along it."""
    return (
        f"`{name}` is shorter than `{other}`, which runs along dimension `{name}`, so it cannot be that "
        f"dimension's coordinate: it is a data variable, and that dimension is called `{name}_step` in every "
        f"array along it; give `{other}` the length of `{name}`, or give its dimension another name in "
        f"[output] dims"
    )


def plan(found, dims, done):
    """Plans the arrays `found` ({name: ({row: ndarray}, largest shape)}) of a sweep with
    `done` done tasks, given the manifest's `dims` ({name: [dimension names]}).

    Returns (own, coords, notes, mismatched): own = {name: (dimension names, sizes)}, every
    array along a dimension padded to the longest; coords = {name: float64 values} for the
    arrays that are their dimension's coordinate (every done task returned them alike);
    notes for the user; mismatched = [(name, shape, given)] for arrays whose number of
    dimensions is not the length of their `dims` entry.
    """
    import numpy as np

    own, notes, mismatched = {}, [], []
    for name in sorted(found):
        shape = list(found[name][1])
        given = dims.get(name)
        names = [f"{name}_dim{k}" for k in range(len(shape))]
        if given is not None and len(given) != len(shape):
            mismatched.append((name, tuple(shape), list(given)))
        elif given is not None:
            names = list(given)
        own[name] = (names, shape)
    coords, renamed = {}, {}
    for name in sorted(found):
        names, shape = own[name]
        if names != [name]:
            continue
        arrays = found[name][0]
        longer = next(
            (
                other
                for other, (ns, sizes) in sorted(own.items())
                if other != name and any(d == name and size > shape[0] for d, size in zip(ns, sizes))
            ),
            None,
        )
        values, same = None, longer is None and len(arrays) == done
        for a in arrays.values() if same else ():
            a = np.asarray(a, dtype=np.float64)
            if list(a.shape) != shape or (values is not None and a.tobytes() != values.tobytes()):
                same = False
                break
            values = a if values is None else values
        if same and values is not None:
            coords[name] = values
        else:
            notes.append(shorter_note(name, longer) if longer else varying_note(name))
            renamed[name] = f"{name}_step"
    own = {n: ([renamed.get(d, d) for d in ns], sizes) for n, (ns, sizes) in own.items()}
    size = {}
    for ns, sizes in own.values():
        for d, s in zip(ns, sizes):
            size[d] = max(size.get(d, 0), s)
    own = {n: (ns, [size[d] for d in ns]) for n, (ns, _) in own.items()}
    return own, coords, notes, mismatched
