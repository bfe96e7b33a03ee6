"""Checks that the store of one sweep (argv[1]) reads as the .npy layout of the same sweep
(argv[2]) does through sweep.open: dimensions, coordinates and values of every variable.
With argv[3] == "missing", also that the tasks not done are missing in the store."""
import sys
import warnings

warnings.simplefilter("error")
import numpy as np
import xarray as xr
import zarr

z, n = sys.argv[1], sys.argv[2]
import sweep

ds = xr.open_zarr(z + "/store.zarr")
assert zarr.open_group(z + "/store.zarr", mode="r").metadata.zarr_format == 3
assert sweep.open(z).sizes == ds.sizes
dn = sweep.open(n)
assert dict(ds.sizes) == dict(dn.sizes), (ds.sizes, dn.sizes)
assert set(ds.coords) == set(dn.coords), (set(ds.coords), set(dn.coords))
for c in dn.coords:
    assert ds[c].dims == dn[c].dims, c
    np.testing.assert_array_equal(ds[c].values, dn[c].values, err_msg=c)
assert set(ds.data_vars) == set(dn.data_vars), (set(ds.data_vars), set(dn.data_vars))
for v in dn.data_vars:
    assert ds[v].dims == dn[v].dims, (v, ds[v].dims, dn[v].dims)
    if v in ("task", "status"):
        assert ds[v].values.tolist() == dn[v].values.tolist(), v
    else:
        assert ds[v].dtype.kind == dn[v].dtype.kind or ds[v].dtype.kind in "f", v
        np.testing.assert_array_equal(ds[v].values, dn[v].values, err_msg=v)
if len(sys.argv) > 3:
    missing = (ds["status"] != "done").values
    assert missing.any() and not missing.all()
    for v in ds.data_vars:
        if ds[v].dtype.kind == "f":
            assert np.isnan(ds[v].values[missing]).all(), v
print("same")
