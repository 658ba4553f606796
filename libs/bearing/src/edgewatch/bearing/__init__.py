"""edgewatch.bearing: rolling-bearing condition monitoring in numpy/scipy, no service wiring.

- :mod:`geometry`: defect frequencies (BPFO, BPFI, BSF, FTF) from the bearing geometry.
- :mod:`timedomain`, :mod:`spectrum`: the per-window features the features service publishes (time statistics,
  band energies, Randall's squared-envelope spectrum and its fault lines).
- :mod:`diagnose`: a window -> normal / inner / outer / ball verdict from the same envelope spectrum.
- :mod:`manifest`, :mod:`matfile`, :mod:`evaluate`, :mod:`cli`: ``edgewatch model eval cwru``.
"""
