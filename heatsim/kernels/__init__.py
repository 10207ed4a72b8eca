"""Numerical kernels: pure functions on NumPy arrays, one physical process each.

Conventions (DESIGN.md, "Kernels"):

- Each kernel is ``@numba.njit(parallel=True, fastmath=False, cache=True)`` with an
  outer ``numba.prange`` loop (``parallel=True`` without ``prange`` runs serially).
- Arguments: input arrays first, then keyword-only scalars in SI units (the unit in
  the name: ``cell_size_m``, ``dt_s``), then a preallocated ``out`` array that is
  filled and returned. No allocation inside the time loop, no casting, no NaN
  handling, no xarray, no I/O, no globals; nothing here imports the rest of heatsim.
- Each kernel ``name`` has a plain-NumPy twin ``name_numpy`` in the same module:
  slow and obvious, used by the tests to prove the kernel right and by the
  benchmarks as the reference speed.
"""
