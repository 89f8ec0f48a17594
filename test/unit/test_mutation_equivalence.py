"""An argued-equivalent mutant stays argued only while its name still means the change the
argument was made for."""
from liquid_control_tools.reliability import mutation

DIFF = '''--- a.py
+++ b.py
@@ -1,2 +1,2 @@
-    return np.asarray(data, dtype=np.float64)
+    return np.asarray(data, dtype=None)
'''


def test_an_argument_applies_to_the_change_it_names_only(monkeypatch):
    monkeypatch.setattr(mutation, 'EQUIVALENT', {'m.x_f__mutmut_1': ('dtype=None', 'floats')})
    assert mutation.equivalence('m.x_f__mutmut_1', DIFF) == 'floats'
    moved = DIFF.replace('dtype=None', 'dtype=np.float32')
    assert mutation.equivalence('m.x_f__mutmut_1', moved) is None
    assert mutation.equivalence('m.x_f__mutmut_2', DIFF) is None
    # The removed line does not count: only what the mutant wrote.
    removed_only = DIFF.replace('+    return np.asarray(data, dtype=None)', '+    pass')
    assert mutation.equivalence('m.x_f__mutmut_1', removed_only) is None
